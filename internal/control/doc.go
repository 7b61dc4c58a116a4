// Package control is the kernel's control API over HTTP/JSON: the server
// that `kernel-actors serve` runs over an *actors.Kernel, and the client
// the binary's send, status, vats, launch, terminate, restart, upgrade and
// revoke commands use.
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
// {"@error": {"name": ..., "message": ...}}, {"@symbol": name} and
// {"@tagged": tag, "payload": ...}.
//
// It translates and checks; it must make no kernel decisions of its own.
package control
