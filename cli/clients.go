package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/kernel"
)

// clientNote ends every client command's help, so each one says how it
// finds the daemon without the user reading a separate page.
const clientNote = `
It talks to a running "kernel-actors serve"; give --db PATH (the daemon's
database: the token and address are read beside it), or --addr with
--token-file or $KERNEL_ACTORS_TOKEN.`

// runLaunch is the launch command: the config is checked here first, as
// run checks it, so a mistake is named at its line without a round trip.
func runLaunch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "launch", "--config FILE [client flags]", `
Launches the subcluster that FILE (JSON or YAML, as for run; "-" for
standard input) describes and prints its ids and the bootstrap result.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	config := fs.String("config", "", `the cluster config file, "-" for standard input; required`)
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *config == "" {
		return usageErr("--config is required")
	}
	// Read here as run reads it: a mistake the file alone shows is named
	// at its line before anything is sent (the daemon checks it again,
	// and the bundles), and a huge file is never read whole.
	//
	// The config is checked here, before dialling, so a mistake is named
	// with its line and field by this command, not as a daemon's 400.
	// No bundle check: the daemon's registry, not this binary's, decides.
	_, body, err := loadConfig(e, *config, clusterfile.Options{})
	if err != nil {
		return err
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := c.Launch(ctx, body)
	if err != nil {
		// The daemon's error is prefixed with the config's name so the user
		// knows which file the refusal is about.
		return fmt.Errorf("%s: %w", configName(*config), err)
	}
	return printJSON(e, res)
}

// runSend is the send command. Every send carries an idempotency key, so
// the client's own retries (and the user's, with --key) apply once.
func runSend(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "send", "TARGET METHOD [ARG...] [--key KEY] [client flags]", `
Sends METHOD(ARG...) to the object or promise TARGET (a kref such as ko4)
and prints the result as JSON. Each ARG is JSON if it parses as JSON (42,
true, "text", [1,2], {"a":1}), @KREF for a reference (@ko5), and otherwise
a string. A rejection is reported with its code and exits 1.

Every send has an idempotency key: KEY, or a fresh random one. If the
answer is lost (the connection breaks, the daemon dies), the send is sent
again with its key, a few times with a growing wait, and applies once
however many of them reach the kernel. If it still gets no answer, the
error names the key: sending again with --key KEY later, also after the
daemon restarted, applies nothing new and prints the first send's result.
A KEY already used with another message is refused (HTTP 409,
IDEMPOTENCY_KEY_REUSED). The daemon keeps the newest 10,000 keys.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	// A fresh key by default: every send is safe to retry, and the user
	// only names a key to retry across runs of the command.
	key := fs.String("key", "", "idempotency key (1 to 256 bytes): a send again with the same key applies at most once (default: a fresh random one)")
	pos, err := parse(fs, args, 2, -1)
	if err != nil {
		return err
	}
	// A bad target is a usage error, found before the network is used.
	if _, err := kernel.ParseKRef(pos[0]); err != nil {
		return usageErr("TARGET %q: %v", pos[0], err)
	}
	// --key "" is refused, not read as "make one": a script that meant to
	// pass a key and passed nothing would lose its retry safety silently.
	if flagGiven(fs, "key") && *key == "" {
		return usageErr("--key: empty (leave it out for a fresh one)")
	}
	sendArgs := make([]any, 0, len(pos)-2)
	for _, a := range pos[2:] {
		sendArgs = append(sendArgs, parseArg(a))
	}
	if *key == "" {
		// Made before dialling so the same key is used for every retry the
		// client makes, which is what makes the retries apply once.
		if *key, err = control.NewIdempotencyKey(); err != nil {
			return err
		}
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	v, err := c.SendKey(ctx, *key, pos[0], pos[1], sendArgs)
	// With no answer the outcome is unknown; the message names the key
	// because retrying with it is the one safe way to find out.
	if errors.Is(err, control.ErrNoAnswer) {
		// The one case where the user must act, and can only do so safely
		// with the key: say how.
		return fmt.Errorf("%w\nThe send may or may not have taken effect. Once the daemon answers, send it again with --key %s: it applies at most once, and prints the result", err, *key)
	}
	if err != nil {
		return err
	}
	return printJSON(e, v)
}

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	// Visit, not VisitAll: only flags set on the command line count, so
	// "given but empty" can be told from "not given".
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// parseArg reads one command-line argument as a JSON value.
func parseArg(s string) any {
	// @ marks a reference only when a valid kref follows; "@home" stays a
	// string, so ordinary text is never turned into a capability.
	if ref, ok := strings.CutPrefix(s, "@"); ok {
		if _, err := kernel.ParseKRef(ref); err == nil {
			return map[string]any{"@kref": ref}
		}
	}
	dec := json.NewDecoder(strings.NewReader(s))
	// UseNumber keeps large integers exact; float64 would silently round
	// anything past 2^53.
	dec.UseNumber()
	var v any
	// Only a whole JSON value counts: "1 2" is sent as a string rather
	// than as 1 with the rest dropped.
	if err := dec.Decode(&v); err == nil && !dec.More() {
		return v
	}
	return s
}

