package kernel

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

// The kernel's URL services, named as MetaMask ocap-kernel names them:
// ocapURLIssuerService, whose issue(obj) returns an OCAP URL for obj, and
// ocapURLRedemptionService, whose redeem(url) returns the object, through
// its result promise. A cluster lists them in ClusterConfig.Services and
// its bootstrap gets them, as it gets host services.
//
// Unlike host services, which live in a services vat whose methods are
// the host's Go functions, these are the kernel's own objects: their
// owner is the kernel endpoint ("kernel"), and the crank that routes a
// send to one carries the call out itself, in its own unit, with no
// delivery (prepare in crank.go, as for a remote). A redemption needs the
// kernel's state (a new remote, the outbox, the result's new decider)
// inside the unit that accepts it, which a vat cannot reach: the call
// and its effects then commit or roll back together.
//
// For the auditor these objects are exports of an endpoint with no
// c-list: the owner is the kernel, which holds each one pinned for as
// long as it lives, and it is named in the meta table as the service it
// is (remote_url_audit.go). No GC action is ever queued for them
// (maybeFreeObject).

// kernelEndpoint owns the kernel's own objects (the URL services). It is
// neither a vat id nor a remote id, so nothing else can take its place.
const kernelEndpoint = "kernel"

// The URL services' names, as a ClusterConfig lists them.
const (
	IssuerServiceName     = "ocapURLIssuerService"
	RedemptionServiceName = "ocapURLRedemptionService"
)

// urlServiceNames lists the kernel's services, in the order they are
// made.
var urlServiceNames = [...]string{IssuerServiceName, RedemptionServiceName}

// isKernelService reports whether koid is registered as service name and
// owned by the kernel.
func (k *Kernel) isKernelService(name string, koid KRef) bool {
	ref, ok := k.ServiceRef(name)
	if !ok || ref != koid {
		return false
	}
	o, ok := k.st.Object(string(koid))
	return ok && o.Owner == kernelEndpoint
}

// urlServicesExist reports whether both services are registered.
func (k *Kernel) urlServicesExist() bool {
	for _, name := range urlServiceNames {
		if ref, ok := k.ServiceRef(name); !ok || !k.isKernelService(name, ref) {
			return false
		}
	}
	return true
}

// ensureURLServicesLocked makes each service that is not yet registered
// as the kernel's own: a new object owned by the kernel, pinned, and
// registered under its name (replacing a host service of that name, if a
// host registered one: these names are the kernel's).
func (k *Kernel) ensureURLServicesLocked() {
	for _, name := range urlServiceNames {
		if ref, ok := k.ServiceRef(name); ok && k.isKernelService(name, ref) {
			continue
		}
		koid := k.newObject(kernelEndpoint)
		// INVARIANT 10: the pin is its reference; the kernel never drops
		// it, so the object lives as long as the kernel.
		k.pin(koid)
		k.st.SetMeta(metaServicePrefix+name, string(koid))
	}
}

// deliverToKernelService carries out a send that reached one of the
// kernel's services (target), in the crank's unit, and releases the
// queue's references (queued is the kref the send was queued on, as in
// prepareSend). A call's result is settled here (issue, a bad call, the
// redemption of a URL of this kernel) or handed to the issuing peer (a
// redemption of another kernel's URL). A sendOnly call does nothing: its
// only effect would be an answer nobody asked for.
func (k *Kernel) deliverToKernelService(target, queued KRef, m persistence.Message) {
	if m.Result == "" {
		k.dropSendRefs(queued, m)
		return
	}
	result := KRef(m.Result)
	p := k.mustPromise(result)
	// As prepareSend: a queued result is the kernel's alone.
	if p.State != persistence.PromiseUnresolved || p.Decider != "" {
		bugf("result %s of a queued send is settled or already decided", m.Result)
	}
	method, args, err := serviceCall(m.Methargs)
	var remote RemoteID
	var toRemote bool
	switch {
	case err != nil:
		k.rejectServiceCall(result, "TypeError", err.Error())
	case k.isKernelService(IssuerServiceName, target) && method == "issue":
		k.serviceIssue(result, args)
	case k.isKernelService(RedemptionServiceName, target) && method == "redeem":
		remote, toRemote = k.serviceRedeem(result, args)
	default:
		k.rejectServiceCall(result, "TypeError", fmt.Sprintf("kernel service has no method %q", method))
	}
	// Last, as in prepareRemoteSend: the remote's import of the result is
	// counted before the queue's references go.
	k.dropSendRefs(queued, m)
	if toRemote {
		// Sends pipelined on the result before this crank follow the
		// redeem message to the issuer, in order (invariant 13).
		k.forwardPromiseQueue(remote, result)
	}
}

// serviceCall decodes a service call's method and arguments.
func serviceCall(methargs persistence.Data) (string, []any, error) {
	v, err := marshal.Decode(toCapData(methargs))
	if err != nil {
		return "", nil, err
	}
	// Acceptance validated the shape: [method, [args...]].
	ma, _ := v.([]any)
	if len(ma) != 2 {
		return "", nil, fmt.Errorf("not a method call")
	}
	method, _ := ma[0].(string)
	args, _ := ma[1].([]any)
	return method, args, nil
}

// serviceIssue is issue(obj): a URL for obj, the one argument, which must
// be an object (a promise has no sturdy identity to name).
func (k *Kernel) serviceIssue(result KRef, args []any) {
	var ref marshal.Ref
	if len(args) == 1 {
		ref, _ = args[0].(marshal.Ref)
	}
	if ref.Slot == "" || ref.Promise {
		k.rejectServiceCall(result, "TypeError", "issue: the argument must be an object")
		return
	}
	if err := k.checkCanIssue(); err != nil {
		k.rejectServiceCall(result, "Error", "issue: this kernel cannot issue OCAP URLs: "+err.Error())
		return
	}
	// The slot is a kref the kernel translated (a vat's import): live,
	// since the message held a reference to it until now.
	url := k.issueLocked(KRef(ref.Slot))
	k.settle(result, false, marshal.EncodeString(url), "", true)
}

// serviceRedeem is redeem(url): the result settles to the object, as
// RedeemURL's promise does; it reports the remote when the issuer decides
// it now.
func (k *Kernel) serviceRedeem(result KRef, args []any) (RemoteID, bool) {
	var s string
	if len(args) == 1 {
		s, _ = args[0].(string)
	}
	u, err := ocapurl.Parse(s)
	if err != nil {
		// The parse error never quotes the object id.
		k.rejectServiceCall(result, "TypeError", "redeem: "+err.Error())
		return "", false
	}
	return k.redeemLocked(u, result)
}

// rejectServiceCall rejects a service call's result with an error of the
// service's (not a kernel code: the caller got the call wrong), scrubbed
// of refs like every text that leaves the kernel.
func (k *Kernel) rejectServiceCall(result KRef, name, msg string) {
	k.settle(result, true, marshal.EncodeError(name, ScrubRefs(msg)), "", false)
}
