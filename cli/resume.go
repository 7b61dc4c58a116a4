package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// What run says when the database already holds the cluster. A launch is
// one kernel transaction, so after a crash the subcluster either exists,
// with its bootstrap message queued or delivered, or does not exist at
// all; and the kernel keeps the bootstrap's result with the subcluster,
// and terminates the subcluster in the unit that rejects its bootstrap.
// So run can tell, and says, which of these it found:
//
//   - the bootstrap had settled before this run: its result, and that it
//     does not run again;
//   - it had not (the last run stopped between the launch and the end of
//     the bootstrap): it runs now, and its result is printed once it
//     settles;
//   - it is rejected now: the kernel has terminated the subcluster, so run
//     launches it afresh, as on an empty database;
//   - there is no such subcluster (never launched, or a bootstrap that was
//     rejected in an earlier run): run launches it.
//
// Which of the first two it was is read from the file before the kernel
// opens it: the resume may deliver the bootstrap before run can ask.

// prior is what the database held before this run's kernel opened it.
//
// It is captured before the kernel starts because starting resumes the
// file: by the time run could ask the kernel, the bootstrap may have
// run, and "had it finished before?" could no longer be answered.
type prior struct {
	// cranks is how many cranks the file had committed: the cranks "in
	// this run" are counted from here, the resume's included.
	cranks uint64
	// launch is the subcluster launched from the config, if found.
	launch kernel.SubclusterInfo
	found  bool
}

