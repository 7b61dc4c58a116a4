package sqlitestore

// ApplicationID marks a SQLite file as a kernel-actors store ("KACT"), so
// that opening some other program's database is refused rather than
// migrated into.
const ApplicationID = 0x4b414354

// SchemaVersion is the schema version this build writes. A store with a
// higher version was written by a newer build and is refused.
const SchemaVersion = 7

// migrations[i] takes a store from schema version i to i+1. Versions only
// ever grow; a released migration is never edited, only followed by a new
// one. The schema version lives in PRAGMA user_version.
var migrations = [SchemaVersion]string{
	// 0 -> 1: the kernel state.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE subclusters (
	subcluster_id TEXT PRIMARY KEY,
	bootstrap     TEXT NOT NULL,
	config        TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE vats (
	vat_id        TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	subcluster_id TEXT NOT NULL,
	config        TEXT NOT NULL,
	state         TEXT NOT NULL CHECK (state IN ('active', 'terminated')),
	incarnation   INTEGER NOT NULL,
	next_object   INTEGER NOT NULL,
	next_promise  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX vats_by_subcluster ON vats (subcluster_id);

CREATE TABLE objects (
	kref         TEXT PRIMARY KEY,
	owner        TEXT,
	revoked      INTEGER NOT NULL,
	reachable    INTEGER NOT NULL,
	recognizable INTEGER NOT NULL,
	pins         INTEGER NOT NULL,
	CHECK (0 <= reachable AND reachable <= recognizable)
) WITHOUT ROWID;
CREATE INDEX objects_by_owner ON objects (owner) WHERE owner IS NOT NULL;

CREATE TABLE promises (
	kref            TEXT PRIMARY KEY,
	state           TEXT NOT NULL CHECK (state IN ('unresolved', 'fulfilled', 'rejected')),
	decider         TEXT,
	subscribers     TEXT NOT NULL,
	host_subscribed INTEGER NOT NULL,
	value_body      TEXT,
	value_slots     TEXT,
	refcount        INTEGER NOT NULL CHECK (refcount >= 0),
	queue_head      INTEGER NOT NULL,
	queue_tail      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX promises_by_decider ON promises (decider) WHERE decider IS NOT NULL;

CREATE TABLE promise_queue (
	kpid   TEXT NOT NULL,
	seq    INTEGER NOT NULL,
	body   TEXT NOT NULL,
	slots  TEXT NOT NULL,
	result TEXT,
	PRIMARY KEY (kpid, seq)
) WITHOUT ROWID;

CREATE TABLE clist (
	vat_id    TEXT NOT NULL,
	kref      TEXT NOT NULL,
	vref      TEXT NOT NULL,
	reachable INTEGER NOT NULL,
	PRIMARY KEY (vat_id, kref),
	UNIQUE (vat_id, vref)
) WITHOUT ROWID;
CREATE INDEX clist_by_kref ON clist (kref);

CREATE TABLE run_queue (
	seq    INTEGER PRIMARY KEY,
	kind   TEXT NOT NULL CHECK (kind IN ('send', 'notify')),
	target TEXT,
	body   TEXT,
	slots  TEXT,
	result TEXT,
	vat_id TEXT,
	kpid   TEXT
);

CREATE TABLE gc_actions (
	vat_id TEXT NOT NULL,
	kind   TEXT NOT NULL CHECK (kind IN ('dropExport', 'retireExport', 'retireImport')),
	kref   TEXT NOT NULL,
	PRIMARY KEY (vat_id, kind, kref)
) WITHOUT ROWID;

CREATE TABLE reap_queue (
	vat_id TEXT PRIMARY KEY,
	seq    INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;

CREATE TABLE vatstore (
	vat_id TEXT NOT NULL,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (vat_id, key)
) WITHOUT ROWID;
`,
	// 1 -> 2: the vat lifecycle log, where every supervision decision
	// (terminate, restart, give up) is recorded with its reason.
	`
CREATE TABLE vat_events (
	seq         INTEGER PRIMARY KEY,
	vat_id      TEXT NOT NULL,
	incarnation INTEGER NOT NULL,
	event       TEXT NOT NULL,
	reason      TEXT NOT NULL,
	at_crank    INTEGER NOT NULL
);
CREATE INDEX vat_events_by_vat ON vat_events (vat_id, seq);
`,
	// 2 -> 3: what a restart must settle and a crash must not lose: the
	// incarnation a promise's decider had when it got the promise, a
	// subcluster's bootstrap result promise, each vat's recent restarts
	// (the failure policy's intensity window), and the host's idempotency
	// keys (a retried send applies once).
	`
ALTER TABLE promises ADD COLUMN decider_incarnation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE promises ADD COLUMN settled_by_kernel INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subclusters ADD COLUMN bootstrap_kpid TEXT;
ALTER TABLE vats ADD COLUMN restarts TEXT NOT NULL DEFAULT '[]';

CREATE TABLE idempotency (
	key    TEXT PRIMARY KEY,
	kpid   TEXT NOT NULL,
	digest TEXT NOT NULL,
	seq    INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
`,
	// 3 -> 4: peer kernels (docs/remote.md): each remote endpoint with its
	// peer's identity, address, link sequence numbers and ref counters,
	// and the outbox of messages written for it and not yet acknowledged.
	// The CHECKs are the rules a crash must never break: the outbox lies
	// strictly between what the peer acknowledged and the next number.
	`
CREATE TABLE remotes (
	remote_id    TEXT PRIMARY KEY,
	peer_id      TEXT NOT NULL UNIQUE CHECK (length(peer_id) = 64),
	address      TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('active', 'given_up')),
	next_object  INTEGER NOT NULL CHECK (next_object >= 1),
	next_promise INTEGER NOT NULL CHECK (next_promise >= 1),
	next_send    INTEGER NOT NULL CHECK (next_send >= 1),
	acked        INTEGER NOT NULL CHECK (0 <= acked AND acked < next_send),
	applied      INTEGER NOT NULL CHECK (applied >= 0)
) WITHOUT ROWID;

CREATE TABLE remote_outbox (
	remote_id TEXT NOT NULL,
	seq       INTEGER NOT NULL CHECK (seq >= 1),
	message   TEXT NOT NULL,
	PRIMARY KEY (remote_id, seq)
) WITHOUT ROWID;
`,
	// 4 -> 5: the sturdy-ref table (docs/remote.md, "OCAP URLs"): each
	// OCAP URL issued and not revoked, its object id (128 bits in hex)
	// and the kref of the object it names, which never leaves the kernel;
	// and the retired promise refs, which a peer may still name in
	// messages it wrote before it applied their notify (seq).
	`
CREATE TABLE sturdy_refs (
	oid  TEXT PRIMARY KEY CHECK (length(oid) = 32 AND oid NOT GLOB '*[^0-9a-f]*'),
	kref TEXT NOT NULL CHECK (kref GLOB 'ko[1-9]*')
) WITHOUT ROWID;

CREATE TABLE remote_retired (
	remote_id TEXT NOT NULL,
	ref       TEXT NOT NULL CHECK (ref GLOB 'rp[+-][1-9]*'),
	kpid      TEXT NOT NULL CHECK (kpid GLOB 'kp[1-9]*'),
	seq       INTEGER NOT NULL CHECK (seq >= 1),
	PRIMARY KEY (remote_id, ref)
) WITHOUT ROWID;
`,
	// 5 -> 6: the sent exports (docs/remote.md, "GC across kernels"):
	// for each object of this kernel's handed to a peer, the seq of the
	// last message that named it, kept until the peer shows it applied
	// that message, so a drop or retire that crossed it is recognised.
	`
CREATE TABLE remote_sent (
	remote_id TEXT NOT NULL,
	ref       TEXT NOT NULL CHECK (ref GLOB 'ro-[1-9]*'),
	seq       INTEGER NOT NULL CHECK (seq >= 1),
	PRIMARY KEY (remote_id, ref)
) WITHOUT ROWID;
`,
	// 6 -> 7: the gone objects (docs/remote.md, "GC across kernels"):
	// for each object this kernel retired while a peer imported it, the
	// seq of the retireImports that told the peer, and the orphan that
	// stands in for it once a message of the peer's named it, kept until
	// the peer shows it applied that retireImports, so a message that
	// crossed it is not taken for a forgery.
	`
CREATE TABLE remote_gone (
	remote_id TEXT NOT NULL,
	ref       TEXT NOT NULL CHECK (ref GLOB 'ro-[1-9]*'),
	kref      TEXT NOT NULL CHECK (kref = '' OR kref GLOB 'ko[1-9]*'),
	seq       INTEGER NOT NULL CHECK (seq >= 1),
	PRIMARY KEY (remote_id, ref)
) WITHOUT ROWID;
`,
}
