package jsvat

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// encodeSeed replays TestDeliverFrameMatchesJSON's random deliveries.
var encodeSeed = flag.Uint64("jsvat.encodeseed", 0, "seed of TestDeliverFrameMatchesJSON (0: a new one, printed)")

// The hand-written deliver frame is byte for byte what json.Marshal
// writes for the same request (the encoding the worker was written
// against), for deliveries of every kind whose strings hold quotes,
// backslashes, HTML characters, control characters, non-ASCII and
// invalid UTF-8.
func TestDeliverFrameMatchesJSON(t *testing.T) {
	seed := *encodeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -jsvat.encodeseed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pieces := []string{"a", "o+1", "p-7", `"`, `\`, "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "€", "\u2028", "\xff", "#[\"ping\",[3]]", "$0", " "}
	str := func() string {
		s := ""
		for range rng.IntN(6) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	capdata := func() marshal.CapData {
		c := marshal.CapData{Body: str()}
		for range rng.IntN(3) {
			c.Slots = append(c.Slots, str())
		}
		return c
	}
	kinds := []vatproto.DeliveryKind{vatproto.DeliverMessage, vatproto.DeliverNotify, vatproto.DeliverDropExports,
		vatproto.DeliverRetireExports, vatproto.DeliverRetireImports, vatproto.DeliverBringOutYourDead}
	for i := range 2000 {
		d := vatproto.Delivery{Kind: kinds[rng.IntN(len(kinds))]}
		switch d.Kind {
		case vatproto.DeliverMessage:
			d.Target = vatproto.VRef(str())
			d.Message = vatproto.VatMessage{Methargs: capdata(), Result: vatproto.VRef(str())}
		case vatproto.DeliverNotify:
			for range rng.IntN(3) {
				d.Resolutions = append(d.Resolutions, vatproto.VatResolution{VPID: vatproto.VRef(str()), Rejected: rng.IntN(2) == 0, Data: capdata()})
			}
		case vatproto.DeliverBringOutYourDead:
		default:
			for range rng.IntN(3) {
				d.VRefs = append(d.VRefs, vatproto.VRef(str()))
			}
		}
		id := str()
		params, err := deliveryParams(d)
		require.NoError(t, err)
		want, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: "deliver", Params: params})
		require.NoError(t, err)
		got, err := encodeRequest(id, "deliver", d)
		require.NoError(t, err)
		require.Equal(t, string(want)+"\n", string(got), "delivery %d: %+v", i, d)
	}
}

// A delivery kind with no wire form is refused, as by deliveryParams.
func TestDeliverFrameRefusesStartVat(t *testing.T) {
	_, err := encodeRequest("1", "deliver", vatproto.Delivery{Kind: vatproto.DeliverStartVat})
	require.ErrorContains(t, err, "has no wire form")
}
