package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// FailurePolicy says what happens to a vat that fails a delivery (a
// panic, an illegal syscall, a failure exit, a missed deadline), and to
// one whose actor fails outside a delivery (VatFailed).
type FailurePolicy string

// Failure policies.
const (
	// PolicyTerminate terminates the vat, as the reference does. Default.
	PolicyTerminate FailurePolicy = "terminate"
	// PolicyRestart restarts the vat from its durable state. The kernel
	// decides, under RestartLimits, whether and after how long (policy.go);
	// the actor runtime carries the decision out (CrankResult.Restart).
	PolicyRestart FailurePolicy = "restart"
)

// VatConfig describes one vat of a cluster. It is stored with the vat (as
// JSON, in its row) and read back at every restart, upgrade and resume,
// so every field must round-trip through encoding/json.
type VatConfig struct {
	// Bundle names the vat code in the registry (a Go vat). Exactly one
	// of Bundle and BundleSpec is set.
	Bundle string `json:"bundle,omitempty"`
	// BundleSpec names JavaScript vat code, as the reference's VatConfig
	// does: a file path or a file:// URL of a bundle (endoZipBase64, from
	// @endo/bundle-source) or of a single-file ES module (.js). The vat
	// runs in a worker process of its own (package jsvat). A relative
	// path is taken from the kernel process's working directory.
	BundleSpec string `json:"bundleSpec,omitempty"`
	// Globals name the globals a JavaScript vat asks for beyond console,
	// from the allow-list of package jsvat (AllowedGlobals); a name not
	// in it fails the launch. Only with BundleSpec.
	Globals []string `json:"globals,omitempty"`
	// Parameters are handed to the vat's build function.
	Parameters map[string]any `json:"parameters,omitempty"`
	// FailurePolicy is "terminate" (default) or "restart".
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty"`
	// Restart bounds the restart policy; zero fields take defaults.
	Restart RestartLimits `json:"restart,omitzero"`
	// Pageable is the vat author's word that everything the vat needs
	// between deliveries is in its vatstore (baggage, durable kinds):
	// the runtime may then drop its idle instance to stay under its cap
	// of live vats and build a fresh one, of the same incarnation, at its
	// next delivery (docs/paging.md). A plain Go or JavaScript value kept
	// in the heap is lost at a page-out; what other vats depend on never
	// is: a vat whose c-list holds a promise or an ephemeral export, or
	// whose heap has a task waiting, stays live (CheckPageable).
	Pageable bool `json:"pageable,omitempty"`
}

// RestartLimits bound the restart policy: a vat restarted MaxRestarts
// times within Within is terminated at its next failure; restarts wait
// Backoff, doubling each time up to MaxBackoff. The durations are wall
// time, measured with Config.Now (the kernel has no clock); a zero field
// takes its default (WithDefaults).
type RestartLimits struct {
	MaxRestarts int      `json:"maxRestarts,omitempty"`
	Within      Duration `json:"within,omitempty"`
	Backoff     Duration `json:"backoff,omitempty"`
	MaxBackoff  Duration `json:"maxBackoff,omitempty"`
}

// Defaults for RestartLimits.
const (
	DefaultMaxRestarts = 3
	DefaultWithin      = Duration(60 * time.Second)
	DefaultBackoff     = Duration(100 * time.Millisecond)
	DefaultMaxBackoff  = Duration(10 * time.Second)
)

