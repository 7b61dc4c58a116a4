package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Finding a subcluster again. A program that keeps its kernel in a file
// launches its subcluster once; every later run resumes it (Start on the
// file), and needs its roots and vat ids again, which were in the
// LaunchResult of a run long gone. The config is what such a program
// always has at hand, and what it would launch from if the file were new,
// so the config is the key: launch if absent, find it if present.

// Subcluster finds the subcluster launched from cfg, for a program that
// resumes from its file: it returns what LaunchSubcluster returned at the
// launch, so a program does the one or the other and goes on the same way:
//
//	res, err := k.Subcluster(ctx, cfg) // launched by an earlier run?
//	if errors.Is(err, kernel.ErrUnknownSubcluster) {
//		res, err = k.LaunchSubcluster(ctx, cfg)
//	}
//
// The config matches as the store keeps it (as JSON: map keys in any
// order, 3 and 3.0 alike), so the config the program launched with finds
// it; if it was launched more than once, the first one still there is
// returned. In the result, VatIDs maps every vat's config name to its id,
// terminated vats included; Roots (and RootKref) the roots of the vats
// still active, which need no Release (a vat's root lives as long as its
// vat); BootstrapKPID the bootstrap's promise, and BootstrapResult its
// value once fulfilled (nil while it has not settled: a run cut short
// before bootstrap finished, which the resume delivers again). A
// subcluster whose bootstrap was rejected was terminated then, and is not
// found. No subcluster from cfg is kernel.ErrUnknownSubcluster.
func (k *Kernel) Subcluster(ctx context.Context, cfg kernel.ClusterConfig) (kernel.LaunchResult, error) {
	v, err := k.ask(ctx, &subclusterReq{replier: newReplier(), cfg: cfg})
	if err != nil {
		return kernel.LaunchResult{}, err
	}
	return v.(kernel.LaunchResult), nil
}

func (r *subclusterReq) handle(ka *kernelActor) {
	want, err := json.Marshal(r.cfg)
	if err != nil {
		r.reply(nil, fmt.Errorf("%w: %v", kernel.ErrBadConfig, err))
		return
	}
	for _, sc := range ka.k.Subclusters() {
		row, ok := ka.st.Subcluster(string(sc.ID))
		if !ok || !sameConfig(row.Config, sc, want) {
			continue
		}
		res, err := ka.launchResultOf(sc, row)
		r.reply(res, err)
		return
	}
	r.reply(nil, fmt.Errorf("%w: none was launched from this config (bootstrap %q, %d vats)", kernel.ErrUnknownSubcluster, r.cfg.Bootstrap, len(r.cfg.Vats)))
}

// sameConfig reports whether a stored subcluster was launched from the
// config whose JSON is want: the stored text as the launch wrote it, or
// failing that (a file written by another build, with other spacing or
// number forms) the stored config decoded and encoded again.
func sameConfig(stored string, sc kernel.SubclusterInfo, want []byte) bool {
	if stored == string(want) {
		return true
	}
	if sc.ConfigErr != nil {
		return false
	}
	got, err := json.Marshal(sc.Config)
	return err == nil && bytes.Equal(got, want)
}

// launchResultOf rebuilds a subcluster's LaunchResult from the store.
func (ka *kernelActor) launchResultOf(sc kernel.SubclusterInfo, row persistence.SubclusterRow) (kernel.LaunchResult, error) {
	res := kernel.LaunchResult{SubclusterID: sc.ID, VatIDs: maps.Clone(sc.Vats), Roots: map[string]kernel.KRef{},
		BootstrapKPID: kernel.KRef(row.BootstrapKPID)}
	for name, id := range sc.Vats {
		// A terminated vat keeps its id (ids are never reused) but has no
		// root any more: its objects are orphaned.
		if info, err := ka.k.Vat(id); err == nil && info.Active && info.Root != "" {
			res.Roots[name] = info.Root
		}
	}
	res.RootKref = res.Roots[sc.Bootstrap]
	if sc.BootstrapState == persistence.PromiseFulfilled {
		// The subcluster holds its bootstrap promise, and the promise
		// what its value names, so the krefs decoded here stay usable.
		v, err := hostCodec.Decode(sc.BootstrapValue)
		if err != nil {
			return kernel.LaunchResult{}, fmt.Errorf("actors: subcluster %s: bootstrap result: %w", sc.ID, err)
		}
		res.BootstrapResult = v
	}
	return res, nil
}
