package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
)

// runDemo is the demo command: the bundled demos (the examples' code),
// whatever the Program's registry holds, since each demo starts its own
// kernel with its own bundles.
func runDemo(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "remote" {
		// Three kernel processes, not one kernel: a command apart
		// (demo_remote.go), with flags of its own.
		return runDemoRemote(ctx, e, args[1:])
	}
	var names []string
	for _, d := range catalog.Demos() {
		names = append(names, d.Name)
	}
	names = append(names, "remote")
	fs := newFlags(e, "demo", "[NAME] [--db PATH] [--list] [-v]", fmt.Sprintf(`
Runs a bundled demo and narrates it: which vat sent what, promise
pipelining, a vat crash rolled back and handled by its failure policy, a
revocation. NAME is one of: %s (default %s). The kernel runs in memory
unless --db names a file to keep its state in (a new one). "remote"
runs three kernels in three processes (see "demo remote --help").`, strings.Join(names, ", "), catalog.Default))
	// In memory by default: a demo is for watching, and leaving a file
	// behind at each run would be a surprise.
	db := fs.String("db", "", "keep the kernel's state in this new SQLite file (default: in memory)")
	list := fs.Bool("list", false, "list the demos and exit")
	verbose := fs.Bool("v", false, "log the kernel's work (one line per crank) to stderr")
	pos, err := parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if *list {
		for _, d := range catalog.Demos() {
			fmt.Fprintf(e.stdout, "%-12s %s\n", d.Name, d.Summary)
		}
		fmt.Fprintf(e.stdout, "%-12s %s\n", "remote", demoRemoteSummary)
		return nil
	}
	name := catalog.Default
	if len(pos) == 1 {
		name = pos[0]
	}
	d, ok := catalog.Find(name)
	if !ok {
		// A usage error listing the names, so the fix is in the message.
		return usageErr("no demo %q (have %s)", name, strings.Join(names, ", "))
	}
	return d.Run(ctx, demos.Options{Out: e.stdout, DBPath: *db, Logger: logger(e, *verbose)})
}
