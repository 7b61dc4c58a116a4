package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
)

// bundleInfo is one bundle as bundles --json prints it.
type bundleInfo struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary,omitempty"`
	Methods []string `json:"methods"`
}

// runBundles is the bundles command: what the Program's registry holds,
// with each bundle's vat.About. It reads the registry only; nothing is
// built, since a build function may need parameters or a vatstore.
func runBundles(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundles", "[--json]", `
Lists the vat bundles this binary can launch, each with what it is for
and its root object's methods, as the program registered them: a config
file for run, or a launch on serve, names them in vats.NAME.bundle. A vat
may instead name JavaScript code, vats.NAME.bundleSpec (a bundle file or
a .js module), which needs no registration: it runs in a Node.js worker
(see "kernel-actors run --help").`)
	asJSON := fs.Bool("json", false, `print JSON: [{"name", "summary", "methods"}]`)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	// Empty, not nil, so --json prints [] for a registry with no bundles,
	// which a script can iterate without a null check.
	infos := make([]bundleInfo, 0)
	for _, n := range e.reg.Names() {
		// Only the registered description is read; no bundle is built, since
		// building may need parameters or a vatstore this command has not got.
		about, _ := e.reg.About(n)
		infos = append(infos, bundleInfo{Name: n, Summary: about.Summary, Methods: append([]string{}, about.Methods...)})
	}
	if *asJSON {
		return printJSON(e, infos)
	}
	if len(infos) == 0 {
		// On stderr: stdout stays empty, so a script reading names finds none.
		fmt.Fprintf(e.stderr, "%s registers no vat bundles\n", e.name)
		return nil
	}
	// Two lines a bundle: its name and summary, then its methods under
	// the summary.
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, b := range infos {
		summary := b.Summary
		if summary == "" {
			summary = "(no description registered)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", b.Name, summary)
		if len(b.Methods) > 0 {
			fmt.Fprintf(tw, "\tmethods: %s\n", strings.Join(b.Methods, ", "))
		}
	}
	return tw.Flush()
}
