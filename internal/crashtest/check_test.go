package crashtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // for PRAGMA integrity_check on the file itself

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// What the parent checks after each kill. Each finding is a problem of a
// category; the test fails if any is found, and counts them by category
// in its summary.

// Problem categories.
const (
	catIntegrity  = "integrity"  // PRAGMA integrity_check is not ok
	catAudit      = "audit"      // kernel.Audit found something
	catLost       = "lost"       // an acknowledged effect is not in its ledger
	catDuplicated = "duplicated" // an effect (or a bootstrap) happened twice
	catPhantom    = "phantom"    // an effect nobody asked for, or in the wrong ledger
	catLaunch     = "launch"     // a launch neither completed once nor left nothing
	catStranded   = "stranded"   // a promise still unresolved once the kernel is idle
	catLifecycle  = "lifecycle"  // an acknowledged terminate or upgrade did not hold; a vat gone unasked
	catResume     = "resume"     // the file did not resume, or the kernel did not reach idle
	catChild      = "child"      // the child did not die where it was meant to
)

// problem is one finding. key identifies it within a trial, so that a
// problem the file keeps (a stranded promise) is reported once, at the
// kill that made it.
type problem struct {
	cat, key, msg string
}

// checkTimeout bounds the whole check of one kill.
const checkTimeout = 2 * time.Minute

// check is one kill's checking: the side ledger's history against the
// file as the kill left it and against the resumed kernel.
type check struct {
	db     string
	policy persistence.CommitPolicy
	h      *history
	latest []entry // the side-ledger lines of the child just killed
	stats  *stats

	problems []problem
}

func (c *check) add(cat, key, format string, args ...any) {
	c.problems = append(c.problems, problem{cat: cat, key: key, msg: fmt.Sprintf(format, args...)})
}

// run does every check. It reports false when the file cannot be used any
// more (it does not resume): the trial ends there.
func (c *check) run(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := os.Stat(c.db); os.IsNotExist(err) {
		// Killed before the store was made: nothing can have been
		// acknowledged, and there is nothing to check.
		if len(c.h.acked) > 0 {
			c.add(catLost, "no-file", "the database is gone, with %d acknowledged effects", len(c.h.acked))
		}
		return true
	}
	if err := integrityCheck(ctx, c.db); err != nil {
		c.add(catIntegrity, err.Error(), "%v", err)
		return false
	}
	if !c.checkFileAsLeft(ctx) {
		return false
	}
	return c.checkResumed(ctx)
}

// integrityCheck runs PRAGMA integrity_check on the file (which also
// recovers its WAL, as the next open would).
func integrityCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rw")
	if err != nil {
		return fmt.Errorf("integrity_check: open: %w", err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(out) != 1 || out[0] != "ok" {
		return fmt.Errorf("integrity_check: %s", strings.Join(out, "; "))
	}
	return nil
}

// checkFileAsLeft opens the store the kill left, before any kernel runs
// on it: the auditor must be green, and every acknowledged effect must be
// in it already. An effect the host was told of that is missing here was
// released before its commit, even if a resume would apply it later.
func (c *check) checkFileAsLeft(ctx context.Context) bool {
	st, err := sqlitestore.Open(ctx, c.db, persistence.Options{})
	if err != nil {
		c.add(catResume, "open", "the store does not open after the kill: %v", err)
		return false
	}
	defer st.Close(ctx)
	c.audit(ctx, st, "as the kill left it")
	ls, err := readLedgers(st)
	if err != nil {
		c.add(catAudit, err.Error(), "%v", err)
		return true
	}
	c.checkEffects(ls, "as the kill left it")
	return true
}

func (c *check) audit(ctx context.Context, st *persistence.Store, when string) {
	problems, err := kernel.Audit(ctx, st)
	if err != nil {
		c.add(catAudit, err.Error(), "audit (%s): %v", when, err)
	}
	for _, p := range problems {
		c.add(catAudit, p, "audit (%s): %s", when, p)
	}
}

// ledger is one ledger vat's durable state, read from the file.
type ledger struct {
	active  bool
	effects map[string]int64 // effect id -> times applied
	hellos  map[string]int64 // launch id -> times greeted
}

// readLedgers reads every ledger vat's baggage from the store, as the
// vat package lays it out: baggage key k is vatstore key "bg."+k, its
// value CapData JSON.
func readLedgers(st *persistence.Store) (map[kernel.VatID]*ledger, error) {
	out := map[kernel.VatID]*ledger{}
	for _, id := range st.VatIDs() {
		row, _ := st.Vat(id)
		var cfg kernel.VatConfig
		if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
			return nil, fmt.Errorf("vat %s: config row does not parse: %w", id, err)
		}
		if !isLedger(cfg.Bundle) {
			continue
		}
		l := &ledger{active: row.State == persistence.VatActive, effects: map[string]int64{}, hellos: map[string]int64{}}
		out[kernel.VatID(id)] = l
		for _, key := range st.VatstoreKeys(id) {
			m := l.effects
			name, ok := strings.CutPrefix(key, "bg."+keyEffect)
			if !ok {
				m = l.hellos
				if name, ok = strings.CutPrefix(key, "bg."+keyHello); !ok {
					continue
				}
			}
			v, _ := st.VatstoreGet(id, key)
			n, err := decodeCount(v)
			if err != nil {
				return nil, fmt.Errorf("vat %s: baggage %q: %w", id, key, err)
			}
			m[name] = n
		}
	}
	return out, nil
}

