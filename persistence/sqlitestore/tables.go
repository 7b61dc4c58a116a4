package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// codecs maps every persisted table of a store (persistence.Tables) to its
// SQLite table: the columns, how a row is written, and how it is read back
// and checked. Load and Flush both walk this one list, in this order;
// TestCodecsCoverEveryTable checks that it names every table of the
// schema but the vat log, which Flush appends to on its own.
var codecs = []codec{
	&tableCodec[string, string]{
		table: "meta", cols: []string{"key", "value"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, string] { return t.Meta },
		key: func(k string) []any { return []any{k} },
		row: func(k, v string) []any { return []any{k, v} },
		scan: func(scan func(...any) error) (k, v string, err error) {
			if err := scan(&k, &v); err != nil {
				return k, v, err
			}
			// INVARIANT: every counter NextID hands out is a number, so
			// PeekID never meets one that is not.
			if strings.HasPrefix(k, persistence.MetaCounterPrefix) {
				if _, err := strconv.ParseUint(v, 10, 64); err != nil {
					return k, v, fmt.Errorf("column value: counter %q holds %q, not a number", k, v)
				}
			}
			return k, v, nil
		},
	},
	&tableCodec[string, persistence.SubclusterRow]{
		table: "subclusters", cols: []string{"subcluster_id", "bootstrap", "config", "bootstrap_kpid"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.SubclusterRow] { return t.Subclusters },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.SubclusterRow) []any {
			return []any{k, r.Bootstrap, r.Config, nullString(r.BootstrapKPID)}
		},
		scan: func(scan func(...any) error) (k string, r persistence.SubclusterRow, err error) {
			var bk sql.NullString
			err = scan(&k, &r.Bootstrap, &r.Config, &bk)
			r.BootstrapKPID = fromNull(bk)
			return k, r, err
		},
	},
	&tableCodec[string, persistence.VatRow]{
		table: "vats", cols: []string{"vat_id", "name", "subcluster_id", "config", "state", "incarnation", "next_object", "next_promise", "restarts"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.VatRow] { return t.Vats },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.VatRow) []any {
			return []any{k, r.Name, r.Subcluster, r.Config, string(r.State), r.Incarnation, int64(r.NextObject), int64(r.NextPromise), encodeTimes(r.Restarts)}
		},
		scan: func(scan func(...any) error) (k string, r persistence.VatRow, err error) {
			var state, restarts string
			var no, np int64
			if err = scan(&k, &r.Name, &r.Subcluster, &r.Config, &state, &r.Incarnation, &no, &np, &restarts); err != nil {
				return
			}
			if r.Restarts, err = decodeTimes(restarts); err != nil {
				return k, r, fmt.Errorf("column restarts: %w", err)
			}
			if r.NextObject, err = count("next_object", no); err != nil {
				return
			}
			if r.NextPromise, err = count("next_promise", np); err != nil {
				return
			}
			r.State = persistence.VatState(state)
			return
		},
	},
	&tableCodec[string, persistence.ObjectRow]{
		table: "objects", cols: []string{"kref", "owner", "revoked", "reachable", "recognizable", "pins"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.ObjectRow] { return t.Objects },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.ObjectRow) []any {
			return []any{k, nullString(r.Owner), boolInt(r.Revoked), r.Reachable, r.Recognizable, r.Pins}
		},
		scan: func(scan func(...any) error) (k string, r persistence.ObjectRow, err error) {
			var owner sql.NullString
			var revoked int64
			err = scan(&k, &owner, &revoked, &r.Reachable, &r.Recognizable, &r.Pins)
			r.Owner, r.Revoked = fromNull(owner), revoked != 0
			return
		},
		check: func(r persistence.ObjectRow) error {
			if !(0 <= r.Reachable && r.Reachable <= r.Recognizable) {
				return fmt.Errorf("reachable %d, recognizable %d: breaks CHECK (0 <= reachable AND reachable <= recognizable)", r.Reachable, r.Recognizable)
			}
			return nil
		},
	},
	&tableCodec[string, persistence.PromiseRow]{
		table: "promises", cols: []string{"kref", "state", "decider", "decider_incarnation", "settled_by_kernel", "subscribers", "host_subscribed", "value_body", "value_slots", "refcount", "queue_head", "queue_tail"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.PromiseRow] { return t.Promises },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.PromiseRow) []any {
			var body, slots any
			if r.State != persistence.PromiseUnresolved {
				body, slots = r.Value.Body, encodeList(r.Value.Slots)
			}
			return []any{k, string(r.State), nullString(r.Decider), r.DeciderIncarnation, boolInt(r.SettledByKernel), encodeList(r.Subscribers), boolInt(r.HostSubscribed),
				body, slots, r.RefCount, int64(r.QueueHead), int64(r.QueueTail)}
		},
		scan: func(scan func(...any) error) (k string, r persistence.PromiseRow, err error) {
			var state, subs string
			var decider, body, slots sql.NullString
			var host, byKernel, qh, qt int64
			if err = scan(&k, &state, &decider, &r.DeciderIncarnation, &byKernel, &subs, &host, &body, &slots, &r.RefCount, &qh, &qt); err != nil {
				return
			}
			if r.Subscribers, err = decodeList(subs); err != nil {
				return k, r, fmt.Errorf("column subscribers: %w", err)
			}
			r.State, r.Decider, r.HostSubscribed, r.SettledByKernel = persistence.PromiseState(state), fromNull(decider), host != 0, byKernel != 0
			if r.QueueHead, err = count("queue_head", qh); err != nil {
				return
			}
			if r.QueueTail, err = count("queue_tail", qt); err != nil {
				return
			}
			if r.State != persistence.PromiseUnresolved {
				r.Value.Body = fromNull(body)
				if r.Value.Slots, err = decodeList(fromNull(slots)); err != nil {
					return k, r, fmt.Errorf("column value_slots: %w", err)
				}
			}
			return
		},
		check: func(r persistence.PromiseRow) error {
			switch {
			case r.State != persistence.PromiseUnresolved && r.State != persistence.PromiseFulfilled && r.State != persistence.PromiseRejected:
				return fmt.Errorf("state %q: breaks CHECK (state IN ('unresolved', 'fulfilled', 'rejected'))", r.State)
			case r.RefCount < 0:
				return fmt.Errorf("refcount %d: breaks CHECK (refcount >= 0)", r.RefCount)
			}
			return nil
		},
	},
	&tableCodec[persistence.PromiseQueueKey, persistence.Message]{
		table: "promise_queue", cols: []string{"kpid", "seq", "body", "slots", "result"}, nkeys: 2,
		of: func(t *persistence.Tables) rowTable[persistence.PromiseQueueKey, persistence.Message] {
			return t.PromiseQueue
		},
		key: func(k persistence.PromiseQueueKey) []any { return []any{k.KPID, int64(k.Seq)} },
		row: func(k persistence.PromiseQueueKey, m persistence.Message) []any {
			return []any{k.KPID, int64(k.Seq), m.Methargs.Body, encodeList(m.Methargs.Slots), nullString(m.Result)}
		},
		scan: func(scan func(...any) error) (k persistence.PromiseQueueKey, m persistence.Message, err error) {
			var seq int64
			var slots string
			var result sql.NullString
			if err = scan(&k.KPID, &seq, &m.Methargs.Body, &slots, &result); err != nil {
				return
			}
			if m.Methargs.Slots, err = decodeList(slots); err != nil {
				return k, m, fmt.Errorf("column slots: %w", err)
			}
			if k.Seq, err = count("seq", seq); err != nil {
				return
			}
			m.Result = fromNull(result)
			return
		},
	},
	&tableCodec[persistence.CListKey, persistence.CListRow]{
		table: "clist", cols: []string{"vat_id", "kref", "vref", "reachable"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.CListKey, persistence.CListRow] { return t.CList },
		key: func(k persistence.CListKey) []any { return []any{k.Vat, k.KRef} },
		row: func(k persistence.CListKey, r persistence.CListRow) []any {
			return []any{k.Vat, k.KRef, r.VRef, boolInt(r.Reachable)}
		},
		scan: func(scan func(...any) error) (k persistence.CListKey, r persistence.CListRow, err error) {
			var reach int64
			err = scan(&k.Vat, &k.KRef, &r.VRef, &reach)
			r.Reachable = reach != 0
			return
		},
	},
	&tableCodec[uint64, persistence.QueueItem]{
		table: "run_queue", cols: []string{"seq", "kind", "target", "body", "slots", "result", "vat_id", "kpid"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[uint64, persistence.QueueItem] { return t.RunQueue },
		key: func(k uint64) []any { return []any{int64(k)} },
		row: func(k uint64, it persistence.QueueItem) []any {
			if it.Kind == persistence.QueueSend {
				return []any{int64(k), string(it.Kind), it.Target, it.Message.Methargs.Body,
					encodeList(it.Message.Methargs.Slots), nullString(it.Message.Result), nil, nil}
			}
			return []any{int64(k), string(it.Kind), nil, nil, nil, nil, it.Vat, it.KPID}
		},
		scan: func(scan func(...any) error) (n uint64, it persistence.QueueItem, err error) {
			var seq int64
			var kind string
			var target, body, slots, result, vat, kpid sql.NullString
			if err = scan(&seq, &kind, &target, &body, &slots, &result, &vat, &kpid); err != nil {
				return
			}
			it = persistence.QueueItem{Kind: persistence.QueueKind(kind), Target: fromNull(target), Vat: fromNull(vat), KPID: fromNull(kpid)}
			it.Message.Methargs.Body, it.Message.Result = fromNull(body), fromNull(result)
			if it.Message.Methargs.Slots, err = decodeList(fromNull(slots)); err != nil {
				return n, it, fmt.Errorf("column slots: %w", err)
			}
			n, err = count("seq", seq)
			return
		},
		check: func(it persistence.QueueItem) error {
			if it.Kind != persistence.QueueSend && it.Kind != persistence.QueueNotify {
				return fmt.Errorf("kind %q: breaks CHECK (kind IN ('send', 'notify'))", it.Kind)
			}
			return nil
		},
	},
	&tableCodec[persistence.GCActionKey, struct{}]{
		table: "gc_actions", cols: []string{"vat_id", "kind", "kref"}, nkeys: 3,
		of:  func(t *persistence.Tables) rowTable[persistence.GCActionKey, struct{}] { return t.GCActions },
		key: func(k persistence.GCActionKey) []any { return []any{k.Vat, string(k.Kind), k.KRef} },
		row: func(k persistence.GCActionKey, _ struct{}) []any { return []any{k.Vat, string(k.Kind), k.KRef} },
		scan: func(scan func(...any) error) (k persistence.GCActionKey, _ struct{}, err error) {
			var kind string
			err = scan(&k.Vat, &kind, &k.KRef)
			k.Kind = persistence.GCKind(kind)
			return
		},
	},
	&tableCodec[string, uint64]{
		table: "reap_queue", cols: []string{"vat_id", "seq"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, uint64] { return t.ReapQueue },
		key: func(k string) []any { return []any{k} },
		row: func(k string, seq uint64) []any { return []any{k, int64(seq)} },
		scan: func(scan func(...any) error) (k string, n uint64, err error) {
			var seq int64
			if err = scan(&k, &seq); err != nil {
				return
			}
			n, err = count("seq", seq)
			return
		},
	},
	&tableCodec[string, persistence.IdempotencyRow]{
		table: "idempotency", cols: []string{"key", "kpid", "digest", "seq"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.IdempotencyRow] { return t.Idempotency },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.IdempotencyRow) []any { return []any{k, r.KPID, r.Digest, int64(r.Seq)} },
		scan: func(scan func(...any) error) (k string, r persistence.IdempotencyRow, err error) {
			var seq int64
			if err = scan(&k, &r.KPID, &r.Digest, &seq); err != nil {
				return
			}
			r.Seq, err = count("seq", seq)
			return
		},
	},
	&tableCodec[string, persistence.RemoteRow]{
		table: "remotes", cols: []string{"remote_id", "peer_id", "address", "state", "next_object", "next_promise", "next_send", "acked", "applied"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, persistence.RemoteRow] { return t.Remotes },
		key: func(k string) []any { return []any{k} },
		row: func(k string, r persistence.RemoteRow) []any {
			return []any{k, r.PeerID, r.Address, string(r.State), int64(r.NextObject), int64(r.NextPromise), int64(r.NextSend), int64(r.Acked), int64(r.Applied)}
		},
		scan: scanRemote,
		check: func(r persistence.RemoteRow) error {
			// The schema's CHECKs, for rows that reach the store another
			// way than an INSERT (a paged read of a tampered file).
			if r.NextObject < 1 || r.NextPromise < 1 || r.NextSend < 1 || r.Acked >= r.NextSend {
				return fmt.Errorf("next_object %d, next_promise %d, next_send %d, acked %d: breaks the remotes CHECKs", r.NextObject, r.NextPromise, r.NextSend, r.Acked)
			}
			return nil
		},
	},
	&tableCodec[persistence.OutboxKey, string]{
		table: "remote_outbox", cols: []string{"remote_id", "seq", "message"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.OutboxKey, string] { return t.Outbox },
		key: func(k persistence.OutboxKey) []any { return []any{k.Remote, int64(k.Seq)} },
		row: func(k persistence.OutboxKey, v string) []any { return []any{k.Remote, int64(k.Seq), v} },
		scan: func(scan func(...any) error) (k persistence.OutboxKey, v string, err error) {
			var seq int64
			if err = scan(&k.Remote, &seq, &v); err != nil {
				return
			}
			k.Seq, err = count("seq", seq)
			return
		},
	},
	&tableCodec[string, string]{
		table: "sturdy_refs", cols: []string{"oid", "kref"}, nkeys: 1,
		of:  func(t *persistence.Tables) rowTable[string, string] { return t.SturdyRefs },
		key: func(k string) []any { return []any{k} },
		row: func(k, v string) []any { return []any{k, v} },
		scan: func(scan func(...any) error) (k, v string, err error) {
			err = scan(&k, &v)
			return
		},
		check: func(kref string) error {
			// The schema's CHECK on kref, for a paged read of a tampered
			// file (the oid is the key, checked by the primary key's).
			if !strings.HasPrefix(kref, "ko") {
				return fmt.Errorf("kref %q: breaks the sturdy_refs CHECKs", kref)
			}
			return nil
		},
	},
	&tableCodec[persistence.RetiredKey, persistence.RetiredRow]{
		table: "remote_retired", cols: []string{"remote_id", "ref", "kpid", "seq"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.RetiredKey, persistence.RetiredRow] { return t.Retired },
		key: func(k persistence.RetiredKey) []any { return []any{k.Remote, k.Ref} },
		row: func(k persistence.RetiredKey, r persistence.RetiredRow) []any {
			return []any{k.Remote, k.Ref, r.KRef, int64(r.Seq)}
		},
		scan: func(scan func(...any) error) (k persistence.RetiredKey, r persistence.RetiredRow, err error) {
			var seq int64
			if err = scan(&k.Remote, &k.Ref, &r.KRef, &seq); err != nil {
				return
			}
			r.Seq, err = count("seq", seq)
			return
		},
	},
	&tableCodec[persistence.SentKey, uint64]{
		table: "remote_sent", cols: []string{"remote_id", "ref", "seq"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.SentKey, uint64] { return t.Sent },
		key: func(k persistence.SentKey) []any { return []any{k.Remote, k.Ref} },
		row: func(k persistence.SentKey, seq uint64) []any { return []any{k.Remote, k.Ref, int64(seq)} },
		scan: func(scan func(...any) error) (k persistence.SentKey, seq uint64, err error) {
			var n int64
			if err = scan(&k.Remote, &k.Ref, &n); err != nil {
				return
			}
			seq, err = count("seq", n)
			return
		},
	},
	&tableCodec[persistence.GoneKey, persistence.GoneRow]{
		table: "remote_gone", cols: []string{"remote_id", "ref", "kref", "seq"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.GoneKey, persistence.GoneRow] { return t.Gone },
		key: func(k persistence.GoneKey) []any { return []any{k.Remote, k.Ref} },
		row: func(k persistence.GoneKey, r persistence.GoneRow) []any {
			return []any{k.Remote, k.Ref, r.KRef, int64(r.Seq)}
		},
		scan: func(scan func(...any) error) (k persistence.GoneKey, r persistence.GoneRow, err error) {
			var seq int64
			if err = scan(&k.Remote, &k.Ref, &r.KRef, &seq); err != nil {
				return
			}
			r.Seq, err = count("seq", seq)
			return
		},
	},
	&tableCodec[persistence.VatstoreKey, string]{
		table: "vatstore", cols: []string{"vat_id", "key", "value"}, nkeys: 2,
		of:  func(t *persistence.Tables) rowTable[persistence.VatstoreKey, string] { return t.Vatstore },
		key: func(k persistence.VatstoreKey) []any { return []any{k.Vat, k.Key} },
		row: func(k persistence.VatstoreKey, v string) []any { return []any{k.Vat, k.Key, v} },
		scan: func(scan func(...any) error) (k persistence.VatstoreKey, v string, err error) {
			err = scan(&k.Vat, &k.Key, &v)
			return
		},
	},
}

