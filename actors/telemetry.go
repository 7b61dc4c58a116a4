package actors

import (
	"context"
	"errors"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/telemetry"
)

// The kernel actor's side of the telemetry (package telemetry,
// docs/observability.md). Everything here runs only when
// Config.MeterProvider is set: the crank path checks one pointer, so a
// kernel without a MeterProvider is as fast, and allocates as much, as one
// built before telemetry existed (the bench command shows it).

// publishEvery is how many cranks may pass, while the kernel stays busy,
// between two publications of the gauges; an idle kernel publishes when it
// goes idle. Publishing walks the vat handles, so not every crank.
const publishEvery = 256

// kernelTelemetry is the kernel actor's telemetry state, nil without a
// MeterProvider. Owned by the kernel actor's goroutine.
type kernelTelemetry struct {
	m     *telemetry.Metrics
	probe *telemetry.FlushProbe
	// sys counts the syscalls of the delivery in hand: one counter reused
	// from delivery to delivery, so counting allocates nothing.
	sys telemetry.SyscallCounter
	// syscalls sums them over the crank in hand (a crank has one delivery,
	// but a host request's unit can hold several startVats).
	syscalls telemetry.SyscallCounts
	// sinceGauges counts the cranks since the gauges were last published.
	sinceGauges int
	// tr traces the cranks (tracing.go); nil without a TracerProvider.
	tr *crankTracer
	// rows is the store's row counter before the crank in hand, for its
	// span's kernel.flush.rows.
	rows uint64
	// stopReason is the reason the next release counts the terminations
	// it finds under (releaseReason); "" means a cascade.
	stopReason string
}

// releaseReason is the reason of a termination that release finds: a
// cascade, unless the caller set stopReason around that release.
func (t *kernelTelemetry) releaseReason() string {
	if t.stopReason == "" {
		return telemetry.ReasonCascade
	}
	return t.stopReason
}

// countTermination counts the termination of vat (if its actor is still
// known: a vat terminated twice is counted once) for reason.
func (ka *kernelActor) countTermination(vat kernel.VatID, reason string) {
	if _, ok := ka.vats[vat]; ok && ka.tel != nil {
		ka.tel.m.Termination(reason)
	}
}

// countRestart counts a vat restart for reason.
func (ka *kernelActor) countRestart(reason string) {
	if ka.tel != nil {
		ka.tel.m.Restart(reason)
	}
}

// newTelemetry makes the telemetry of a kernel whose Config sets a
// MeterProvider or a TracerProvider, or returns nil. vatName names a vat
// for per-vat series.
func newTelemetry(cfg Config, vatName func(string) string) (*kernelTelemetry, error) {
	if cfg.MeterProvider == nil && cfg.TracerProvider == nil {
		return nil, nil
	}
	t := &kernelTelemetry{}
	if cfg.MeterProvider != nil {
		m, err := telemetry.NewMetrics(cfg.MeterProvider, telemetry.MetricsOptions{VatSeries: cfg.MetricsVatSeries, VatName: vatName})
		if err != nil {
			return nil, err
		}
		t.m = m
	}
	if cfg.TracerProvider != nil {
		t.tr = newCrankTracer(cfg.TracerProvider, cfg.SampleEveryCrank)
	}
	// A nil Metrics records nothing: a tracing-only probe only times the
	// commit waits. Only a file store's flushes pass the probe (Start):
	// an in-memory store's are a fold from map to map, with no
	// transaction to wait for, and timing one (two clock readings, two
	// histogram records and the store's counters) would cost a crank more
	// than the flush itself. Its probe sees no flush, and waits none.
	t.probe = &telemetry.FlushProbe{Inner: cfg.StoreFaults, Now: cfg.Clock.Now, Metrics: t.m}
	return t, nil
}

// beginCrankTelemetry starts a crank's counts afresh: the syscalls of
// deliveries made outside a crank (a launch's or a restart's startVat)
// are counted now, so that the crank's span shows its own alone.
func (ka *kernelActor) beginCrankTelemetry() {
	t := ka.tel
	t.m.Syscalls(&t.syscalls)
	t.syscalls = telemetry.SyscallCounts{}
	if t.tr != nil {
		t.rows = ka.st.Rows()
		t.probe.TakeWait()                    // flushes outside the crank are not its wait
		t.tr.deliveries = t.tr.deliveries[:0] // nor are a launch's startVats its deliveries
	}
}