// runStatus is the status command: the daemon's Status, as a table or
// JSON.
func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "[--json] [client flags]", `
Shows the kernel's status: vats, subclusters, queue length, cranks and
commit policy.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		// JSON is the daemon's answer as is, for scripts; the text below is
		// for a person and may change.
		return printJSON(e, st)
	}
	active := 0
	for _, v := range st.Vats {
		if v.Active {
			active++
		}
	}
	fmt.Fprintf(e.stdout, "database      %s\ncommit policy %s\ncranks        %d\nqueue length  %d\nsubclusters   %d\nvats          %d (%d active)\n",
		st.DBPath, st.CommitPolicy, st.Cranks, st.QueueLength, len(st.Subclusters), len(st.Vats), active)
	if st.Peer != nil {
		// What another kernel's host needs for "remotes add".
		fmt.Fprintf(e.stdout, "peer          %s\nremote        %s\n", st.Peer.ID, st.Peer.Address)
	}
	return nil
}

// runVats is the vats command: the daemon's vats, one a line.
func runVats(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "vats", "[--json] [client flags]", `
Lists the vats: id, name, subcluster, bundle, failure policy, state
(active, paged-out or terminated), incarnation and root object.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	vats, err := c.Vats(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, vats)
	}
	// Aligned columns, whatever the length of names and bundles.
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	// CODE: a Go vat's bundle, or a JavaScript vat's bundleSpec.
	fmt.Fprintln(tw, "VAT\tNAME\tSUBCLUSTER\tCODE\tPOLICY\tSTATE\tINCARNATION\tROOT")
	for _, v := range vats {
		state := "active"
		switch {
		case !v.Active:
			state = "terminated"
		case v.PagedOut:
			state = "paged-out" // active, its instance dropped until its next delivery
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.Name, v.Subcluster, v.Code, v.FailurePolicy, state, v.Incarnation, v.Root)
	}
	return tw.Flush()
}

// runTerminate is the terminate command.
func runTerminate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "terminate", "VAT [--reason TEXT] [client flags]", `
Terminates a vat: the promises it decides are rejected, its objects are
gone (messages to them reject with OBJECT_DELETED), its actor is stopped.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	// The default reason names the command, so the vat's log says a
	// person ended it, not a fault.
	reason := fs.String("reason", "terminated by "+e.name+" terminate", "why, for the vat's log")
	// Exactly one vat: terminating several at once from one typo-prone
	// line is not worth the risk.
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	if err := c.TerminateVat(ctx, pos[0], *reason); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "vat %s terminated\n", pos[0])
	return nil
}

// runRestart is the restart command: a new incarnation on the vat's
// durable state.
func runRestart(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "restart", "VAT [client flags]", `
Restarts a vat from its durable state as a new incarnation: durable objects
and baggage stay, ephemeral objects are gone.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	inc, err := c.RestartVat(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "vat %s restarted: incarnation %d\n", pos[0], inc)
	return nil
}

