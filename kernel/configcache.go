package kernel

import (
	"maps"
	"slices"

	"github.com/ocapgo/kernel-actors/persistence"
)

// configCache keeps the decoded config of each vat and subcluster row, so
// that listing vats (Vats, Subclusters, and so the runtime's Status) does
// not decode every row's JSON on every call: at 10k vats that was 75-128
// ms a Status.
//
// It cannot go stale, after an abort or otherwise: an entry is keyed by
// the row's id and remembers the exact config text it decoded, and a
// lookup uses it only if the row, as the open unit sees it now, still
// holds that text (a string comparison, which for the unchanged row the
// store hands back is a pointer comparison). Any other text is decoded
// afresh and replaces the entry. So the cache holds only what some read of
// a row has decoded, and answers exactly what decoding the row would.
//
// Callers get deep copies: a VatConfig holds a map and a slice, and a
// caller that changed them must not change what the next caller reads.
type configCache struct {
	vats        map[string]cachedConfig[VatConfig]
	subclusters map[string]cachedConfig[ClusterConfig]
	// decodes counts JSON decodes, for the test that shows a second
	// listing decodes nothing.
	decodes int
}

// cachedConfig is one decoded row: the text it came from, and what
// decoding it gave.
type cachedConfig[T any] struct {
	raw string
	cfg T
	err error
}

func newConfigCache() *configCache {
	return &configCache{
		vats:        make(map[string]cachedConfig[VatConfig]),
		subclusters: make(map[string]cachedConfig[ClusterConfig]),
	}
}

// vat returns the decoded config of vat id's row, as vatConfigOf would.
func (c *configCache) vat(id string, row persistence.VatRow) (VatConfig, error) {
	e, ok := c.vats[id]
	// INVARIANT 2: an entry is used only for the very text it decoded.
	if !ok || e.raw != row.Config {
		c.decodes++
		cfg, err := vatConfigOf(row)
		e = cachedConfig[VatConfig]{raw: row.Config, cfg: cfg, err: err}
		c.vats[id] = e
	}
	return cloneVatConfig(e.cfg), e.err
}

// subcluster returns the decoded config of subcluster id's row, as
// clusterConfigOf would.
func (c *configCache) subcluster(id string, row persistence.SubclusterRow) (ClusterConfig, error) {
	e, ok := c.subclusters[id]
	// INVARIANT 2: as in vat.
	if !ok || e.raw != row.Config {
		c.decodes++
		cfg, err := clusterConfigOf(row)
		e = cachedConfig[ClusterConfig]{raw: row.Config, cfg: cfg, err: err}
		c.subclusters[id] = e
	}
	cfg := e.cfg
	cfg.Services = slices.Clone(cfg.Services)
	if cfg.Vats != nil {
		cfg.Vats = make(map[string]VatConfig, len(e.cfg.Vats))
		for name, v := range e.cfg.Vats {
			cfg.Vats[name] = cloneVatConfig(v)
		}
	}
	return cfg, e.err
}

// keepSubclusters drops the entries of subclusters no longer in the
// store (forgotten ones), so the cache holds no more than the rows do.
// Vat rows are never deleted, so their entries need no pruning.
func (c *configCache) keepSubclusters(ids []string) {
	if len(c.subclusters) <= len(ids) {
		return
	}
	live := make(map[string]cachedConfig[ClusterConfig], len(ids))
	for _, id := range ids {
		if e, ok := c.subclusters[id]; ok {
			live[id] = e
		}
	}
	c.subclusters = live
}

// cloneVatConfig copies the map and slice of a config; the rest are
// values.
func cloneVatConfig(c VatConfig) VatConfig {
	c.Globals = slices.Clone(c.Globals)
	if c.Parameters != nil {
		c.Parameters = cloneJSONObject(c.Parameters)
	}
	return c
}

// cloneJSONObject deep-copies a decoded JSON object: its values are
// objects, arrays, strings, numbers, booleans and nulls.
func cloneJSONObject(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range out {
		// Only a container needs a copy of its own; writing back a
		// number or a string would cost a map assignment for nothing.
		switch v.(type) {
		case map[string]any, []any:
			out[k] = cloneJSONValue(v)
		}
	}
	return out
}

func cloneJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneJSONObject(x)
	case []any:
		out := slices.Clone(x)
		for i, e := range out {
			out[i] = cloneJSONValue(e)
		}
		return out
	}
	return v
}
