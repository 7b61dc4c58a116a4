package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	_ "github.com/mattn/go-sqlite3" // the bare SQLite floor's driver, the store's own

	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// Floors are what the same work costs with the kernel taken away,
// measured in the same process as the workloads: their ratios to these
// are what compares across machines and days.
type Floors struct {
	// ActorRRUS is a bare protoactor-go request/response between two
	// actors (ctx.Request, ctx.Respond), in microseconds.
	ActorRRUS float64 `json:"actor_rr_us"`
	// SQLiteTxUS is a bare SQLite transaction (BEGIN IMMEDIATE, one
	// prepared single-row statement per row, COMMIT) of the rows a
	// ping-pong crank writes, on a file in WAL mode with synchronous=FULL,
	// as the kernel's store runs it; SQLiteBatchedTxUS is the same
	// transaction with the very multi-row statements the store issued.
	SQLiteTxUS        float64 `json:"sqlite_tx_us"`
	SQLiteBatchedTxUS float64 `json:"sqlite_batched_tx_us"`
	// SQLiteRowsPerTx is the mean rows a recorded crank wrote.
	SQLiteRowsPerTx float64 `json:"sqlite_rows_per_tx"`
}

// DefaultFloorTime is how long each floor is measured for.
const DefaultFloorTime = 500 * time.Millisecond

// MeasureFloors measures the floors, each for about d (DefaultFloorTime
// if 0). dir is where its temporary files go ("" for the system's).
func MeasureFloors(ctx context.Context, d time.Duration, dir string) (Floors, error) {
	if d <= 0 {
		d = DefaultFloorTime
	}
	var f Floors
	var err error
	// One after the other, never at once: each must have the machine's
	// cores to itself, as the workloads do.
	if f.ActorRRUS, err = actorFloor(ctx, d); err != nil {
		return f, err
	}
	if err := sqliteFloor(ctx, d, dir, &f); err != nil {
		return f, err
	}
	return f, nil
}

// ---- the actor floor ----

// floorPing is the actor floor's request and response.
type floorPing struct{}

// floorRun asks the pinger for n round trips, then a close of done.
type floorRun struct {
	n    int
	done chan struct{}
}

// ponger answers every floorPing.
type ponger struct{}

func (ponger) Receive(c actor.Context) {
	if _, ok := c.Message().(*floorPing); ok {
		c.Respond(c.Message())
	}
}

// pinger makes round trips to peer one after another, each a Request
// whose Respond comes back as an ordinary message: the shape of a kernel
// actor handing a delivery to a vat actor, with nothing else.
type pinger struct {
	peer *actor.PID
	left int
	done chan struct{}
}

func (p *pinger) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *floorRun:
		p.left, p.done = m.n, m.done
		c.Request(p.peer, &floorPing{})
	case *floorPing:
		if p.left--; p.left > 0 {
			c.Request(p.peer, m)
			return
		}
		close(p.done)
	}
}

// actorPair is the actor floor's two actors, in an actor system of
// their own.
type actorPair struct {
	sys  *actor.ActorSystem
	ping *actor.PID
}

func newActorPair() *actorPair {
	// Silent, as the kernel's own system is with a zero Logger: the
	// floor must not print between a run's lines.
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	pong := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return ponger{} }))
	ping := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &pinger{peer: pong} }))
	return &actorPair{sys: sys, ping: ping}
}

// trips makes n round trips, one after another.
func (p *actorPair) trips(ctx context.Context, n int) error {
	done := make(chan struct{})
	p.sys.Root.Send(p.ping, &floorRun{n: n, done: done})
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *actorPair) close() { p.sys.Shutdown() }

// actorFloor returns a request/response's mean time in microseconds,
// over batches of round trips for about d.
func actorFloor(ctx context.Context, d time.Duration) (float64, error) {
	p := newActorPair()
	defer p.close()
	if err := p.trips(ctx, 1000); err != nil { // warm up
		return 0, err
	}
	// Batches of a fixed size, timed as a whole: reading the clock per
	// round trip would cost a fair share of what it measures.
	const n = 2000
	return medianOfSlices(d, func() (int, error) { return n, p.trips(ctx, n) })
}

// floorSlices is how many slices a floor's time is cut into; the floor
// is the median slice's mean.
const floorSlices = 5

// medianOfSlices runs step over floorSlices slices of about d/floorSlices
// each and returns the median slice's mean time per unit, in
// microseconds. step does some units of work and says how many. The
// median, not the mean over all, because on a shared machine a burst of
// someone else's load (or a slow fsync) skews one slice, and a floor
// that moves with it would move every ratio of the run.
func medianOfSlices(d time.Duration, step func() (int, error)) (float64, error) {
	per := make([]float64, 0, floorSlices)
	for range floorSlices {
		units := 0
		began := time.Now()
		for units == 0 || time.Since(began) < d/floorSlices {
			n, err := step()
			if err != nil {
				return 0, err
			}
			units += n
		}
		per = append(per, float64(time.Since(began))/float64(time.Microsecond)/float64(units))
	}
	return median(per), nil
}

// ---- the SQLite floor ----

// flushRecord is the statements of one crank's flush.
type flushRecord []persistence.Statement

