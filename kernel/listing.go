package kernel

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Listing: what the runtime's Status shows of every vat and subcluster.
// At 10,000 vats most of a Status was the store listing the vat ids, a
// sort of every id with a comparison that parses both (persistence
// VatIDs), and it was done twice: once for the vats, once again to find
// each subcluster's vats, each time reading every vat row. Listing reads
// the ids and the rows once, for both.

// Listing returns what Vats and Subclusters return, from one pass over
// the vats: the same values, in the same order, each the caller's own
// copy.
func (k *Kernel) Listing() ([]VatInfo, []SubclusterInfo) {
	subclusters, byID := k.subclusterInfos()
	vats := k.listVats(byID)
	return vats, subclusters
}

// listVats describes every vat in id order, and, if byID is not nil,
// files each under its subcluster's Vats as it goes. No vats gives nil, as
// the listing always has.
func (k *Kernel) listVats(byID map[string]*SubclusterInfo) []VatInfo {
	// The one id listing of the pass: the store sorts every id in it,
	// which at 10,000 vats is most of the cost that is left.
	ids := k.st.VatIDs()
	if len(ids) == 0 {
		// nil, not empty: Status encodes the list, and "null" is what it
		// has always said for a kernel with no vats.
		return nil
	}
	// At its size, once: appending grew it (and copied every VatInfo,
	// 216 bytes each) about twenty times at 10,000 vats.
	out := make([]VatInfo, len(ids))
	for i, id := range ids {
		// One read of the row for both lists: the vat's info, and its
		// place in its subcluster's map.
		row, _ := k.st.Vat(id)
		out[i] = k.vatInfoOf(VatID(id), row)
		if s := byID[row.Subcluster]; s != nil {
			s.Vats[row.Name] = VatID(id)
		}
	}
	return out
}

// vatInfoOf describes vat id from its row; a config that does not parse
// is the info's ConfigErr.
func (k *Kernel) vatInfoOf(id VatID, row persistence.VatRow) VatInfo {
	info := VatInfo{ID: id, Name: row.Name, Subcluster: SubclusterID(row.Subcluster),
		Active: row.State == persistence.VatActive, Incarnation: row.Incarnation}
	var err error
	if info.Config, err = k.configs.vat(string(id), row); err != nil {
		info.ConfigErr = fmt.Errorf("%w: vat %s: %w", ErrBadConfig, id, err)
	}
	// The root is read from the c-list, not stored twice: termination
	// empties the c-list, so Root reads "" from then on.
	if kref, ok := k.st.KRefOf(string(id), string(RootVRef)); ok {
		info.Root = KRef(kref)
	}
	return info
}

// subclusterInfos describes every subcluster in id order, with its Vats
// map empty (the caller fills it from the vat rows: vats name their
// subcluster, not the other way round), and byID pointing into the slice.
func (k *Kernel) subclusterInfos() ([]SubclusterInfo, map[string]*SubclusterInfo) {
	ids := k.st.SubclusterIDs()
	k.configs.keepSubclusters(ids)
	var out []SubclusterInfo
	if len(ids) > 0 {
		out = make([]SubclusterInfo, 0, len(ids))
	}
	for _, id := range ids {
		row, _ := k.st.Subcluster(id)
		info := SubclusterInfo{ID: SubclusterID(id), Bootstrap: row.Bootstrap}
		var err error
		if info.Config, err = k.configs.subcluster(id, row); err != nil {
			info.ConfigErr = fmt.Errorf("%w: subcluster %s: %w", ErrBadConfig, id, err)
		}
		// Sized for the vats its config names: the map is filled without
		// growing.
		info.Vats = make(map[string]VatID, len(info.Config.Vats))
		if row.BootstrapKPID != "" {
			info.BootstrapState, info.BootstrapValue, _ = k.PromiseState(KRef(row.BootstrapKPID))
		}
		out = append(out, info)
	}
	byID := make(map[string]*SubclusterInfo, len(out))
	for i := range out {
		byID[string(out[i].ID)] = &out[i]
	}
	return out, byID
}