// WithDefaults fills the zero fields. It is applied where the limits are
// used (decideRestart), not when the config is stored, so a stored config
// says what its author wrote and picks up a changed default.
func (r RestartLimits) WithDefaults() RestartLimits {
	if r.MaxRestarts == 0 {
		r.MaxRestarts = DefaultMaxRestarts
	}
	if r.Within == 0 {
		r.Within = DefaultWithin
	}
	if r.Backoff == 0 {
		r.Backoff = DefaultBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	return r
}

// Duration is a time.Duration written in configs as a string ("250ms"),
// so that a config never holds a bare number whose unit a reader must
// guess (1000 as a Duration is 1µs).
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "1.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"500ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ClusterConfig describes a subcluster: named vats, one of which is sent
// bootstrap.
type ClusterConfig struct {
	// Bootstrap names the vat (a key of Vats) that is sent
	// bootstrap(vats, services) at launch.
	Bootstrap string `json:"bootstrap"`
	// Vats are the subcluster's vats by name; the names are what the
	// bootstrap message's vats record is keyed by, and vats get their ids
	// in name order.
	Vats map[string]VatConfig `json:"vats"`
	// Services name host services (SetServiceRef) handed to bootstrap.
	Services []string `json:"services,omitempty"`
}

// Validate checks the config, naming the first bad field. It runs before
// a launch opens its unit, so a bad config costs nothing, and again in the
// auditor on what was stored. Names are checked in sorted order so the
// error for a config with several problems is always the same one.
func (c ClusterConfig) Validate() error {
	if len(c.Vats) == 0 {
		return fmt.Errorf("%w: vats: at least one vat is required", ErrBadConfig)
	}
	if c.Bootstrap == "" {
		return fmt.Errorf("%w: bootstrap: missing", ErrBadConfig)
	}
	if _, ok := c.Vats[c.Bootstrap]; !ok {
		return fmt.Errorf("%w: bootstrap: invalid bootstrap vat name %q: not in vats", ErrBadConfig, c.Bootstrap)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Vats)) {
		v := c.Vats[name]
		if name == "" {
			return fmt.Errorf("%w: vats: empty vat name", ErrBadConfig)
		}
		if err := v.validateCode("vats." + name); err != nil {
			return err
		}
		switch v.FailurePolicy {
		case "", PolicyTerminate, PolicyRestart:
		default:
			return fmt.Errorf("%w: vats.%s.failurePolicy: %q: want %q or %q", ErrBadConfig, name, v.FailurePolicy, PolicyTerminate, PolicyRestart)
		}
		r := v.Restart
		switch {
		case r.MaxRestarts < 0:
			return fmt.Errorf("%w: vats.%s.restart.maxRestarts: %d: must not be negative", ErrBadConfig, name, r.MaxRestarts)
		case r.Within < 0 || r.Backoff < 0 || r.MaxBackoff < 0:
			return fmt.Errorf("%w: vats.%s.restart: durations must not be negative", ErrBadConfig, name)
		case r.MaxBackoff != 0 && r.Backoff > r.MaxBackoff:
			return fmt.Errorf("%w: vats.%s.restart.backoff %v exceeds maxBackoff %v", ErrBadConfig, name, time.Duration(r.Backoff), time.Duration(r.MaxBackoff))
		}
		// Parameters are stored as JSON with the vat: a value that does
		// not encode (a channel, a func) is refused here, naming the vat.
		if _, err := json.Marshal(v.Parameters); err != nil {
			return fmt.Errorf("%w: vats.%s.parameters: %v", ErrBadConfig, name, err)
		}
	}
	return nil
}

// validateCode checks which code the vat runs: exactly one of a
// registered Go bundle and a JavaScript bundleSpec, and globals only for
// the latter. field prefixes the names in errors ("vats.alice"). Whether
// the bundle is registered, the file there and the globals allowed is the
// runtime's to say (actors checks them at launch): the kernel has no
// registry and reads no files.
func (v VatConfig) validateCode(field string) error {
	switch {
	case v.Bundle == "" && v.BundleSpec == "":
		return fmt.Errorf("%w: %s.bundle: missing (name a registered bundle, or give a bundleSpec for a JavaScript vat)", ErrBadConfig, field)
	case v.Bundle != "" && v.BundleSpec != "":
		return fmt.Errorf("%w: %s.bundleSpec: set together with bundle: a vat runs either a registered bundle or a JavaScript bundleSpec", ErrBadConfig, field)
	case v.Bundle != "" && len(v.Globals) > 0:
		return fmt.Errorf("%w: %s.globals: only a JavaScript vat (bundleSpec) has globals", ErrBadConfig, field)
	}
	if v.BundleSpec != "" {
		if i := strings.Index(v.BundleSpec, "://"); i >= 0 && v.BundleSpec[:i] != "file" {
			return fmt.Errorf("%w: %s.bundleSpec: %q: want a file path or a file:// URL", ErrBadConfig, field, v.BundleSpec)
		}
	}
	for i, g := range v.Globals {
		if g == "" {
			return fmt.Errorf("%w: %s.globals[%d]: empty name", ErrBadConfig, field, i)
		}
	}
	return nil
}