// readPrior reads, without changing anything, what the database at path
// holds of cfg, as the last process left it. A path that does not exist
// yet and "" (in memory) hold nothing.
func readPrior(ctx context.Context, path string, cfg kernel.ClusterConfig) (prior, error) {
	// In memory: there is no earlier run to have left anything.
	if path == "" {
		return prior{}, nil
	}
	// A file that does not exist is the first run, not an error; opening
	// it read-only would fail instead of creating it.
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return prior{}, nil
	}
	// INVARIANT: the prior state is read read-only and the store closed
	// before the kernel opens the file, so this look changes nothing and
	// holds no handle the kernel would contend with.
	st, err := sqlitestore.Open(ctx, path, persistence.Options{ReadOnly: true})
	if err != nil {
		return prior{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer st.Close(ctx)
	// A kernel over the read-only store, never started: only its view of
	// subclusters is used, so the decoding is the kernel's own.
	k, err := kernel.New(kernel.Config{Store: st})
	if err != nil {
		return prior{}, fmt.Errorf("read %s: %w", path, err)
	}
	p := prior{cranks: kernel.CrankCount(st)}
	p.launch, p.found = sameCluster(k.Subclusters(), cfg)
	return p, nil
}

// sameCluster finds a subcluster launched from the same config. Configs
// compare as JSON, as the store keeps them (map keys sorted; 3 and 3.0
// alike).
func sameCluster(scs []kernel.SubclusterInfo, cfg kernel.ClusterConfig) (kernel.SubclusterInfo, bool) {
	// Compared as JSON because that is how the store keeps configs: two
	// configs equal as text after a round trip are the same launch.
	want, err := json.Marshal(cfg)
	if err != nil {
		// A config that cannot be marshalled cannot have been stored either.
		return kernel.SubclusterInfo{}, false
	}
	for _, sc := range scs {
		if got, err := json.Marshal(sc.Config); err == nil && bytes.Equal(got, want) {
			return sc, true
		}
	}
	return kernel.SubclusterInfo{}, false
}

// subclusterByID finds subcluster id in scs.
func subclusterByID(scs []kernel.SubclusterInfo, id kernel.SubclusterID) (kernel.SubclusterInfo, bool) {
	for _, sc := range scs {
		if sc.ID == id {
			return sc, true
		}
	}
	return kernel.SubclusterInfo{}, false
}

// resumeLaunch says what run found of cfg's subcluster and launches it if
// there is none. It returns the subcluster whose bootstrap runs now, whose
// result run reports once the kernel is idle ("" if none).
func resumeLaunch(ctx context.Context, e *env, k *actors.Kernel, db string, cfg kernel.ClusterConfig,
	before prior, now []kernel.SubclusterInfo) (kernel.SubclusterID, error) {
	// Matched by config, not by id or name: the user gives a config, and
	// only the same config is the same cluster to resume.
	sc, ok := sameCluster(now, cfg)
	if !ok {
		// Found before but not now: saying so explains why run launches a
		// cluster the user knows was there.
		if before.found {
			// It was there, its bootstrap unsettled (a settled one is
			// never terminated by the kernel): the resume delivered it,
			// it was rejected, and the kernel took the subcluster down.
			fmt.Fprintf(e.stdout, "subcluster %s was in %s with its bootstrap unfinished; the bootstrap ran now and was rejected, so the kernel terminated the subcluster: launching it afresh\n", before.launch.ID, db)
		}
		return "", launchFresh(ctx, e, k, cfg)
	}
	state, value := sc.BootstrapState, sc.BootstrapValue
	// The state before the kernel opened the file decides the message:
	// after the resume, an unfinished bootstrap may already be settled.
	if before.found && before.launch.ID == sc.ID {
		state, value = before.launch.BootstrapState, before.launch.BootstrapValue // as the last run left it
	}
	switch state {
	// A settled bootstrap is never run again: it may have had effects
	// (sent messages, made objects) that must happen once.
	case persistence.PromiseFulfilled:
		out, err := bootstrapJSON(value)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(e.stdout, "subcluster %s is in %s already: resumed. Its bootstrap ran before, with result %s; it does not run again\n", sc.ID, db, out)
		return "", nil
	// Returned so run reports its result once the kernel is idle.
	case persistence.PromiseUnresolved:
		fmt.Fprintf(e.stdout, "subcluster %s is in %s already: resumed. Its bootstrap had not finished when the last run stopped: it runs now\n", sc.ID, db)
		return sc.ID, nil
	// A subcluster launched without a bootstrap has nothing to report.
	case "":
		fmt.Fprintf(e.stdout, "subcluster %s is in %s already: resumed (it was launched without a bootstrap)\n", sc.ID, db)
		return "", nil
	}
	// A rejected bootstrap whose subcluster lives on: the kernel
	// terminates it in the unit that rejects, so the file contradicts
	// itself (the audit should have refused it).
	//
	// Refused rather than relaunched: a file that contradicts the kernel's
	// own rules is not one to build on, and inspect shows what is wrong.
	return "", fmt.Errorf("subcluster %s in %s: its bootstrap was rejected (%w), yet the subcluster was not terminated; \"%s inspect --db %s\" shows it",
		sc.ID, db, kernel.Output{Rejected: true, Value: value}.Err(), e.name, db)
}

// reportBootstrap says how the bootstrap that ran in this run ended, once
// the kernel is idle: its result; or, if it was rejected (the kernel has
// terminated the subcluster), that run launches the subcluster afresh, and
// does. launched reports whether it did.
func reportBootstrap(ctx context.Context, e *env, k *actors.Kernel, id kernel.SubclusterID, cfg kernel.ClusterConfig) (launched bool, err error) {
	st, err := k.Status(ctx)
	if err != nil {
		return false, err
	}
	// Looked up by id: the subcluster whose bootstrap ran is the one run
	// resumed, and only its absence means the kernel terminated it.
	sc, ok := subclusterByID(st.Subclusters, id)
	switch {
	case !ok:
		fmt.Fprintf(e.stdout, "the bootstrap of subcluster %s was rejected, so the kernel terminated the subcluster: launching it afresh\n", id)
		// Relaunched once only: the caller waits for idle again but does not
		// loop, so a bootstrap that always rejects cannot relaunch forever.
		return true, launchFresh(ctx, e, k, cfg)
	case sc.BootstrapState == persistence.PromiseFulfilled:
		out, err := bootstrapJSON(sc.BootstrapValue)
		if err != nil {
			return false, err
		}
		fmt.Fprintf(e.stdout, "bootstrap result: %s\n", out)
		return false, nil
	}
	// Idle with the bootstrap unsettled: nothing queued will settle it
	// (it waits on a promise nobody resolves). Saying "quiescent" and
	// exiting 0 would pass it off as done.
	return false, fmt.Errorf("the bootstrap of subcluster %s has not settled, and the kernel is idle: nothing left to run will settle it", id)
}

// launchFresh launches cfg and prints the subcluster's vats and the
// bootstrap's result.
func launchFresh(ctx context.Context, e *env, k *actors.Kernel, cfg kernel.ClusterConfig) error {
	// A launch is one transaction: if it fails nothing of it stays, so the
	// next run finds no half-launched cluster.
	res, err := k.LaunchSubcluster(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "launched subcluster %s: %s\n", res.SubclusterID, vatList(res.VatIDs))
	// Rendered as the control API renders it, so run and the client
	// commands print results the same way.
	out, err := json.Marshal(control.ToJSON(res.BootstrapResult))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bootstrap result: %s\n", out)
	return nil
}

// bootstrapJSON renders a settled bootstrap's value as the API would,
// references as {"@kref": ...}.
func bootstrapJSON(value marshal.CapData) (string, error) {
	// References are shown as krefs, not resolved: run prints the result,
	// it does not hand out the objects.
	codec := marshal.Codec{ValueOf: func(r marshal.Ref) (any, error) { return kernel.KRef(r.Slot), nil }}
	v, err := codec.Decode(value)
	if err != nil {
		return "", fmt.Errorf("bootstrap result: %w", err)
	}
	out, err := json.Marshal(control.ToJSON(v))
	if err != nil {
		return "", fmt.Errorf("bootstrap result: %w", err)
	}
	return string(out), nil
}
