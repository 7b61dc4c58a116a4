package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Launching a subcluster is one unit of work (invariant 12,
// docs/invariants.md): the subcluster and vat rows, each vat's root object,
// the startVat delivery of every vat (in name order), and the bootstrap
// message to the bootstrap vat's root commit together or not at all. A vat
// that fails to start aborts the whole unit, and a crash before the commit
// leaves nothing; after the commit, the bootstrap message is on the run
// queue like any other and is delivered exactly once, after a restart too.
//
// The kernel remembers the bootstrap promise twice: the subcluster row
// holds it (one reference) so its value can be read at any later time, and
// a meta key marks it pending until it settles. If it is rejected (the
// bootstrap method failed, or its vat did), the kernel terminates the
// subcluster in the same unit as the rejection: a launch either completes
// or leaves nothing behind, whoever is watching and whenever the process
// stops. The reference kernel launches vat by vat, each in its own
// transaction, so a crash in between leaves half a subcluster with a
// bootstrap promise nobody will ever settle.

// metaBootstrapPrefix marks a subcluster's bootstrap promise pending:
// "bootstrap.kpN" -> subcluster id, until kpN settles.
const metaBootstrapPrefix = "bootstrap."

// LaunchResult is what Launch made.
type LaunchResult struct {
	SubclusterID SubclusterID
	// RootKref is the bootstrap vat's root object.
	RootKref KRef
	// VatIDs and Roots map config names to vats and their root objects.
	VatIDs map[string]VatID
	Roots  map[string]KRef
	// BootstrapKPID is the result promise of the bootstrap message ("" when
	// LaunchOptions.NoBootstrap). The host is subscribed to it.
	BootstrapKPID KRef
	// BootstrapResult is what the bootstrap method returned, decoded; the
	// runtime fills it once bootstrap has run.
	BootstrapResult any
}

// LaunchOptions change how Launch launches.
type LaunchOptions struct {
	// NoBootstrap launches without a bootstrap message (the kernel's own
	// services vat, and tests that script every delivery).
	NoBootstrap bool
}

// Launch launches cfg as one unit: it records the subcluster and its vats
// (ids in name order, each with its root object o+0, pinned while the vat
// lives), delivers startVat to each vat through d, and queues
// bootstrap(vats, services) to the bootstrap vat's root, where services are
// the host services cfg names (see SetServiceRef). If a vat fails to start,
// nothing is left: the error names the vat and wraps the cause. The host
// awaits the bootstrap through LaunchResult.BootstrapKPID; if bootstrap
// rejects, the kernel terminates the subcluster in that unit.
//
// A Deliverer may have spawned actors for vats of a launch that failed:
// their ids then name no vat (Vat returns ErrUnknownVat), and the runtime
// stops them.
func (k *Kernel) Launch(ctx context.Context, d Deliverer, cfg ClusterConfig, opts LaunchOptions) (LaunchResult, []Output, error) {
	if err := cfg.Validate(); err != nil {
		return LaunchResult{}, nil, err
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return LaunchResult{}, nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	services := map[string]KRef{}
	for _, s := range cfg.Services {
		ref, ok := k.ServiceRef(s)
		if !ok {
			return LaunchResult{}, nil, fmt.Errorf("%w: services: no registered kernel service %q", ErrBadConfig, s)
		}
		// A service whose object has gone (it was not pinned, and was
		// collected) is refused here: bootstrap would name a deleted
		// object, a kernel invariant broken from a host request.
		if err := k.checkLive(ref); err != nil {
			return LaunchResult{}, nil, fmt.Errorf("%w: services: service %q: %w", ErrBadConfig, s, err)
		}
		services[s] = ref
	}
	if err := k.begin(); err != nil {
		return LaunchResult{}, nil, err
	}
	res := k.recordLaunchLocked(cfg, cfgJSON)
	for _, name := range slices.Sorted(maps.Keys(cfg.Vats)) {
		// INVARIANT 12: every start is inside the launch's unit; a failure
		// undoes the records above as well.
		if err := k.deliverStart(ctx, d, res.VatIDs[name]); err != nil {
			k.abort()
			return LaunchResult{}, nil, fmt.Errorf("kernel: launch: vat %q failed to start: %w", name, err)
		}
	}
	if !opts.NoBootstrap {
		res.BootstrapKPID = k.queueBootstrapLocked(res, services)
	}
	out, err := k.commit(ctx)
	if err != nil {
		return LaunchResult{}, nil, err
	}
	return res, out, nil
}

// recordLaunchLocked writes the subcluster and vat rows of cfg and exports
// each vat's root.
func (k *Kernel) recordLaunchLocked(cfg ClusterConfig, cfgJSON []byte) LaunchResult {
	sid := SubclusterID("s" + itoa(k.st.NextID(persistence.MetaNextSubcluster)))
	k.st.PutSubcluster(string(sid), persistence.SubclusterRow{Bootstrap: cfg.Bootstrap, Config: string(cfgJSON)})
	res := LaunchResult{SubclusterID: sid, VatIDs: map[string]VatID{}, Roots: map[string]KRef{}}
	for _, name := range slices.Sorted(maps.Keys(cfg.Vats)) {
		vcJSON, err := json.Marshal(cfg.Vats[name])
		if err != nil {
			bugf("vat config that validated does not encode: %v", err)
		}
		vat := VatID("v" + itoa(k.st.NextID(persistence.MetaNextVat)))
		k.st.PutVat(string(vat), persistence.VatRow{
			Name: name, Subcluster: string(sid), Config: string(vcJSON),
			State: persistence.VatActive, NextObject: 1, NextPromise: 1,
		})
		root, err := k.vrefToKRef(vat, RootVRef, vrefOpts{})
		if err != nil {
			bugf("export root of new vat: %v", err)
		}
		k.pin(root)
		res.VatIDs[name], res.Roots[name] = vat, root
	}
	res.RootKref = res.Roots[cfg.Bootstrap]
	return res
}

// queueBootstrapLocked queues bootstrap(vats, services) to the bootstrap
// vat's root, with a result promise the host awaits and the subcluster
// holds, marked pending.
func (k *Kernel) queueBootstrapLocked(res LaunchResult, services map[string]KRef) KRef {
	kpid := k.newPromise("")
	p := k.mustPromise(kpid)
	p.HostSubscribed = true
	p.RefCount += 2 // the host's hold (used up by its Output) and the subcluster's
	k.st.PutPromise(string(kpid), p)
	row, _ := k.st.Subcluster(string(res.SubclusterID))
	row.BootstrapKPID = string(kpid)
	k.st.PutSubcluster(string(res.SubclusterID), row)
	k.st.SetMeta(metaBootstrapPrefix+string(kpid), string(res.SubclusterID))
	k.enqueueSend(res.RootKref, BootstrapMethargs(res.Roots, services), kpid)
	return kpid
}

// bootstrapSettledLocked is told of every settlement: if kpid is a
// subcluster's pending bootstrap, it is no longer pending, and a rejection
// marks the subcluster for termination at the end of the unit (not at
// once: the bootstrap vat may be in the middle of the delivery that
// rejected it).
func (k *Kernel) bootstrapSettledLocked(kpid KRef, rejected bool, value marshal.CapData) {
	// Every settlement asks, and nearly all find nothing: the key for the
	// lookup does not escape, so it is built on the stack; only a found
	// bootstrap builds the key again, for the delete that keeps it.
	sid, ok := k.st.Meta(metaBootstrapPrefix + string(kpid))
	if !ok {
		return
	}
	k.st.DeleteMeta(metaBootstrapPrefix + string(kpid))
	if rejected {
		k.unitAbandon = append(k.unitAbandon, abandonedLaunch{SubclusterID(sid), bootstrapFailure(value)})
	}
}

// abandonedLaunch is a subcluster to terminate at the end of the unit, and
// why (for the vat log).
type abandonedLaunch struct {
	id     SubclusterID
	reason string
}

// bootstrapFailure says why a bootstrap failed, for the vat log: the
// rejection's error message, scrubbed of refs and kept short (the log of
// the vats the failed launch terminated keeps it after the promise is
// gone).
func bootstrapFailure(value marshal.CapData) string {
	msg := value.Body
	if name, m, ok := marshal.DecodeError(value); ok {
		msg = name + ": " + m
	}
	return "bootstrap failed: " + ScrubRefs(truncate(msg, 200))
}

// abandonFailedLaunchesLocked terminates the subclusters whose bootstrap
// was rejected in the open unit. Terminating them can reject more
// promises, so it runs until there are none left.
func (k *Kernel) abandonFailedLaunchesLocked() {
	for len(k.unitAbandon) > 0 {
		a := k.unitAbandon[0]
		k.unitAbandon = k.unitAbandon[1:]
		if _, ok := k.st.Subcluster(string(a.id)); ok {
			k.log.Warn().Str("subcluster", string(a.id)).Str("reason", a.reason).Msg("bootstrap failed; the subcluster is terminated")
			k.terminateSubclusterLocked(a.id, a.reason)
		}
	}
}

// SubclusterBootstrap reports the state of a subcluster's bootstrap: its
// promise's state and, once settled, its value ("" state when the
// subcluster was launched without one).
func (k *Kernel) SubclusterBootstrap(id SubclusterID) (persistence.PromiseState, marshal.CapData, error) {
	row, ok := k.st.Subcluster(string(id))
	if !ok {
		return "", marshal.CapData{}, ErrUnknownSubcluster
	}
	if row.BootstrapKPID == "" {
		return "", marshal.CapData{}, nil
	}
	return k.PromiseState(KRef(row.BootstrapKPID))
}
