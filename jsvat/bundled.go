package jsvat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// The worker runs from one of two entry scripts in its directory:
//
//   - dist/worker.mjs, the bundle build.mjs makes of src/main.js and
//     everything it imports (npm ci runs the build): one file to read and
//     compile, which starts a worker about 150 ms sooner;
//   - src/main.js, the sources themselves, when there is no bundle, when
//     Options.Unbundled asks for them, or when the bundle was built from
//     other sources than those now in src/.
//
// The last case is why the bundle's first lines name the digest of the
// sources it was built from: a developer who edits src/ and forgets the
// rebuild gets the edited code (and a warning saying to rebuild), never
// the stale bundle in silence.
const (
	bundledEntry   = "dist/worker.mjs"
	unbundledEntry = "src/main.js"
	// digestMarker precedes the hex digest on the bundle's banner line
	// (build.mjs writes it).
	digestMarker = "src sha256 "
	// headLimit bounds how much of the bundle is read to find the banner:
	// it is on the first or second line (after a #! line).
	headLimit = 512
)

// entryChoice is the entry script a Runtime runs and why.
type entryChoice struct {
	path    string // absolute
	bundled bool
	// stale says, when set, why a bundle that exists is not used; the
	// Runtime logs it as a warning.
	stale string
}

// chooseEntry picks the worker's entry script in dir (absolute).
func chooseEntry(dir string, unbundled bool) entryChoice {
	src := entryChoice{path: filepath.Join(dir, filepath.FromSlash(unbundledEntry))}
	if unbundled {
		return src
	}
	dist := filepath.Join(dir, filepath.FromSlash(bundledEntry))
	want, err := bundleDigest(dist)
	switch {
	case os.IsNotExist(err):
		// Never built (npm ci --omit=dev, or a checkout without npm ci):
		// the sources are the worker, only slower to start.
		return src
	case err != nil:
		src.stale = fmt.Sprintf("%s: %v; running %s (rebuild with `npm run build --prefix %s`)", dist, err, unbundledEntry, dir)
		return src
	}
	have, err := sourceDigest(filepath.Join(dir, "src"))
	if err != nil {
		// The sources cannot be read either: src/main.js will fail to start
		// with Node's own error, which names the file.
		src.stale = fmt.Sprintf("digest of %s: %v", filepath.Join(dir, "src"), err)
		return src
	}
	if have != want {
		src.stale = fmt.Sprintf("%s was built from other sources than those in %s (edited since?); running %s: rebuild with `npm run build --prefix %s`",
			dist, filepath.Join(dir, "src"), unbundledEntry, dir)
		return src
	}
	return entryChoice{path: dist, bundled: true}
}

// bundleDigest reads the source digest from the banner of the bundle at
// path.
func bundleDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, headLimit)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return "", err
	}
	head = head[:n]
	i := bytes.Index(head, []byte(digestMarker))
	if i < 0 {
		return "", fmt.Errorf("no %q banner in its first %d bytes: not a bundle build.mjs made", digestMarker, headLimit)
	}
	rest := head[i+len(digestMarker):]
	if len(rest) < sha256.Size*2 {
		return "", fmt.Errorf("its banner's digest is cut short")
	}
	sum := string(rest[:sha256.Size*2])
	if _, err := hex.DecodeString(sum); err != nil {
		return "", fmt.Errorf("its banner's digest %q is not hex", sum)
	}
	return sum, nil
}

// sourceDigest is build.mjs's digest of dir: the sha256 of every file in
// it, in name order, each as its name, a NUL, its length in decimal, a
// NUL, and its bytes. Lengths are in it so that no two different file
// sets hash the same bytes.
func sourceDigest(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// Node's Array.prototype.sort on strings compares UTF-16 code units and
	// Go's sort.Strings bytes: the same order for the ASCII names src/ has.
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		h.Write([]byte(name + "\x00" + strconv.Itoa(len(data)) + "\x00"))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