// observeCrank records a crank that ran (committed or aborted), what it
// terminated or decided to restart, and now and then the gauges.
func (ka *kernelActor) observeCrank(r kernel.CrankResult, took crankTiming) {
	t := ka.tel
	if t.tr != nil {
		// First: the span reads the crank's syscall counts, reset below.
		ka.crankSpan(r, took.began, took.began.Add(took.total), ka.st.Rows()-t.rows)
	}
	t.m.Crank(r.Vat, r.Work, r.Outcome, took.total)
	t.m.Syscalls(&t.syscalls)
	t.syscalls = telemetry.SyscallCounts{}
	for _, v := range r.Terminated {
		t.m.Termination(ka.terminationReason(r, v))
	}
	if r.Restart != "" {
		t.m.Restart(telemetry.ReasonFailure)
	}
	t.probe.Settle()
	t.sinceGauges++
	if t.sinceGauges >= publishEvery {
		ka.publishGauges()
	}
}

// crankTiming is what the kernel actor measured of one crank.
type crankTiming struct {
	began time.Time
	total time.Duration
}

// terminationReason says why crank r terminated vat v: the vat failed
// its delivery (under the restart policy: too often); the vat exited; or v
// is another vat that went with it (a subcluster's cascade).
func (ka *kernelActor) terminationReason(r kernel.CrankResult, v kernel.VatID) string {
	switch {
	case v != r.Vat:
		return telemetry.ReasonCascade
	case r.Failure == nil:
		return telemetry.ReasonExit
	}
	if info, err := ka.k.Vat(v); err == nil && info.Config.FailurePolicy == kernel.PolicyRestart {
		return telemetry.ReasonRestartLimit
	}
	return telemetry.ReasonFailure
}

// observeDelivery records one delivery's duration.
func (ka *kernelActor) observeDelivery(id kernel.VatID, kind kernel.DeliveryKind, took time.Duration) {
	ka.tel.m.Delivery(id, kind, took)
	for k, n := range ka.tel.sys.Counts {
		ka.tel.syscalls[k] += n
	}
}

// publishGauges hands the gauges the kernel's current state: the run
// queue, the promise records, and the vats by state.
func (ka *kernelActor) publishGauges() {
	t := ka.tel
	t.sinceGauges = 0
	g := telemetry.Gauges{RunQueue: ka.st.QueueLen(), Promises: ka.st.PromiseCount(), Running: ka.pager.live()}
	for _, h := range ka.vats {
		switch {
		case h.restarting:
			g.Restarting++
		case h.pagedOut:
			g.PagedOut++
		}
	}
	t.m.Publish(g)
}

// observeHost counts one host request, by its kind and how it ended.
func (t *kernelTelemetry) observeHost(req request, err error) {
	outcome := telemetry.HostOK
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		outcome = telemetry.HostCanceled
	case errors.Is(err, ErrStopped):
		outcome = telemetry.HostStopped
	default:
		outcome = telemetry.HostError
	}
	t.m.HostRequest(requestKind(req), outcome)
}

// requestKind names a host request for the kernel.host.requests counter
// (telemetry.HostRequestKinds).
func requestKind(req request) string {
	switch req.(type) {
	case *resumeReq:
		return "resume"
	case *launchReq:
		return "launch"
	case *terminateSubclusterReq:
		return "terminate_subcluster"
	case *queueMessageReq:
		return "queue_message"
	case *terminateVatReq:
		return "terminate_vat"
	case *restartVatReq:
		return "restart_vat"
	case *upgradeVatReq:
		return "upgrade_vat"
	case *pingVatReq:
		return "ping_vat"
	case *revokeReq:
		return "revoke"
	case *isRevokedReq:
		return "is_revoked"
	case *releaseReq:
		return "release"
	case *statusReq:
		return "status"
	case *registerServiceReq:
		return "register_service"
	case *reapReq:
		return "reap"
	case *stopReq:
		return "stop"
	case *waitIdleReq:
		return "wait_idle"
	case *readStoreReq:
		return "read_store"
	case *vatLogReq:
		return "vat_log"
	case *subclusterReq:
		return "subcluster"
	case *localPeerReq, *localPeerSetupReq:
		return "local_peer"
	case *remotesReq:
		return "remotes"
	case *addRemoteReq:
		return "add_remote"
	case *exportToRemoteReq:
		return "export_to_remote"
	case *importFromRemoteReq:
		return "import_from_remote"
	case *giveUpRemoteReq:
		return "give_up_remote"
	case *issueURLReq:
		return "issue_url"
	case *revokeURLReq:
		return "revoke_url"
	case *redeemURLReq:
		return "redeem_url"
	}
	return "other"
}

// close unregisters the gauges; a nil telemetry has nothing to close.
func (t *kernelTelemetry) close() {
	if t != nil {
		_ = t.m.Close() // only fails for a callback registered elsewhere
	}
}