func decodeCount(v string) (int64, error) {
	var sv struct {
		Body  string   `json:"body"`
		Slots []string `json:"slots"`
	}
	if err := json.Unmarshal([]byte(v), &sv); err != nil {
		return 0, err
	}
	x, err := marshal.Decode(marshal.CapData{Body: sv.Body, Slots: sv.Slots})
	if err != nil {
		return 0, err
	}
	return marshal.Int(x)
}

// checkEffects holds the ledgers against the side ledger: every effect
// acknowledged is in its ledger exactly once, none is anywhere twice, and
// none is there that nobody began.
func (c *check) checkEffects(ls map[kernel.VatID]*ledger, when string) {
	type at struct {
		vat kernel.VatID
		n   int64
	}
	where := map[string][]at{}
	for _, vat := range slices.Sorted(maps.Keys(ls)) {
		l := ls[vat]
		for eff, n := range l.effects {
			where[eff] = append(where[eff], at{vat, n})
		}
		for launch, n := range l.hellos {
			if n > 1 {
				c.add(catDuplicated, "hello/"+launch, "%s: ledger %s was greeted %d times by the bootstrap of %s", when, vat, n, launch)
			}
		}
	}
	for eff, ats := range where {
		total := int64(0)
		for _, a := range ats {
			total += a.n
		}
		b, begun := c.h.begun[eff]
		switch {
		case total > 1:
			c.add(catDuplicated, eff, "%s: effect %s applied %d times (%v); acknowledged: %v", when, eff, total, ats, c.h.acked[eff].Ev == evAck)
		case !begun:
			c.add(catPhantom, eff, "%s: effect %s is in ledger %s but was never sent", when, eff, ats[0].vat)
		case ats[0].vat != b.Ledger:
			c.add(catPhantom, eff, "%s: effect %s is in ledger %s, sent to %s", when, eff, ats[0].vat, b.Ledger)
		}
	}
	for _, eff := range slices.Sorted(maps.Keys(c.h.acked)) {
		a := c.h.acked[eff]
		l := ls[a.Ledger]
		switch {
		case l == nil:
			c.add(catLost, eff, "%s: acknowledged effect %s: its ledger %s is not in the store", when, eff, a.Ledger)
		case !l.active && c.h.doomed[a.Ledger]:
			c.stats.ackedTerminated++ // its state went with the vat, as asked
		case !l.active:
			c.add(catLifecycle, "gone/"+string(a.Ledger), "%s: ledger %s is terminated, but no terminate of it was asked", when, a.Ledger)
		case l.effects[eff] == 0:
			c.add(catLost, eff, "%s: acknowledged effect %s (%s, op %d) is not in ledger %s: released before its commit",
				when, eff, a.Kind, a.Op, a.Ledger)
		default:
			c.stats.ackedChecked++
		}
	}
}

// checkResumed starts a kernel on the file (actors.Start resumes it),
// runs it to idle and checks it.
func (c *check) checkResumed(ctx context.Context) bool {
	k, err := actors.Start(ctx, kernelConfig(c.db, c.policy))
	if err != nil {
		c.add(catResume, "start", "actors.Start does not resume the file: %v", err)
		return false
	}
	defer func() {
		if err := k.Stop(context.WithoutCancel(ctx)); err != nil {
			c.add(catResume, "stop", "stop after the check: %v", err)
		}
	}()
	if err := k.WaitIdle(ctx); err != nil {
		c.add(catResume, "idle", "the resumed kernel did not reach idle: %v", err)
		return false
	}
	var ls map[kernel.VatID]*ledger
	err = k.ReadStore(ctx, func(st *persistence.Store) error {
		c.audit(ctx, st, "resumed, at idle")
		c.stranded(st)
		var err error
		ls, err = readLedgers(st)
		return err
	})
	if err != nil {
		c.add(catAudit, err.Error(), "reading the resumed store: %v", err)
		return true
	}
	c.checkEffects(ls, "resumed, at idle")
	c.countCut(ls)
	status, err := k.Status(ctx)
	if err != nil {
		c.add(catResume, "status", "status: %v", err)
		return true
	}
	c.checkLedgersAnswer(ctx, k, status, ls)
	c.checkLaunches(ctx, k, status, ls)
	c.checkLifecycle(status)
	return true
}