// Code names the vat's code for logs and tools: its bundle, or its
// bundleSpec.
func (v VatConfig) Code() string {
	if v.Bundle != "" {
		return v.Bundle
	}
	return v.BundleSpec
}

// pin takes a kernel-held reference on an object, so it lives while pinned.
// A pin counts as one reachable (and recognizable) reference, like an
// importer that never lets go, so GC needs no special case for it; Pins
// records how many of the counts are pins, for Unpin and the auditor.
// The kernel pins each vat's root for the vat's life and the objects a
// host settlement names (resolve); the host pins what it likes (Pin: the
// runtime's services).
func (k *Kernel) pin(koid KRef) {
	o := k.mustObject(koid)
	o.Pins++
	o.Reachable++
	o.Recognizable++
	k.st.PutObject(string(koid), o)
}

// unpin drops one pin. It is a no-op for an object that is gone or not
// pinned, so termination can call it for a root whatever happened before;
// the host's Unpin checks first and reports the error.
func (k *Kernel) unpin(koid KRef) {
	o, ok := k.st.Object(string(koid))
	if !ok || o.Pins == 0 {
		return
	}
	o.Pins--
	k.st.PutObject(string(koid), o)
	k.decRef(koid, true)
}

// VatInfo describes a vat, as read from its row: a snapshot for the host
// and tools, not a handle.
type VatInfo struct {
	ID          VatID
	Name        string       // its name in its subcluster's config
	Subcluster  SubclusterID // "" for none
	Config      VatConfig
	Active      bool  // false once terminated: the row stays, the id is never reused
	Incarnation int64 // 0 at launch, +1 at each restart, upgrade and resume
	Root        KRef  // "" once terminated
	// ConfigErr says why the vat's stored config does not parse (wrapping
	// ErrBadConfig); Config is then zero. Such a vat is still listed.
	ConfigErr error
}

// Vat describes a vat. The error is ErrUnknownVat, or the ConfigErr of a
// vat whose stored config does not parse (the rest of VatInfo is still
// filled in).
func (k *Kernel) Vat(id VatID) (VatInfo, error) {
	row, ok := k.st.Vat(string(id))
	if !ok {
		return VatInfo{}, ErrUnknownVat
	}
	info := k.vatInfoOf(id, row)
	return info, info.ConfigErr
}

// Vats lists every vat, active or terminated, in id order. A vat whose
// config does not parse is listed too, with its ConfigErr. A caller that
// also lists the subclusters calls Listing, which reads the vats once.
func (k *Kernel) Vats() []VatInfo {
	return k.listVats(nil)
}

// deliverStart delivers startVat to vat's current incarnation inside the
// open unit. Unlike a crank's delivery, a failure here is returned to the
// caller (Launch, newIncarnationUnit), which aborts the whole unit: a vat
// that cannot start leaves nothing behind (invariant 12), and the caller
// decides what follows (a launch fails, an upgrade keeps the old code, a
// restart terminates the vat, a resume stops).
func (k *Kernel) deliverStart(ctx context.Context, d Deliverer, vat VatID) error {
	row, _ := k.st.Vat(string(vat))
	dl := &delivery{k: k, vat: vat}
	// The incarnation tells liveslots which heap this is; the limits let
	// it refuse over-limit vatstore writes to vat code (limits.go).
	err := d.Deliver(ctx, vat, Delivery{Kind: DeliverStartVat, Incarnation: row.Incarnation, Limits: k.vatLimits()}, dl)
	// INVARIANT 1: as in Crank, no syscall is honoured after Deliver.
	dl.closed = true
	// Same precedence as Crank: an illegal syscall first (invariant 5),
	// whatever Deliver returned; an exit during startVat, clean or not,
	// is a vat that cannot start.
	switch {
	case dl.illegal != nil:
		return fmt.Errorf("start vat: %w (%v)", ErrIllegalSyscall, dl.illegal)
	case err != nil:
		return fmt.Errorf("start vat: %w", err)
	case dl.exit != nil:
		return fmt.Errorf("start vat: %w: the vat exited while starting", ErrVatFault)
	}
	return nil
}

