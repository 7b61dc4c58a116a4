package cli

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
)

// runURL is the url command: OCAP URLs on a running kernel with a remote
// (serve --remote-listen): issue one for an object, revoke one, redeem
// another kernel's.
func runURL(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "url", "issue KREF | revoke URL | redeem URL [client flags]", `
OCAP URLs (docs/remote.md) on a running kernel started with
--remote-listen:

  issue KREF    issue a URL for the object KREF and print it: another
                kernel redeems it for a presence (each issue is a new
                URL; it keeps the object alive until revoked)
  revoke URL    revoke a URL this kernel issued: later redemptions are
                refused with OCAP_URL_UNKNOWN
  redeem URL    redeem another kernel's URL and print the presence's
                kref (pinned: release it when done); waits for the
                issuer's answer within --timeout

A URL is a capability: whoever has it can redeem it. Print it only where
its readers may hold the object.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	pos, err := parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	verb, arg := pos[0], pos[1]
	switch verb {
	case "issue":
		if _, err := kernel.ParseKRef(arg); err != nil {
			return usageErr("KREF %q: %v", arg, err)
		}
	case "revoke", "redeem":
	default:
		return usageErr("url %q: want issue, revoke or redeem", verb)
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	switch verb {
	case "issue":
		url, err := c.IssueURL(ctx, arg)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, url)
	case "revoke":
		if err := c.RevokeURL(ctx, arg); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "revoked")
	case "redeem":
		kref, err := c.RedeemURL(ctx, arg)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, kref)
	}
	return nil
}