// rowTable is what a codec needs of a store's table: persistence.Table
// and persistence.VatstoreTable both have it.
type rowTable[K comparable, V any] interface {
	Load(K, V)
	Deletes(func(K))
	Upserts(func(K, V))
}

// codec is one entry of codecs, whatever its key and row types.
type codec interface {
	name() string
	// keyCount is how many leading columns form the row's key.
	keyCount() int
	selectSQL() string
	// load reads one row with scan into the table's committed view.
	load(t *persistence.Tables, scan func(...any) error) error
	// page makes the table a paged one over the file, if it is one of
	// pagedTables, and reports whether it did.
	page(ctx context.Context, b *sqliteBackend, t *persistence.Tables) (bool, error)
	// deletes and upserts write the table's changes since the last flush.
	deletes(w *batchWriter, t *persistence.Tables)
	upserts(w *batchWriter, t *persistence.Tables)
}

// tableCodec is the codec of a table keyed by K with rows of V.
type tableCodec[K comparable, V any] struct {
	table string
	cols  []string // every column, the nkeys key columns first
	nkeys int
	of    func(*persistence.Tables) rowTable[K, V]
	key   func(K) []any
	row   func(K, V) []any
	// scan reads one row, checking what a Go type cannot hold (a negative
	// count, a list that is not a JSON list of strings).
	scan func(scan func(...any) error) (K, V, error)
	// check, for a paged table, checks a row read on demand against the
	// schema's CHECKs, which the quick_check at open no longer covers
	// (see Options.FullCheck). A load does not call it: a read-only open
	// loads such a row, and the auditor reports it.
	check func(V) error
}

