package cli

import (
	"context"
	"fmt"
)

func runBundles(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bundles", "", `
Lists the vat bundles this binary can launch: a config file for run, or a
launch on serve, names them in vats.NAME.bundle.`)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	for _, n := range e.reg.Names() {
		fmt.Fprintln(e.stdout, n)
	}
	return nil
}