// RestartVat starts a new incarnation of vat from its durable state (its
// vatstore), in one unit: what only the old heap knew is settled (promises
// it decided rejected, its non-durable exports abandoned; the promises it
// imported stay, for durable watchers; see incarnation.go), the
// incarnation number goes up,
// and the new incarnation gets startVat. Objects it exported durably stay
// reachable; a message to one of its old ephemeral objects splats
// OBJECT_DELETED without reaching it.
//
// If the new incarnation fails to start, the restart is undone and the vat
// terminated in a unit of its own; the error says why, wrapping the cause.
func (k *Kernel) RestartVat(ctx context.Context, vat VatID, d Deliverer, reason string) ([]Output, error) {
	out, err := k.newIncarnationUnit(ctx, vat, d, eventRestarted, reason, nil)
	// Only a failed start terminates: a store failure must stop the
	// kernel (doc.go, duty 7) with nothing more written, and a bad request
	// (unknown or terminated vat) changes nothing.
	if err == nil || storeErr(err) || errors.Is(err, ErrUnknownVat) || errors.Is(err, ErrVatNotActive) {
		return out, err
	}
	// A start cut short because the host gave up (its context ended, as at
	// a stop) says nothing about the vat: the unit rolled back, and the vat
	// keeps its incarnation, to be started again by the next resume. Only a
	// start the vat failed on its own (a fault, a missed deadline) may cost
	// it its life.
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		return out, err
	}
	// A fresh heap was asked for and cannot be had: rather than leave a
	// vat that nothing can run, it is terminated, which settles what it
	// decided (invariant 9; docs/lifecycle.md).
	k.log.Warn().Str("vat", string(vat)).Err(err).Msg("restart failed; terminating the vat")
	out, terr := k.TerminateVat(ctx, vat, "restart failed: "+err.Error())
	if terr != nil {
		return nil, terr
	}
	return out, fmt.Errorf("kernel: restart failed, vat terminated: %w", err)
}

// UpgradeVat restarts vat on new code (the bundle in cfg, with its
// parameters and policy), as RestartVat does. If the new code fails to
// start (say, it does not re-define a durable kind), nothing changes: the
// error says why, and the vat keeps its old code and incarnation (the
// runtime keeps the old incarnation running).
func (k *Kernel) UpgradeVat(ctx context.Context, vat VatID, d Deliverer, cfg VatConfig) ([]Output, error) {
	// Checked before the unit opens, as a launch's config is: a bad
	// request is refused without touching the vat.
	if err := cfg.validateCode("upgrade"); err != nil {
		return nil, err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: upgrade: %v", ErrBadConfig, err)
	}
	return k.newIncarnationUnit(ctx, vat, d, eventUpgraded, "upgrade to "+cfg.Code(), b)
}

// checkActive reports why vat cannot take a request, if it cannot: a
// terminated vat keeps its row (its id is never reused), so "unknown" and
// "terminated" are different answers.
func (k *Kernel) checkActive(vat VatID) error {
	row, ok := k.st.Vat(string(vat))
	switch {
	case !ok:
		return ErrUnknownVat
	case row.State != persistence.VatActive:
		return ErrVatNotActive
	}
	return nil
}

// TerminateVat terminates vat at the host's request, as one unit: the
// same cleanup as a failure (terminateVatLocked). The runtime stops the
// vat's actor.
func (k *Kernel) TerminateVat(ctx context.Context, vat VatID, reason string) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if err := k.checkActive(vat); err != nil {
			return err
		}
		k.terminateVatLocked(vat, reason)
		return nil
	})
}

