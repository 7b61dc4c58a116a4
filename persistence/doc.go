// Package persistence is the kernel's store: typed tables kept in memory
// over a SQLite database (mattn/go-sqlite3, WAL) that is the truth on
// disk.
//
// It owns the schema and its migrations, opening and checking a database
// file, the per-unit overlay (a unit of work reads its own writes first and
// can be dropped without a trace), commit policies (durable: one SQLite
// transaction per unit; group: one per N units or T), and the vatstore. It
// knows nothing of what the rows mean: no refcounting, routing or GC; that
// is package kernel's. It must not import the kernel.
//
// Path "" opens an in-memory store, the default for tests and demos: the
// SQLite backend's in-memory twin, which keeps its "disk" as maps that a
// flush updates from exactly the rows the SQLite backend would write (both
// pass the same contract tests). Any other path is a SQLite file, created
// with mode 0600. A store is owned by one goroutine.
//
// The tables, readable with the sqlite3 shell:
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
package persistence
