package kernel

import (
	"encoding/hex"
	"fmt"

	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

// The auditor's checks of OCAP URL state (remote_url.go): each
// sturdy-ref entry is a reachable reference to its object, counted with
// every other source of references (a.ref, the one model of what a
// reference implies), so a count the kernel forgot to take or drop at
// issue or revocation shows as a refcount mismatch; and the kernel's own
// objects (its URL services), which have no c-list, are checked to be
// the services they are registered as.

// oidShort is how a problem line names an oid: enough to find the row,
// not the whole capability (problem lines end up in logs and reports).
func oidShort(oid string) string {
	if len(oid) > 8 {
		return oid[:8] + "..."
	}
	return oid
}

// countSturdyRefs counts each sturdy-ref entry as one reachable reference
// to its object, and checks the entry's shape: a well-formed oid naming
// an object kref.
func (a *auditor) countSturdyRefs() {
	for _, oid := range a.st.SturdyRefOIDs() {
		kref, _ := a.st.SturdyRef(oid)
		from := fmt.Sprintf("sturdy ref %s", oidShort(oid))
		if err := ocapurl.CheckOID(oid); err != nil {
			a.problem("%s: %v", from, err)
		}
		if !KRef(kref).IsObject() {
			a.problem("%s: names %q, which is not an object", from, kref)
			continue
		}
		a.ref(KRef(kref), true, from)
	}
}

// checkKernelObject checks an object the kernel owns: it must be one of
// the kernel's services, registered under its name. Any other would be
// an object whose sends the router hands to the kernel and which no
// service handles.
func (a *auditor) checkKernelObject(s string) {
	for _, name := range urlServiceNames {
		if ref, ok := a.st.Meta(metaServicePrefix + name); ok && ref == s {
			return
		}
	}
	a.problem("object %s: owned by the kernel but registered as none of its services", s)
}

// checkURLMeta checks the URL state in the meta table: a local peer id
// and address in their forms, a secret of the right length, and services
// only once the local peer is set (SetLocalPeer makes them).
func (a *auditor) checkURLMeta() {
	if peer, ok := a.st.Meta(metaLocalPeer); ok {
		if err := checkPeerID(peer); err != nil {
			a.problem("local peer: %v", err)
		}
		addr, _ := a.st.Meta(metaLocalAddress)
		if err := ocapurl.CheckAddress(addr); err != nil {
			a.problem("local address: %v", err)
		}
	}
	if secret, ok := a.st.Meta(metaURLSecret); ok {
		if b, err := hex.DecodeString(secret); err != nil || len(b) != ocapurl.SecretLen {
			a.problem("OCAP URL secret: not %d bytes of hex", ocapurl.SecretLen)
		}
	}
	a.checkIntroducedMarks() // remote_url_intro.go
}
