package actors_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The resume of a big store: many launched pageable vats on a file, a
// cap far below their number. Run with
//
//	go test -run '^$' -bench BenchmarkResumePageableVats -benchtime 5x ./actors/
//
// (-paging-vats and -paging-cap set the store's size and the cap, as for
// BenchmarkManyPageableVats; -resume-base keeps the launched store between
// runs, since launching 100,000 vats takes longer than resuming them).
var resumeBase = flag.String("resume-base", "", "BenchmarkResumePageableVats: the launched store to copy for each resume (built if missing; default: a temp file)")

// resumeChildEnv names the store a resume child opens
// (resumeChild); resumeCapEnv its cap.
const (
	resumeChildEnv = "KERNEL_ACTORS_RESUME_CHILD"
	resumeCapEnv   = "KERNEL_ACTORS_RESUME_CAP"
	// resumeProfileEnv, if set, names a file for the child's CPU profile
	// of the resume (pass it in the benchmark's environment).
	resumeProfileEnv = "KERNEL_ACTORS_RESUME_CPUPROFILE"
	// resumeOpenOnlyEnv makes the child only open the store and close it:
	// the floor of a resume, "opened <seconds> <peak RSS MiB>".
	resumeOpenOnlyEnv = "KERNEL_ACTORS_RESUME_OPEN_ONLY"
)

// BenchmarkResumePageableVats resumes a file store holding -paging-vats
// launched pageable vats under a cap of -paging-cap, each iteration in a
// fresh process (peak RSS is a process's) on a fresh copy of the store
// (a resume writes to it). It reports the medians over the iterations of
// the resume's wall time (actors.Start), the process's peak RSS, and the
// vats live right after; and, as the floor, the wall time and peak RSS of
// a process that only opens the same store.
func BenchmarkResumePageableVats(b *testing.B) {
	base := *resumeBase
	if base == "" {
		base = filepath.Join(b.TempDir(), "base.db")
	}
	if _, err := os.Stat(base); errors.Is(err, os.ErrNotExist) {
		buildResumeBase(b, base, *benchVats, *benchBatch)
	}
	var secs, peaks, lives, opens, openPeaks []float64
	for i := 0; i < b.N; i++ {
		// The floor first: opening the same store and nothing else, in a
		// process of its own.
		var open, openPeak float64
		child(b, base, true, "opened %g %g", &open, &openPeak)
		var s, peak, live float64
		child(b, base, false, "resumed %g %g %g", &s, &peak, &live)
		secs, peaks, lives = append(secs, s), append(peaks, peak), append(lives, live)
		opens, openPeaks = append(opens, open), append(openPeaks, openPeak)
		b.Logf("run %d: resume %.2f s, peak RSS %.0f MiB, %.0f live; the store's open alone %.2f s, peak RSS %.0f MiB",
			i, s, peak, live, open, openPeak)
	}
	b.ReportMetric(median(secs), "resume-s")
	b.ReportMetric(median(peaks), "peakRSS-MiB")
	b.ReportMetric(median(lives), "live")
	b.ReportMetric(median(opens), "open-s")
	b.ReportMetric(median(openPeaks), "openPeakRSS-MiB")
}

// child runs a resume child (or, with openOnly, one that only opens the
// store) on a fresh copy of base and scans what it prints into args.
func child(b *testing.B, base string, openOnly bool, format string, args ...any) {
	run := filepath.Join(b.TempDir(), "run.db")
	copyStore(b, base, run)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), resumeChildEnv+"="+run, resumeCapEnv+"="+strconv.Itoa(*benchCap))
	if openOnly {
		cmd.Env = append(cmd.Env, resumeOpenOnlyEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(b, err)
	_, err = fmt.Sscanf(strings.TrimSpace(string(out)), format, args...)
	require.NoError(b, err, "child said %q", out)
}

// median is the middle of xs (the mean of the two middles if even).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// resumeConfig is the config of both the launch and the resumes: group
// commit, as BenchmarkManyPageableVats.
func resumeConfig(path string, max int) actors.Config {
	return actors.Config{DBPath: path, Registry: idleRegistry(), MaxLiveVats: max, CommitPolicy: persistence.Group,
		GroupCranks: 1000, GroupInterval: time.Second}
}

// buildResumeBase launches n idle pageable vats, batch to a subcluster,
// on a new file store at path, and stops cleanly.
func buildResumeBase(b *testing.B, path string, n, batch int) {
	ctx := context.Background()
	require.NoError(b, os.MkdirAll(filepath.Dir(path), 0o755))
	k, err := actors.Start(ctx, resumeConfig(path, 1000))
	require.NoError(b, err)
	for launched := 0; launched < n; {
		c := kernel.ClusterConfig{Vats: map[string]kernel.VatConfig{}}
		for j := 0; j < batch && launched+j < n; j++ {
			name := fmt.Sprintf("v%05d", j)
			c.Vats[name] = kernel.VatConfig{Bundle: "idle", Pageable: true}
			c.Bootstrap = name
		}
		_, err := k.LaunchSubcluster(ctx, c)
		require.NoError(b, err)
		launched += len(c.Vats)
	}
	require.NoError(b, k.Stop(ctx))
}

// copyStore copies a stopped file store (and its WAL, if any) to dst.
func copyStore(b testing.TB, src, dst string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		in, err := os.Open(src + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		require.NoError(b, err)
		out, err := os.Create(dst + suffix)
		require.NoError(b, err)
		_, err = io.Copy(out, in)
		require.NoError(b, err)
		require.NoError(b, out.Close())
		in.Close()
	}
}

// resumeChild resumes the store at path under the cap the environment
// names and prints "resumed <seconds> <peak RSS MiB> <live vats>".
func resumeChild(path string) int {
	ctx := context.Background()
	max, err := strconv.Atoi(os.Getenv(resumeCapEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	if prof := os.Getenv(resumeProfileEnv); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	began := time.Now()
	if os.Getenv(resumeOpenOnlyEnv) != "" {
		cfg := resumeConfig(path, max)
		st, err := sqlitestore.Open(ctx, path, persistence.Options{Policy: cfg.CommitPolicy,
			GroupCranks: cfg.GroupCranks, GroupInterval: cfg.GroupInterval})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		took := time.Since(began)
		_, peak := rssKiB()
		if err := st.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		fmt.Printf("opened %g %g\n", took.Seconds(), float64(peak)/1024)
		return 0
	}
	k, err := actors.Start(ctx, resumeConfig(path, max))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	took := time.Since(began)
	defer k.Stop(ctx)
	_, peak := rssKiB() // before Status, whose answer lists every vat
	st, err := k.Status(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Printf("resumed %g %g %d\n", took.Seconds(), float64(peak)/1024, st.LiveVats)
	return 0
}
