package identity

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var flagSeed = flag.Uint64("identity.seed", 0, "seed the test keys with this (0: from the clock); printed by every test that makes keys")

// seeded returns a reader of key material from a seed the test prints, so
// a failure with particular keys can be replayed with -identity.seed.
func seeded(t *testing.T) io.Reader {
	t.Helper()
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -identity.seed=%d)", seed, seed)
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	s[31] = byte(len(t.Name())) // a different key per test, from one seed
	copy(s[8:31], t.Name())
	return rand.NewChaCha8(s)
}

func TestParsePeerID(t *testing.T) {
	good := string(PeerIDOf(make([]byte, 32)))
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"a real id", good, false},
		{"empty", "", true},
		{"short", good[:63], true},
		{"long", good + "0", true},
		{"upper case", "A" + good[1:], true},
		{"not hex", "g" + good[1:], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePeerID(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadPeerID) {
					t.Fatalf("ParsePeerID(%q) = %q, %v; want ErrBadPeerID", tt.in, got, err)
				}
				return
			}
			if err != nil || string(got) != tt.in {
				t.Fatalf("ParsePeerID(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestLoadOrCreateKeepsTheKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.db.key")
	r := seeded(t)
	first, created, err := LoadOrCreate(path, r)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created %v, err %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	// A second start reads the same key, whatever randomness it is given.
	again, created, err := LoadOrCreate(path, r)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created %v, err %v", created, err)
	}
	if again.ID() != first.ID() || !bytes.Equal(again.PublicKey(), first.PublicKey()) {
		t.Fatalf("the key changed across a restart: %s then %s", first.ID(), again.ID())
	}
	if got := PeerIDOf(first.PublicKey()); got != first.ID() {
		t.Fatalf("ID %s is not the hash of the public key (%s)", first.ID(), got)
	}
	// No temporary file is left beside the key.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key", len(entries))
	}
}

func TestLoadRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	id, err := Generate(seeded(t))
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.key")
	if err := id.write(good); err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(good)
	write := func(name string, data []byte, mode fs.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"readable by others", write("world.key", keyPEM, 0o644)},
		{"readable by group", write("group.key", keyPEM, 0o640)},
		{"a symlink", link},
		{"a directory", dir},
		{"not PEM", write("garbage.key", []byte("not a key\n"), 0o600)},
		{"another PEM type", write("cert.key", bytes.Replace(keyPEM, []byte("PRIVATE KEY"), []byte("CERTIFICATE"), 2), 0o600)},
		{"a torn key", write("torn.key", keyPEM[:len(keyPEM)/2], 0o600)},
		{"data after the key", write("extra.key", append(append([]byte{}, keyPEM...), keyPEM...), 0o600)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			_, _, err := LoadOrCreate(tt.path, seeded(t))
			if !errors.Is(err, ErrBadKeyFile) {
				t.Fatalf("LoadOrCreate(%s) = %v, want ErrBadKeyFile", tt.name, err)
			}
			// Refused, never replaced: the host decides whether a kernel
			// may lose its identity.
			after, _ := os.ReadFile(tt.path)
			if !bytes.Equal(before, after) {
				t.Fatalf("LoadOrCreate rewrote a file it refused")
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
	if _, _, err := LoadOrCreate("", seeded(t)); !errors.Is(err, ErrBadKeyFile) {
		t.Fatalf("LoadOrCreate(\"\") = %v, want ErrBadKeyFile", err)
	}
	if KeyPath("") != "" || KeyPath("/x/k.db") != "/x/k.db.key" {
		t.Fatalf("KeyPath: %q, %q", KeyPath(""), KeyPath("/x/k.db"))
	}
}