// terminateVatLocked terminates vat inside the open unit (invariant
// 9; the reference kernel leaves such promises unrejected):
//
//   - every promise it decides is rejected with VAT_TERMINATED, so its
//     subscribers hear and the messages queued on it splat;
//   - every object it exports is orphaned: later sends splat with
//     OBJECT_DELETED, and the object goes once nobody refers to it;
//   - every c-list entry goes, releasing the counts it held; its vatstore,
//     GC actions and reap requests go too.
//
// The vat row stays, marked terminated, so its id is never reused and the
// runtime can tell late messages from it.
func (k *Kernel) terminateVatLocked(vat VatID, reason string) {
	row, ok := k.st.Vat(string(vat))
	if !ok || row.State != persistence.VatActive {
		return
	}
	// Idempotent: a vat already terminated (or unknown) is left as it is,
	// so every path that may terminate can simply call this.
	row.State = persistence.VatTerminated
	k.st.PutVat(string(vat), row)
	// INVARIANT 16: the runtime stops the actor by a direct stop once
	// this unit is committed (TakeStopped; committed to memory is enough:
	// a crash before the flush resumes the vat, which is harmless).
	k.unitStopped = append(k.unitStopped, vat)
	k.st.AppendVatEvent(persistence.VatEvent{
		Vat: string(vat), Incarnation: row.Incarnation, Event: "terminated",
		Reason: reason, AtCrank: CrankCount(k.st),
	})
	// First stop it hearing about anything, so rejections below queue no
	// notifies to it.
	krefs := k.st.CListKRefs(string(vat))
	for _, s := range krefs {
		if kref := KRef(s); kref.IsPromise() {
			if p := k.mustPromise(kref); p.State == persistence.PromiseUnresolved {
				k.unsubscribe(vat, kref)
			}
		}
	}
	// INVARIANT 9: every promise it decides is rejected, before its
	// c-list goes: the rejection is what settles its subscribers and
	// splats the messages queued on those promises, and it needs the
	// c-list entries to find them. The listing is read again below,
	// because the rejections took their promises out of the c-list.
	k.rejectDecidedLocked(vat, ErrVatTerminated)
	for _, s := range k.st.CListKRefs(string(vat)) {
		kref := KRef(s)
		e, _ := k.st.CList(string(vat), s)
		info, _ := parseVRef(VRef(e.VRef))
		switch {
		case kref.IsPromise():
			// Promises it imported, exported and no longer decides, or
			// holds settled and not yet notified: nothing for it to
			// settle, so they are only released.
			k.deleteCListEntry(vat, kref)
		case info.export:
			// The root's pin is the kernel's hold for the vat's life, and
			// that life is over: without it, the orphaned root goes once
			// nobody else holds it.
			if e.VRef == string(RootVRef) {
				k.unpin(kref)
			}
			// INVARIANT 9: orphaned, not deleted: importers keep their
			// (now splatting) references and see the normal GC.
			k.orphanObject(vat, kref)
		default:
			// An import: the object loses this importer's counts, which
			// may let its exporter hear dropExports/retireExports.
			k.deleteCListEntry(vat, kref)
		}
	}
	// Its durable state goes too: a vat that is terminated cannot be
	// restarted, and the ids of its rows are never reused.
	for _, key := range k.st.VatstoreKeys(string(vat)) {
		k.st.VatstoreDelete(string(vat), key)
	}
	// Pending GC news for the vat would be delivered to nobody (and
	// gcActionApplies would drop it anyway); reaps likewise.
	for _, a := range k.st.GCActions() {
		if a.Vat == string(vat) {
			k.st.DeleteGCAction(a)
		}
	}
	k.st.DeleteReap(string(vat))
}

// BootstrapMethargs builds the bootstrap message a subcluster's bootstrap
// vat receives: bootstrap(vats, services), where vats maps each vat's
// config name to its root object and services each service's name to its
// object (as MetaMask ocap-kernel does).
func BootstrapMethargs(roots, services map[string]KRef) marshal.CapData {
	rec := func(m map[string]KRef) map[string]any {
		out := make(map[string]any, len(m))
		for name, kref := range m {
			out[name] = marshal.Ref{Slot: string(kref), Iface: "Alleged: vatRoot"}
		}
		return out
	}
	// Only krefs and strings go in, and those always encode: an error is
	// a bug in marshal or here.
	data, err := marshal.Encode([]any{"bootstrap", []any{rec(roots), rec(services)}})
	if err != nil {
		bugf("bootstrap message does not encode: %v", err)
	}
	return data
}