// stranded: once the kernel is idle no promise may stay unresolved. Every
// promise of these vats is settled by the end of the operation that made
// it, so one still open was decided by a heap that the kill lost and that
// the resume did not settle (invariant 12).
func (c *check) stranded(st *persistence.Store) {
	for _, kp := range st.PromiseKPIDs() {
		row, _ := st.Promise(kp)
		if row.State != persistence.PromiseUnresolved {
			continue
		}
		c.add(catStranded, kp, "promise %s is unresolved at idle (decider %q, subscribers %v, host subscribed %v, %d messages queued on it)",
			kp, row.Decider, row.Subscribers, row.HostSubscribed, row.QueueTail-row.QueueHead)
	}
}

// countCut counts what became of the effects the kills cut (begun, never
// answered): applied once, or not at all. Both are right.
func (c *check) countCut(ls map[kernel.VatID]*ledger) {
	for _, b := range c.latest {
		eff := b.Effect
		if b.Ev != evBegin || eff == "" {
			continue
		}
		if _, ok := c.h.acked[eff]; ok || c.h.failed[eff] {
			continue
		}
		if l := ls[b.Ledger]; l != nil && l.active {
			if l.effects[eff] > 0 {
				c.stats.cutApplied++
			} else {
				c.stats.cutAbsent++
			}
		}
	}
}

// checkLedgersAnswer asks every active ledger how many effects it holds:
// the vat must answer after the resume, and agree with the file.
func (c *check) checkLedgersAnswer(ctx context.Context, k *actors.Kernel, status actors.Status, ls map[kernel.VatID]*ledger) {
	for _, v := range status.Vats {
		if !v.Active || !isLedger(v.Config.Bundle) {
			continue
		}
		got, err := k.QueueMessage(ctx, v.Root, "count")
		if err != nil {
			c.add(catResume, "count/"+string(v.ID), "ledger %s does not answer after the resume: %v", v.ID, err)
			continue
		}
		if n, _ := marshal.Int(got); n != int64(len(ls[v.ID].effects)) {
			c.add(catAudit, "count/"+string(v.ID), "ledger %s says it holds %d effects, the file %d", v.ID, n, len(ls[v.ID].effects))
		}
	}
}

// launchOf is the launch id a subcluster was launched with.
func launchOf(sc kernel.SubclusterInfo) string {
	l, _ := sc.Config.Vats["relay"].Parameters[paramLaunch].(string)
	return l
}

// checkLaunches: every launch either completed once (its vats run,
// bootstrap was delivered once and finished, its result is readable and
// is what the host was told) or left nothing behind.
func (c *check) checkLaunches(ctx context.Context, k *actors.Kernel, status actors.Status, ls map[kernel.VatID]*ledger) {
	vats := map[kernel.VatID]kernel.VatInfo{}
	for _, v := range status.Vats {
		vats[v.ID] = v
	}
	byLaunch := map[string][]kernel.SubclusterInfo{}
	for _, sc := range status.Subclusters {
		byLaunch[launchOf(sc)] = append(byLaunch[launchOf(sc)], sc)
	}
	for _, id := range slices.Sorted(maps.Keys(byLaunch)) {
		scs := byLaunch[id]
		rec := c.h.launches[id]
		if rec == nil {
			c.add(catPhantom, "launch/"+id, "subcluster %s has launch id %q, which was never launched", scs[0].ID, id)
			continue
		}
		if len(scs) > 1 {
			c.add(catDuplicated, "launch/"+id, "launch %s made %d subclusters", id, len(scs))
		}
		for _, sc := range scs {
			c.checkLaunched(ctx, k, id, rec, sc, vats, ls)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.h.launches)) {
		rec := c.h.launches[id]
		if len(byLaunch[id]) > 0 {
			continue
		}
		if rec.acked && !c.h.doomedSubclusters[rec.subcluster] {
			c.add(catLaunch, "gone/"+id, "acknowledged launch %s (subcluster %s) is gone, and no terminate of it was asked", id, rec.subcluster)
		}
		if !rec.acked {
			// A launch cut by a kill that left no subcluster must have
			// left no vat either.
			orphans := false
			for _, v := range status.Vats {
				if l, _ := v.Config.Parameters[paramLaunch].(string); l == id && v.Active {
					orphans = true
					c.add(catLaunch, "orphan/"+id, "launch %s cut by a kill left vat %s (%s) running without its subcluster", id, v.ID, v.Name)
				}
			}
			if !orphans && c.cutHere(id) {
				c.stats.cutLaunchVanished++
			}
		}
	}
}