// runUpgrade is the upgrade command: a new incarnation on new code.
func runUpgrade(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "upgrade", "VAT BUNDLE | VAT --bundle-spec FILE [--globals NAME,...] [client flags]", `
Restarts a vat on new code, keeping its durable state: a Go vat on the
registered BUNDLE, a JavaScript vat on the bundle or .js module FILE (a
path relative to this directory, or a file:// URL), with the globals
named. The new code must define every durable kind the old one did, else
the upgrade is refused and the old code keeps running. A Go vat cannot
become a JavaScript one, nor the reverse.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	spec := fs.String("bundle-spec", "", "a JavaScript vat's new code: a bundle or a .js module (path or file:// URL)")
	globals := fs.String("globals", "", "with --bundle-spec: the globals the new code gets beyond console, comma-separated")
	pos, err := parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	switch {
	// The two forms are exclusive: a vat upgrades either to a registered
	// bundle or to JavaScript code, and guessing would run the wrong one.
	case *spec == "" && len(pos) < 2:
		return usageErr("missing arguments: want VAT BUNDLE, or VAT --bundle-spec FILE")
	case *spec != "" && len(pos) == 2:
		return usageErr("BUNDLE %q and --bundle-spec both given; want one", pos[1])
	// Globals grant host powers to JavaScript code only; refusing them
	// elsewhere keeps a grant from being silently ignored.
	case *spec == "" && *globals != "":
		return usageErr("--globals goes with --bundle-spec")
	}
	code := *spec
	if code == "" {
		code = pos[1]
	} else if !strings.Contains(code, "://") {
		// The daemon would resolve a relative path in its own directory.
		//
		// Made absolute here because the daemon runs in another directory:
		// a relative path would name a different file there.
		if code, err = filepath.Abs(code); err != nil {
			return usageErr("--bundle-spec %q: %v", *spec, err)
		}
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	var inc int64
	if *spec != "" {
		var names []string
		if *globals != "" {
			// No globals unless named: a vat gets only the powers asked for.
			names = strings.Split(*globals, ",")
		}
		inc, err = c.UpgradeJSVat(ctx, pos[0], code, names)
	} else {
		inc, err = c.UpgradeVat(ctx, pos[0], code)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "vat %s upgraded to %s: incarnation %d\n", pos[0], code, inc)
	return nil
}

// runRevoke is the revoke command. The kref is parsed here, so a typo is
// a usage error rather than a 404 from the daemon.
func runRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "revoke", "KREF [client flags]", `
Revokes an object: every message sent to it from now on, by anyone, is
rejected with OBJECT_REVOKED.`+clientNote)
	var cf clientFlags
	cf.register(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	// Revocation cannot be undone, so the kref is checked locally first.
	if _, err := kernel.ParseKRef(pos[0]); err != nil {
		return usageErr("KREF %q: %v", pos[0], err)
	}
	c, ctx, cancel, err := cf.dial(ctx, e)
	if err != nil {
		return err
	}
	defer cancel()
	if err := c.Revoke(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s revoked\n", pos[0])
	return nil
}

// stdinName is what errors call a config read from standard input.
//
// stdinName is what errors call standard input ("stdin:5: ..."), so a
// config piped in is still named in messages.
const stdinName = "stdin"

// loadConfig reads and checks the cluster config that --config names: the
// file at path, or standard input for "-". It returns the config and the
// text it was read from (what launch sends). A mistake is named by file
// (or "stdin"), line and field.
func loadConfig(e *env, path string, opts clusterfile.Options) (kernel.ClusterConfig, []byte, error) {
	var data []byte
	var err error
	name := configName(path)
	if path == "-" {
		// INVARIANT: standard input is read through clusterfile.Read, which
		// stops at MaxSize+1 bytes, so an endless pipe cannot exhaust memory.
		data, err = clusterfile.Read(e.stdin, name)
	} else {
		// INVARIANT: a file is read bounded too; a device or a growing file
		// is refused at MaxSize rather than read whole.
		data, err = clusterfile.ReadFile(path)
	}
	if err != nil {
		return kernel.ClusterConfig{}, nil, err
	}
	// The text is parsed once, here, so errors name line and field before
	// anything is sent or started.
	cfg, err := clusterfile.LoadText(data, name, opts)
	if err != nil {
		return cfg, data, err
	}
	// A relative bundleSpec names a file beside the config; the text sent
	// to a daemon (launch) then carries the absolute paths, as JSON, which
	// the daemon reads as it reads the file (a config is JSON or YAML).
	changed, err := absSpecs(cfg, path)
	if err != nil {
		return cfg, data, fmt.Errorf("%s: %w", name, err)
	}
	if changed {
		if data, err = json.Marshal(cfg); err != nil {
			return cfg, data, fmt.Errorf("%s: %w", name, err)
		}
	}
	return cfg, data, nil
}

// configName is what messages call the config --config names.
func configName(path string) string {
	if path == "-" {
		return stdinName
	}
	return path
}

// printJSON prints v indented; raw JSON is re-indented.
func printJSON(e *env, v any) error {
	// A raw answer from the daemon is indented, not decoded and encoded
	// again, so numbers and key order stay exactly as sent.
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, buf.String())
		return nil
	}
	enc := json.NewEncoder(e.stdout)
	// Indented for people; jq and scripts read it just as well.
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