func (c *tableCodec[K, V]) name() string  { return c.table }
func (c *tableCodec[K, V]) keyCount() int { return c.nkeys }

func (c *tableCodec[K, V]) selectSQL() string {
	return "SELECT " + strings.Join(c.cols, ", ") + " FROM " + c.table
}

func (c *tableCodec[K, V]) load(t *persistence.Tables, scan func(...any) error) error {
	k, v, err := c.scan(scan)
	if err != nil {
		return err
	}
	c.of(t).Load(k, v)
	return nil
}

func (c *tableCodec[K, V]) page(ctx context.Context, b *sqliteBackend, t *persistence.Tables) (bool, error) {
	parts, ok := pagedTables[c.table]
	if !ok {
		return false, nil
	}
	if vt, ok := any(c.of(t)).(*persistence.VatstoreTable); ok {
		src, ok := b.sources[c.table].(*vatstoreSource)
		if !ok {
			rs, err := newRowSource(ctx, b, any(c).(*tableCodec[persistence.VatstoreKey, string]), parts)
			if err != nil {
				return false, err
			}
			if src, err = newVatstoreSource(ctx, b, rs); err != nil {
				return false, err
			}
			b.sources[c.table] = src
		}
		vt.Page(src, b.opts.CacheRows)
		return true, nil
	}
	pt, ok := c.of(t).(*persistence.Table[K, V])
	if !ok {
		return false, nil
	}
	// The sources are made once: Verify loads a scratch copy of the
	// tables after every crank in tests, and each Load pages it.
	src, ok := b.sources[c.table].(persistence.Source[K, V])
	if !ok {
		rs, err := newRowSource(ctx, b, c, parts)
		if err != nil {
			return false, err
		}
		src = rs
		if cl, ok := any(rs).(*rowSource[persistence.CListKey, persistence.CListRow]); ok {
			cs, err := newCListSource(ctx, b, cl)
			if err != nil {
				return false, err
			}
			src = any(cs).(persistence.Source[K, V])
		}
		b.sources[c.table] = src
	}
	pt.Page(src, b.opts.CacheRows)
	return true, nil
}