func (c *check) checkLaunched(ctx context.Context, k *actors.Kernel, id string, rec *launchRecord, sc kernel.SubclusterInfo,
	vats map[kernel.VatID]kernel.VatInfo, ls map[kernel.VatID]*ledger) {
	if rec.acked && rec.subcluster != sc.ID {
		c.add(catLaunch, "where/"+id, "launch %s: the host was told subcluster %s, the store has %s", id, rec.subcluster, sc.ID)
	}
	relay := vats[sc.Vats["relay"]]
	if !relay.Active {
		if !c.h.doomed[relay.ID] {
			c.add(catLifecycle, "gone/"+string(relay.ID), "relay %s of launch %s is terminated, but no terminate of it was asked", relay.ID, id)
		}
		return
	}
	rep, err := k.QueueMessage(ctx, relay.Root, "report")
	if err != nil {
		c.add(catResume, "report/"+string(relay.ID), "relay %s of launch %s does not answer: %v", relay.ID, id, err)
		return
	}
	m, _ := rep.(map[string]any)
	boots, _ := marshal.Int(m["boots"])
	result, _ := m["bootResult"].(string)
	want := "ready " + id
	switch {
	case boots == 0:
		c.add(catLaunch, "half/"+id, "launch %s (subcluster %s, acknowledged %v): the subcluster is there but its bootstrap was never delivered",
			id, sc.ID, rec.acked)
		return
	case boots > 1:
		c.add(catDuplicated, "boots/"+id, "launch %s: bootstrap delivered %d times", id, boots)
	case result == "":
		c.add(catLaunch, "unfinished/"+id, "launch %s (subcluster %s, acknowledged %v): bootstrap was delivered but never finished, and the subcluster is still there",
			id, sc.ID, rec.acked)
		return
	case result != want:
		c.add(catLaunch, "result/"+id, "launch %s: bootstrap result %q, want %q", id, result, want)
	}
	if rec.acked && rec.result != result {
		c.add(catLaunch, "told/"+id, "launch %s: the host was told %q, the vat returned %q", id, rec.result, result)
	}
	c.stats.launchChecks++
	if !rec.acked && c.cutHere(id) {
		c.stats.cutLaunchCompleted++
	}
	if l := ls[sc.Vats["ledger"]]; l != nil && l.active && l.hellos[id] != 1 {
		c.add(catLaunch, "hello/"+id, "launch %s finished, but its ledger was greeted %d times", id, l.hellos[id])
	}
}

// cutHere reports whether launch id was begun by the child just killed
// (and so cut by its kill, when it has no answer).
func (c *check) cutHere(id string) bool {
	for _, e := range c.latest {
		if e.Ev == evBegin && e.Kind == opLaunch && e.Launch == id {
			return true
		}
	}
	return false
}

// checkLifecycle: acknowledged terminations and upgrades hold.
func (c *check) checkLifecycle(status actors.Status) {
	vats := map[kernel.VatID]kernel.VatInfo{}
	for _, v := range status.Vats {
		vats[v.ID] = v
	}
	for _, id := range slices.Sorted(maps.Keys(c.h.endedVats)) {
		if v, ok := vats[id]; ok && v.Active {
			c.add(catLifecycle, "ended/"+string(id), "vat %s runs, but its termination was acknowledged", id)
		}
	}
	for _, sc := range status.Subclusters {
		if c.h.endedSubclusters[sc.ID] {
			c.add(catLifecycle, "ended/"+string(sc.ID), "subcluster %s is there, but its termination was acknowledged", sc.ID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.h.upgraded)) {
		want := c.h.upgraded[id]
		if v, ok := vats[id]; ok && v.Active && v.Config.Bundle != want {
			c.add(catLifecycle, "upgrade/"+string(id)+"/"+want, "vat %s runs %q, but its upgrade to %q was acknowledged", id, v.Config.Bundle, want)
		}
	}
}
