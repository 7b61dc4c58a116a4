package stdvats

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// BundleCounter is the durable counter's bundle name.
const BundleCounter = "std/counter"

// Register adds the package's bundles to reg.
func Register(reg *vat.Registry) {
	reg.MustRegister(BundleCounter, counter, vat.About{Summary: "a durable counter: its count survives restarts of the vat and of the kernel",
		Methods: []string{"bootstrap(vats, services)", "incr([by])", "get()", "record(id)", "seen()"}})
}

// counter keeps a count in baggage, so it survives restarts of the vat
// and of the kernel. Methods:
//
//	bootstrap(vats, services) -> "counter ready"
//	incr([by]) -> the new count (by defaults to 1)
//	get() -> the count
//	record(id) -> the new count, noting id as seen: a message delivered
//	              twice would leave count above the number of ids
//	seen() -> {count, ids}
func counter(vc *vat.Context) (any, error) {
	count := func() int64 {
		v, _ := vc.Baggage.Get("count")
		n, _ := marshal.Int(v)
		return n
	}
	add := func(by int64) (int64, error) {
		n := count() + by
		return n, vc.Baggage.Set("count", n)
	}
	return vat.Far("counter", vat.Methods{
		"bootstrap": func(c *vat.Call) (any, error) { return "counter ready", nil },
		"incr": func(c *vat.Call) (any, error) {
			by := int64(1)
			if len(c.Args) > 0 {
				var err error
				if by, err = marshal.Int(c.Arg(0)); err != nil {
					return nil, fmt.Errorf("incr: by: %w", err)
				}
			}
			return add(by)
		},
		"get": func(c *vat.Call) (any, error) { return count(), nil },
		"record": func(c *vat.Call) (any, error) {
			if len(c.Args) != 1 {
				return nil, fmt.Errorf("record: want one id")
			}
			id := fmt.Sprint(c.Arg(0))
			key := "seen." + id
			if vc.Baggage.Has(key) {
				// Recorded twice: keep the evidence rather than hide it.
				if err := vc.Baggage.Set("dup."+id, true); err != nil {
					return nil, err
				}
			}
			if err := vc.Baggage.Set(key, true); err != nil {
				return nil, err
			}
			return add(1)
		},
		"seen": func(c *vat.Call) (any, error) {
			var ids, dups []any
			keys := vc.Baggage.Keys()
			slices.Sort(keys)
			for _, k := range keys {
				if id, ok := strings.CutPrefix(k, "seen."); ok {
					ids = append(ids, id)
				}
				if id, ok := strings.CutPrefix(k, "dup."); ok {
					dups = append(dups, id)
				}
			}
			return map[string]any{"count": count(), "ids": orEmpty(ids), "duplicates": orEmpty(dups)}, nil
		},
	}), nil
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}
