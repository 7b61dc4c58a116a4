// Package persistence is the kernel's store: typed tables kept in memory,
// with a per-unit overlay, over a Backend that is the truth on disk. It is
// pure Go: package kernel depends on it and on nothing of SQLite.
//
// It owns the per-unit overlay (a unit of work reads its own writes first
// and can be dropped without a trace), commit policies (durable: one
// backend transaction per unit; group: one per N units or T), the
// vatstore, and Verify. It knows nothing of what the rows mean: no
// refcounting, routing or GC; that is package kernel's. It must not import
// the kernel, nor any SQLite package: the SQLite backend, its schema,
// migrations and file checks are package sqlitestore's, which is how a
// file store is opened (sqlitestore.Open).
//
// OpenMemory opens an in-memory store, the default for tests and demos.
// Its committed view is the only copy of its state (nothing survives
// Close); it passes the same contract tests as a file store, which
// package sqlitestore runs against both. A store is owned by one
// goroutine.
//
// The tables (Tables lists them; sqlitestore maps each to SQLite), readable
// with the sqlite3 shell in a file store:
//
//	meta           id counters and the crank count
//	subclusters    launched subclusters and their configs
//	vats           vats, their state, incarnation and import counters
//	objects        kernel objects: owner, revoked, reachable/recognizable counts, pins
//	promises       kernel promises: state, decider, subscribers, value, refcount, queue bounds
//	promise_queue  messages waiting on unresolved promises
//	clist          per-vat c-lists: kref <-> vref, reachable flag
//	run_queue      pending sends and notifies, in order
//	gc_actions     pending dropExport / retireExport / retireImport actions
//	reap_queue     pending bring-out-your-dead requests
//	vatstore       each vat's durable key-value data
//	idempotency    the host's idempotency keys and the result promise of each
//	vat_events     the vat lifecycle log (terminations, restarts)
//	remotes        peer kernels: identity, address, link sequence numbers, ref counters
//	remote_outbox  messages written for each peer and not yet acknowledged
//	sturdy_refs    the OCAP URLs issued and not revoked: object id -> kref
//	remote_retired settled promises a peer may still name until it has applied their notify
//	remote_sent    objects handed to a peer in messages it may not have applied yet
//	remote_gone    objects retired here that a peer may still name until it has applied their retireImports
package persistence