// sqliteFloor records the flushes of ping-pong cranks on a file
// (commit per crank, so one flush is one crank), replays them as bare
// transactions on a database of the same schema, and fills f's SQLite
// fields.
func sqliteFloor(ctx context.Context, d time.Duration, dir string, f *Floors) error {
	tmp, err := os.MkdirTemp(dir, "kernel-actors-floor-*")
	if err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	defer os.RemoveAll(tmp)
	recs, err := recordFlushes(ctx, filepath.Join(tmp, "k.db"))
	if err != nil {
		return err
	}
	rows := 0
	for _, rec := range recs {
		for _, s := range rec {
			rows += s.Rows
		}
	}
	f.SQLiteRowsPerTx = float64(rows) / float64(len(recs))
	// Both replays share one file: the batched one runs on the rows the
	// first left, as the store's flushes run on rows already there.
	bare := filepath.Join(tmp, "bare.db")
	if f.SQLiteTxUS, err = replay(ctx, bare, recs, true, d); err != nil {
		return err
	}
	f.SQLiteBatchedTxUS, err = replay(ctx, bare, recs, false, d)
	return err
}

// recordFlushes runs ping-pong on a file store at path and returns the
// statements of 200 of its cranks, one record a crank.
func recordFlushes(ctx context.Context, path string) ([]flushRecord, error) {
	var mu sync.Mutex
	var recs []flushRecord
	var cur flushRecord
	recording := false
	trace := func(s persistence.Statement) {
		mu.Lock()
		defer mu.Unlock()
		if recording {
			s.Args = append([]any(nil), s.Args...)
			cur = append(cur, s)
		}
	}
	// Under commit per crank, a crank's flush is done when OnCrank is
	// called: what was traced since the last call is that crank's.
	onCrank := func(time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if recording && len(cur) > 0 {
			recs = append(recs, cur)
		}
		cur = nil
	}
	o, err := Options{Workload: "pingpong", Store: StoreFile, Dir: filepath.Dir(path)}.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := openSession(ctx, o, trace, onCrank)
	if err != nil {
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	defer s.close(context.WithoutCancel(ctx))
	if err := s.w.run(ctx, s, 100); err != nil { // warm up
		return nil, err
	}
	// 101 round trips: 202 cranks, of which the first record (below) is
	// dropped, and each record is one crank's flush.
	mu.Lock()
	recording = true
	mu.Unlock()
	if err := s.w.run(ctx, s, 101); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	recording = false
	// The first record holds the host request's own unit too: left out.
	if len(recs) < 2 {
		return nil, errors.New("bench: floor: no flush statements recorded")
	}
	return recs[1:], nil
}

// replay replays recs as bare transactions for about d and returns the
// mean transaction's time in microseconds. singleRows issues each row as
// its own prepared single-row statement, as a program writing the same
// rows plainly would; otherwise the recorded multi-row statements run.
func replay(ctx context.Context, path string, recs []flushRecord, singleRows bool, d time.Duration) (float64, error) {
	// The kernel's own schema: a store opened once on the file makes it.
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		st, err := sqlitestore.Open(ctx, path, persistence.Options{})
		if err != nil {
			return 0, fmt.Errorf("bench: floor: %w", err)
		}
		if err := st.Close(ctx); err != nil {
			return 0, fmt.Errorf("bench: floor: %w", err)
		}
	}
	// database/sql with one connection, as the store runs it: the same
	// driver, the same statement cache, the same cgo calls per statement.
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL"); err != nil {
		return 0, fmt.Errorf("bench: floor: %w", err)
	}
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	prepare := func(q string) (*sql.Stmt, error) {
		if s, ok := stmts[q]; ok {
			return s, nil
		}
		s, err := conn.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("bench: floor: prepare %s: %w", q, err)
		}
		stmts[q] = s
		return s, nil
	}
	tx := func(rec flushRecord) error {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		for _, s := range rec {
			if !singleRows {
				q, err := prepare(s.SQL())
				if err != nil {
					return err
				}
				if _, err := q.ExecContext(ctx, s.Args...); err != nil {
					return err
				}
				continue
			}
			// The same statement for one row, prepared once: the plain way to
			// write these rows, which the design's target is stated against.
			one := s
			one.Rows = 1
			q, err := prepare(one.SQL())
			if err != nil {
				return err
			}
			w := len(s.Args) / max(s.Rows, 1)
			for r := 0; r < s.Rows; r++ {
				if _, err := q.ExecContext(ctx, s.Args[r*w:(r+1)*w]...); err != nil {
					return err
				}
			}
		}
		_, err := conn.ExecContext(ctx, "COMMIT")
		return err
	}
	for _, rec := range recs[:min(50, len(recs))] { // warm up
		if err := tx(rec); err != nil {
			return 0, fmt.Errorf("bench: floor: %w", err)
		}
	}
	// Round-robin over the records, one transaction a step: each is one
	// crank's writes, so the mean over them is a mean crank's.
	next := 0
	return medianOfSlices(d, func() (int, error) {
		rec := recs[next%len(recs)]
		next++
		if err := tx(rec); err != nil {
			return 0, fmt.Errorf("bench: floor: %w", err)
		}
		return 1, nil
	})
}