func (c *tableCodec[K, V]) deletes(w *batchWriter, t *persistence.Tables) {
	var ks []K
	c.of(t).Deletes(func(k K) { ks = append(ks, k) })
	w.batches(persistence.OpDelete, c.table, c.cols[:c.nkeys], len(ks), func(i int) []any { return c.key(ks[i]) })
}

func (c *tableCodec[K, V]) upserts(w *batchWriter, t *persistence.Tables) {
	var ks []K
	var vs []V
	c.of(t).Upserts(func(k K, v V) { ks, vs = append(ks, k), append(vs, v) })
	w.batches(persistence.OpUpsert, c.table, c.cols, len(ks), func(i int) []any { return c.row(ks[i], vs[i]) })
}

// scanRemote reads one remotes row, checking that every counter is a
// count (never negative).
func scanRemote(scan func(...any) error) (k string, r persistence.RemoteRow, err error) {
	var state string
	var no, np, ns, ack, app int64
	if err = scan(&k, &r.PeerID, &r.Address, &state, &no, &np, &ns, &ack, &app); err != nil {
		return
	}
	r.State = persistence.RemoteState(state)
	for _, c := range []struct {
		col string
		v   int64
		to  *uint64
	}{
		{"next_object", no, &r.NextObject}, {"next_promise", np, &r.NextPromise},
		{"next_send", ns, &r.NextSend}, {"acked", ack, &r.Acked}, {"applied", app, &r.Applied},
	} {
		if *c.to, err = count(c.col, c.v); err != nil {
			return
		}
	}
	return
}
