// Package proctest runs a test as several processes: the test binary
// starts itself again once per role (a kernel of a multi-kernel test),
// with the role in an environment variable, and the parent talks to each
// child over its stdin and stdout, one JSON line a message, while the
// child's own test output passes through to the parent's log.
//
// The multi-process tests of the remote kernels need it: protoactor-go
// remote keeps process-wide state, so each kernel with a remote runs in a
// process of its own (actors' and remote/transport's two-process tests).
//
//	switch os.Getenv(env) { case "b": childB(t); return }
//	b := proctest.Start[line](t, ctx, env, "TestX", "b")
//	hello := b.Read()
//	...
//	b.Wait() // the child's own test passed
//
// In the child, proctest.NewPipe[line](t) reads the parent's lines and
// writes its own.
package proctest
