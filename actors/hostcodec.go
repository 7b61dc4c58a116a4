package actors

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// The host's values: arguments it sends and results it gets, marshalled
// with krefs in the slots. A kernel.KRef passes by reference, and
// references in results come back as kernel.KRef, so a result can be sent
// to or passed on as it is.
var hostCodec = marshal.Codec{
	SlotOf: func(v any) (marshal.Ref, bool, error) {
		if k, ok := v.(kernel.KRef); ok {
			if _, err := kernel.ParseKRef(string(k)); err != nil {
				return marshal.Ref{}, false, err
			}
			return marshal.Ref{Slot: string(k), Promise: k.IsPromise()}, true, nil
		}
		return marshal.Ref{}, false, nil
	},
	ValueOf: func(r marshal.Ref) (any, error) { return kernel.KRef(r.Slot), nil },
}

// methargs marshals a host message.
func methargs(method string, args []any) (marshal.CapData, error) {
	data, err := hostCodec.EncodeMethargs(method, args)
	if err != nil {
		return marshal.CapData{}, fmt.Errorf("actors: arguments of %s: %w", method, err)
	}
	return data, nil
}

// outcome turns a settlement into the host's (value, error).
func outcome(o kernel.Output) (any, error) {
	if o.Rejected {
		return nil, o.Err()
	}
	v, err := hostCodec.Decode(o.Value)
	if err != nil {
		return nil, fmt.Errorf("actors: result: %w", err)
	}
	return v, nil
}
