// Package control is the kernel's control API over HTTP/JSON: the server
// that `kernel-actors serve` runs over an *actors.Kernel (and that any
// program may run over its own), and the client the binary's send, status,
// vats, launch, terminate, restart, upgrade and revoke commands use.
//
// Every request carries a bearer token (serve writes it to a 0600 file
// beside the database); bodies are limited in size; a bad request gets a
// 4xx status and a JSON error naming what is wrong:
//
//	{"error": {"status": 422, "code": "OBJECT_REVOKED", "message": "..."}}
//
// Values cross as JSON with a few tagged forms for what JSON lacks:
// {"@kref": "ko4"} for an object or promise reference (in arguments and
// results), {"@bigint": "123"}, {"@float": "NaN"}, {"@undefined": true},
// {"@error": {"name": ..., "message": ...}}, {"@symbol": name},
// {"@tagged": tag, "payload": ...}, and {"@record": {...}} for a record
// whose keys would read as one of these.
//
// A send may carry an idempotency key (idempotency.go), in the
// Idempotency-Key header or the body: a retry with the same key applies
// nothing and is answered with the first send's result, also after the
// daemon was killed and restarted. Client.Send gives every send a fresh
// key and sends it again, bounded and with backoff, when its answer is
// lost (retry.go); Client.SendKey takes the caller's key, for a retry
// the caller makes later.
//
// What a client can hold is bounded (listen.go): serve the API with
// Server.HTTPServer on Server.Listener, which set read, idle and write
// timeouts, a header limit, and a bound on open connections. serve writes
// its token and address with WritePrivate (files.go): atomically, never
// through a symbolic link. PATH.addr, written last, is its readiness
// signal, and PATH.pid says a serve is starting, so that FindDaemon
// (ready.go) waits for a daemon started just before it and says at once,
// or nearly, when none runs. docs/control-api.md has the endpoints, the
// status codes, the error codes and the limits.
//
// It translates and checks; it must make no kernel decisions of its own.
package control
