package kernel

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The give-up wait across restarts. When to give up on a peer is the
// host's decision, by its clock (the kernel has none): it gives up on a
// remote whose outbox has waited too long at one ack. A wait counted in
// memory starts afresh at every restart, so a host that restarts more
// often than its give-up time never gives up. So the host may note in the
// store since when a remote's outbox has waited, and at which ack
// (SetRemoteWaiting): the note commits with the host's unit, survives a
// restart, and the host reads it back at its next start
// (RemoteWaiting). It is a meta entry, "remote_waiting.<id>" = "<acked>
// <unix nanoseconds>", so no table changes; giving up on the remote
// deletes it.

// metaWaitingPrefix keys a remote's wait note in the meta table.
const metaWaitingPrefix = "remote_waiting."

// RemoteWaiting reads the host's note of since when remote's outbox has
// waited at the ack acked (SetRemoteWaiting); ok is false if there is
// none.
func (k *Kernel) RemoteWaiting(remote RemoteID) (acked uint64, since time.Time, ok bool) {
	return ReadRemoteWaiting(k.st, remote)
}

// ReadRemoteWaiting is RemoteWaiting on a store read outside the kernel
// (a runtime's ReadStore, an inspection tool).
func ReadRemoteWaiting(st persistence.Reader, remote RemoteID) (acked uint64, since time.Time, ok bool) {
	v, found := st.Meta(metaWaitingPrefix + string(remote))
	if !found {
		return 0, time.Time{}, false
	}
	acked, since, err := parseWaiting(v)
	if err != nil {
		return 0, time.Time{}, false // the auditor reports it
	}
	return acked, since, true
}

// SetRemoteWaiting notes, as one unit of work, that remote's outbox has
// waited since since at the ack acked (the host's clock); a zero since
// deletes the note. The remote must be active, acked at most its Acked,
// and since after 1970: otherwise nothing is written.
func (k *Kernel) SetRemoteWaiting(ctx context.Context, remote RemoteID, acked uint64, since time.Time) ([]Output, error) {
	row, ok := k.st.Remote(string(remote))
	if !ok {
		return nil, ErrUnknownRemote
	}
	if err := k.checkRemoteTakes(remote, row); err != nil {
		return nil, err
	}
	key := metaWaitingPrefix + string(remote)
	if since.IsZero() {
		if _, found := k.st.Meta(key); !found {
			return nil, nil
		}
		return k.hostUnit(ctx, func() error { k.st.DeleteMeta(key); return nil })
	}
	switch {
	case acked > row.Acked:
		return nil, fmt.Errorf("%w: waiting at ack %d of %s, which has acked only %d", ErrBadConfig, acked, remote, row.Acked)
	case since.UnixNano() <= 0:
		return nil, fmt.Errorf("%w: waiting since %v, before 1970", ErrBadConfig, since)
	}
	return k.hostUnit(ctx, func() error {
		k.st.SetMeta(key, strconv.FormatUint(acked, 10)+" "+strconv.FormatInt(since.UnixNano(), 10))
		return nil
	})
}

// forgetWaiting deletes remote's wait note in the open unit (giving up).
func (k *Kernel) forgetWaiting(remote RemoteID) {
	if _, found := k.st.Meta(metaWaitingPrefix + string(remote)); found {
		k.st.DeleteMeta(metaWaitingPrefix + string(remote))
	}
}

func parseWaiting(v string) (uint64, time.Time, error) {
	a, s, found := strings.Cut(v, " ")
	if !found {
		return 0, time.Time{}, fmt.Errorf("%q is not \"<acked> <unix nanoseconds>\"", v)
	}
	acked, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("acked %q: %w", a, err)
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ns <= 0 {
		return 0, time.Time{}, fmt.Errorf("since %q is not a positive number of nanoseconds", s)
	}
	return acked, time.Unix(0, ns), nil
}

// checkWaiting is the auditor's part: each wait note parses, and names
// an active remote at an ack it has reached.
func (a *auditor) checkWaiting() {
	for _, key := range a.st.MetaKeys() {
		id, ok := strings.CutPrefix(key, metaWaitingPrefix)
		if !ok {
			continue
		}
		v, _ := a.st.Meta(key)
		acked, _, err := parseWaiting(v)
		row, known := a.st.Remote(id)
		switch {
		case err != nil:
			a.problem("wait note of %s: %v", id, err)
		case !known:
			a.problem("wait note of %s: no such remote", id)
		case row.State != persistence.RemoteActive:
			a.problem("wait note of %s: the remote was given up", id)
		case acked > row.Acked:
			a.problem("wait note of %s: ack %d, but the remote has acked only %d", id, acked, row.Acked)
		}
	}
}
