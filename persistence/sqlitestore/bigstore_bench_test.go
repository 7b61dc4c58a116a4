package sqlitestore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// BenchmarkBigStoreOpen measures what a store of n live objects costs once
// it is on a file: it fills a file with n objects (one vat exports them,
// another holds them), closes it, and then, in a fresh process so that the
// fill's memory does not count, opens it, resumes a kernel over it and runs
// ping-pong cranks beside the n objects. It reports the open-and-resume
// time, the peak RSS and the live heap of that process, the heap per
// object, and the cost of a crank. Compare objects=1k with objects=1M.
// The fill is not timed.
func BenchmarkBigStoreOpen(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run("objects="+short(n), func(b *testing.B) {
			dir := *bigStoreDir
			if dir == "" {
				dir = b.TempDir()
			}
			path := filepath.Join(dir, "big-"+short(n)+".db")
			if _, err := os.Stat(path); err != nil || *bigStoreDir == "" {
				fillObjects(b, path, n)
			}
			b.ResetTimer()
			var r openReport
			for i := 0; i < b.N; i++ {
				r = openInChild(b, path)
			}
			b.StopTimer()
			b.ReportMetric(r.OpenSeconds, "open+resume-s")
			b.ReportMetric(r.StoreSeconds, "open-s")
			b.ReportMetric(r.PeakRSSMiB, "peak-RSS-MiB")
			b.ReportMetric(r.LiveHeapMiB, "live-heap-MiB")
			b.ReportMetric(r.LiveHeapMiB*(1<<20)/float64(n), "heap-B/object")
			b.ReportMetric(r.CrankNs, "ns/crank")
		})
	}
}

// bigStoreDir keeps the filled files between runs: filling 1M objects
// takes minutes, and opening does not change what a file holds but for
// the resume's new incarnations.
var bigStoreDir = flag.String("bigstore-dir", "", "BenchmarkBigStoreOpen: keep the filled store files in this directory and reuse them")

func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

// holdVats is the fill's workload: vat "big", told "flood", sends its peer
// "hold" with batch fresh exports; the peer ("holder") keeps every import.
type holdVats struct {
	big   kernel.VatID
	peer  kernel.VRef // big's import of holder's root
	next  int
	batch int
}

func (h *holdVats) Deliver(ctx context.Context, vat kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if d.Kind != kernel.DeliverMessage {
		return nil // startVat, notifies, GC: nothing to do; the holder drops nothing
	}
	if vat == h.big {
		switch kt.MethodOf(d.Message.Methargs) {
		case "meet":
			h.peer = kernel.VRef(d.Message.Methargs.Slots[0])
		case "flood":
			slots := make([]kernel.VRef, h.batch)
			for i := range slots {
				h.next++
				slots[i] = kernel.VRef("o+d1/" + strconv.Itoa(h.next)) // durable: a resume keeps it
			}
			if r := sys.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: h.peer,
				Message: kernel.VatMessage{Methargs: kt.Methargs("hold", slots...)}}); r.Err != nil {
				return fmt.Errorf("%w: flood: %v", kernel.ErrVatFault, r.Err)
			}
		}
	}
	if d.Message.Result != "" {
		sys.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve,
			Resolutions: []kernel.VatResolution{{VPID: d.Message.Result, Data: kt.Undefined}}})
	}
	return nil
}

// fillObjects makes a store file at path holding n live objects.
func fillObjects(b *testing.B, path string, n int) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path, persistence.Options{Synchronous: persistence.SyncNormal})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	k, err := kernel.New(kernel.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	h := &holdVats{batch: min(n, 10_000)}
	res, _, err := k.Launch(ctx, h, kernel.ClusterConfig{Bootstrap: "big",
		Vats: map[string]kernel.VatConfig{"big": {Bundle: "big"}, "holder": {Bundle: "holder"}}}, kernel.LaunchOptions{NoBootstrap: true})
	if err != nil {
		b.Fatal(err)
	}
	h.big = res.VatIDs["big"]
	run := func(method string, slots ...kernel.VRef) {
		if _, _, err := k.QueueMessage(ctx, res.Roots["big"], kt.Methargs(method, slots...)); err != nil {
			b.Fatal(err)
		}
		for k.HasWork() {
			if r, err := k.Crank(ctx, h); err != nil || r.Outcome != kernel.Committed {
				b.Fatalf("fill crank: %v %v %v", r.Outcome, r.Failure, err)
			}
		}
	}
	run("meet", kernel.VRef(res.Roots["holder"]))
	for st.ObjectCount() < n {
		run("flood")
	}
}

// openReport is what the child process measured.
type openReport struct {
	OpenSeconds  float64
	StoreSeconds float64 // of OpenSeconds, sqlitestore.Open alone (its quick_check the most)
	PeakRSSMiB   float64
	LiveHeapMiB  float64
	CrankNs      float64
}

// openInChild runs this test binary again to open path (see TestMain).
func openInChild(b *testing.B, path string) openReport {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), bigStoreEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	var r openReport
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "bigstore: "); ok {
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				b.Fatal(err)
			}
			return r
		}
	}
	b.Fatalf("child printed no report:\n%s", out)
	return r
}

// bigStoreEnv names the store file the child opens.
const bigStoreEnv = "KERNEL_ACTORS_BIGSTORE_OPEN"

// TestMain runs the tests, or, in the child that openInChild starts, opens
// the store file, resumes a kernel over it, runs ping-pong beside its
// objects and prints what that cost.
func TestMain(m *testing.M) {
	path := os.Getenv(bigStoreEnv)
	if path == "" {
		os.Exit(m.Run())
	}
	r, err := openAndMeasure(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	line, _ := json.Marshal(r)
	fmt.Printf("bigstore: %s\n", line)
	os.Exit(0)
}

func openAndMeasure(path string) (openReport, error) {
	ctx := context.Background()
	start := time.Now()
	st, err := sqlitestore.Open(ctx, path, persistence.Options{Synchronous: persistence.SyncNormal})
	if err != nil {
		return openReport{}, err
	}
	defer st.Close(ctx)
	storeSeconds := time.Since(start).Seconds()
	k, err := kernel.New(kernel.Config{Store: st})
	if err != nil {
		return openReport{}, err
	}
	if _, err := k.Resume(ctx, &holdVats{}); err != nil {
		return openReport{}, err
	}
	r := openReport{OpenSeconds: time.Since(start).Seconds(), StoreSeconds: storeSeconds}
	pp, err := kt.NewPingPong(ctx, k)
	if err != nil {
		return r, err
	}
	const cranks = 5_000
	for i := 0; i < 500; i++ { // warm up
		if _, err := k.Crank(ctx, pp); err != nil {
			return r, err
		}
	}
	t0 := time.Now()
	for i := 0; i < cranks; i++ {
		if res, err := k.Crank(ctx, pp); err != nil || res.Outcome != kernel.Committed {
			return r, fmt.Errorf("crank: %v %v", res.Outcome, err)
		}
	}
	r.CrankNs = float64(time.Since(t0).Nanoseconds()) / cranks
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.LiveHeapMiB = float64(ms.HeapAlloc) / (1 << 20)
	r.PeakRSSMiB = peakRSSMiB()
	return r, nil
}

// peakRSSMiB reads the process's peak resident set (VmHWM) from /proc,
// or 0 where there is none.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
