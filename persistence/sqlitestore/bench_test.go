package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// flushRecord is the statements of one flush.
type flushRecord []persistence.Statement

// BenchmarkDurableVsBare measures commit-per-crank against a bare SQLite
// transaction of the same writes, in the same run: it records the
// statements of 500 kernel flushes (ping-pong workload), replays them as
// bare transactions on a separate database of the same kind, then runs the
// kernel. It reports the kernel's cranks/s, the bare rates, and the ratios:
//
//   - bare-batched: BEGIN; the very statements the flush issued (multi-row);
//     COMMIT. The ratio to it is the kernel's own overhead.
//   - bare-rows: BEGIN; one prepared single-row statement per row written;
//     COMMIT. This is how a program writing the same rows plainly would do
//     it (the target: a bare SQLite transaction of the same writes).
//
// Both run on a file in WAL mode with the same synchronous setting. (The
// in-memory store has no SQLite to compare with.)
func BenchmarkDurableVsBare(b *testing.B) {
	for _, sync := range []persistence.Synchronous{persistence.SyncFull, persistence.SyncNormal} {
		b.Run("file-"+strings.ToLower(string(sync)), func(b *testing.B) { benchDurableVsBare(b, sync) })
	}
}

func benchDurableVsBare(b *testing.B, sync persistence.Synchronous) {
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "k.db")
	var recording bool
	var records []flushRecord
	var cur flushRecord
	opts := persistence.Options{Synchronous: sync, Trace: func(s persistence.Statement) {
		if recording {
			s.Args = append([]any(nil), s.Args...)
			cur = append(cur, s)
		}
	}}
	st, k, pp, err := kt.OpenPingPong(ctx, path, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	crank := func() {
		if r, err := k.Crank(ctx, pp); err != nil || r.Outcome != kernel.Committed {
			b.Fatalf("crank: %v %v", r.Outcome, err)
		}
	}
	for i := 0; i < 200; i++ {
		crank()
	}
	recording = true
	for i := 0; i < 500; i++ {
		crank()
		records = append(records, cur)
		cur = nil
	}
	recording = false

	if len(records[0]) == 0 {
		b.Fatal("no statements recorded")
	}
	batched := bareRate(b, filepath.Join(dir, "bare1.db"), sync, records, false)
	rows := bareRate(b, filepath.Join(dir, "bare2.db"), sync, records, true)

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		crank()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "cranks/s")
	b.ReportMetric(batched, "bare-batched-tx/s")
	b.ReportMetric(rows, "bare-rows-tx/s")
	b.ReportMetric(rate/batched, "ratio-vs-batched")
	b.ReportMetric(rate/rows, "ratio-vs-rows")
}

// bareRate replays records as bare transactions for about half a second
// and returns transactions per second.
func bareRate(b *testing.B, path string, sync persistence.Synchronous, records []flushRecord, singleRows bool) float64 {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode = WAL; PRAGMA synchronous = "+string(sync)); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, sqlitestore.SchemaSQL()); err != nil {
		b.Fatal(err)
	}
	stmts := map[string]*sql.Stmt{}
	prepare := func(q string) *sql.Stmt {
		if s, ok := stmts[q]; ok {
			return s
		}
		s, err := conn.PrepareContext(ctx, q)
		if err != nil {
			b.Fatalf("prepare %s: %v", q, err)
		}
		stmts[q] = s
		return s
	}
	replay := func(rec flushRecord) {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			b.Fatal(err)
		}
		for _, s := range rec {
			if !singleRows {
				if _, err := prepare(s.SQL()).ExecContext(ctx, s.Args...); err != nil {
					b.Fatal(err)
				}
				continue
			}
			one := s
			one.Rows = 1
			q := prepare(one.SQL())
			w := len(s.Cols)
			for r := 0; r < s.Rows; r++ {
				if _, err := q.ExecContext(ctx, s.Args[r*w:(r+1)*w]...); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			b.Fatal(err)
		}
	}
	for _, rec := range records[:50] { // warm up
		replay(rec)
	}
	n := 0
	start := time.Now()
	for time.Since(start) < 500*time.Millisecond {
		for _, rec := range records {
			replay(rec)
			n++
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
