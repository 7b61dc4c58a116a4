// Package cli is the kernel-actors command line as a library: a program
// that registers its own vats in a *vat.Registry gets every subcommand of
// the kernel-actors binary over them, in a few lines:
//
//	func main() {
//		reg := vat.NewRegistry()
//		reg.MustRegister("greeter", buildGreeter, vat.About{Summary: "greets", Methods: []string{"greet(who)"}})
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		code := cli.Main(ctx, reg, os.Args[1:])
//		stop()
//		os.Exit(code)
//	}
//
// The subcommands: demo (the bundled, narrated demos, which bring their own
// vats), run (a cluster from a config file, until quiescent), serve (a
// daemon with the control API, package control) and its clients (launch,
// send, status, vats, terminate, restart, upgrade, revoke), inspect (a
// database, read-only, audited), bench (workloads on a fresh kernel,
// against floors measured in the same run; package bench), bundles (what
// the registry holds) and version (from the build info). cmd/kernel-actors is such a main over
// the binary's own bundles.
//
// Exit codes: ExitOK, ExitFailure, ExitUsage. Errors go to stderr and name
// the bad flag, file or value.
//
// It parses, prints and waits; what a command does to a kernel it does
// through package actors (or, for a client, package control), as any
// embedding program would, and it makes no kernel decisions of its own.
package cli