// SubclusterInfo describes a subcluster, as read from its row and its
// vats' rows.
type SubclusterInfo struct {
	ID        SubclusterID
	Bootstrap string // the bootstrap vat's config name
	Config    ClusterConfig
	Vats      map[string]VatID // by config name, active or not
	// ConfigErr says why the stored config does not parse (wrapping
	// ErrBadConfig); Config is then zero. Such a subcluster is still listed.
	ConfigErr error
	// BootstrapState is the state of the bootstrap's result ("" when it
	// was launched without one), and BootstrapValue its value once
	// settled: the launch's outcome stays readable after any restart.
	BootstrapState persistence.PromiseState
	BootstrapValue marshal.CapData
}

// Subclusters lists the subclusters, in id order. A subcluster whose
// config does not parse is listed too, with its ConfigErr.
func (k *Kernel) Subclusters() []SubclusterInfo {
	out, byID := k.subclusterInfos()
	// The vat rows alone say which vat is whose: no config is needed.
	for _, id := range k.st.VatIDs() {
		v, _ := k.st.Vat(id)
		if s := byID[v.Subcluster]; s != nil {
			s.Vats[v.Name] = VatID(id)
		}
	}
	return out
}

// TerminateSubcluster terminates every active vat of a subcluster (in
// reverse id order, as the reference does) and forgets the subcluster, in
// one unit. It returns the vats it terminated: the runtime stops them.
func (k *Kernel) TerminateSubcluster(ctx context.Context, id SubclusterID, reason string) ([]VatID, []Output, error) {
	var stopped []VatID
	out, err := k.hostUnit(ctx, func() error {
		if _, ok := k.st.Subcluster(string(id)); !ok {
			return ErrUnknownSubcluster
		}
		stopped = k.terminateSubclusterLocked(id, reason)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return stopped, out, nil
}

// terminateSubclusterLocked terminates the subcluster's active vats and
// forgets it inside the open unit, letting go of its bootstrap promise.
func (k *Kernel) terminateSubclusterLocked(id SubclusterID, reason string) []VatID {
	var stopped []VatID
	ids := k.st.VatIDs()
	// Reverse id order, as the reference does. Every vat's termination is
	// in this one unit, so no one sees half a subcluster.
	for i := len(ids) - 1; i >= 0; i-- {
		row, _ := k.st.Vat(ids[i])
		if row.Subcluster == string(id) && row.State == persistence.VatActive {
			k.terminateVatLocked(VatID(ids[i]), reason)
			stopped = append(stopped, VatID(ids[i]))
		}
	}
	row, _ := k.st.Subcluster(string(id))
	if row.BootstrapKPID != "" {
		// The subcluster's hold on its bootstrap result goes with it, and
		// so does the pending mark (the auditor flags a mark whose
		// subcluster is gone).
		k.st.DeleteMeta(metaBootstrapPrefix + row.BootstrapKPID)
		k.decRef(KRef(row.BootstrapKPID), true)
	}
	// Deleted after its vats are terminated, in the same unit: an active
	// vat always has its subcluster (the auditor checks it).
	k.st.DeleteSubcluster(string(id))
	return stopped
}

// Pin keeps an object alive while pinned, whoever else lets go of it (the
// runtime pins the objects of host services). Pins are counted and
// persisted.
func (k *Kernel) Pin(ctx context.Context, koid KRef) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		if !koid.IsObject() {
			return fmt.Errorf("%w: only objects can be pinned", ErrBadRef)
		}
		if err := k.checkLive(koid); err != nil {
			return err
		}
		k.pin(koid)
		return nil
	})
}

// Unpin drops one pin taken by Pin.
func (k *Kernel) Unpin(ctx context.Context, koid KRef) ([]Output, error) {
	return k.hostUnit(ctx, func() error {
		o, ok := k.st.Object(string(koid))
		if !ok || o.Pins == 0 {
			return fmt.Errorf("%w: not pinned", ErrUnknownRef)
		}
		k.unpin(koid)
		return nil
	})
}
