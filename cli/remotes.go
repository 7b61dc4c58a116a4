package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/ocapgo/kernel-actors/kernel"
)

// runRemotes is the remotes command: a running kernel's peer kernels
// (serve --remote-listen), listed, added, introduced and given up on.
// The verb is the first argument, so that one command covers the whole
// of a peer's life and its help says it in one place.
func runRemotes(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "remotes", "[list [--json] | add PEER ADDRESS | export REMOTE KREF | import REMOTE REF | give-up REMOTE] [client flags]", `
Shows and changes a running kernel's peer kernels (serve --remote-listen;
docs/remote.md):

  list                  each remote's id, peer id, address, how many
                        messages wait for its ack, and whether the kernel
                        gave up on it (the default verb)
  add PEER ADDRESS      make the kernel with peer id PEER, at HOST:PORT, a
                        peer; prints its remote id (a known peer keeps
                        its id and moves to ADDRESS)
  export REMOTE KREF    give the remote the object KREF; prints the ref
                        the peer's host imports
  import REMOTE REF     turn the peer's REF into a presence here; prints
                        its kref (pinned: release it when done)
  give-up REMOTE        give up on the peer now: its pending results
                        reject with PEER_UNREACHABLE; it cannot be undone

"status" shows this kernel's own peer id and address, what the other
kernel's host gives "remotes add".`+clientNote)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args, 0, 3)
	if err != nil {
		return err
	}
	verb := "list"
	if len(pos) > 0 {
		verb, pos = pos[0], pos[1:]
	}
	want := map[string]int{"list": 0, "add": 2, "export": 2, "import": 2, "give-up": 1}
	n, ok := want[verb]
	switch {
	case !ok:
		return usageErr("remotes %q: want list, add, export, import or give-up", verb)
	case len(pos) != n:
		return usageErr("remotes %s: want %d argument(s), got %d", verb, n, len(pos))
	}
	if verb == "export" {
		// Checked here, before the network: an introduction of the wrong
		// object cannot be taken back by the peer's host.
		if _, err := kernel.ParseKRef(pos[1]); err != nil {
			return usageErr("KREF %q: %v", pos[1], err)
		}
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	switch verb {
	case "add":
		id, err := c.AddRemote(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, id)
	case "export":
		ref, err := c.ExportToRemote(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, ref)
	case "import":
		kref, err := c.ImportFromRemote(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, kref)
	case "give-up":
		if err := c.GiveUpRemote(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "gave up on remote %s\n", pos[0])
	default:
		list, err := c.Remotes(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e, list)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REMOTE\tPEER\tADDRESS\tPENDING\tSTATE")
		for _, r := range list {
			state := "active"
			if r.GivenUp {
				state = "given-up"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.ID, r.Peer, r.Address, r.Pending, state)
		}
		return tw.Flush()
	}
	return nil
}
