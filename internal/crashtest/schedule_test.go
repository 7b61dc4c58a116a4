package crashtest

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// opKind is a kind of host operation in the schedule.
type opKind string

// The schedule's operations. The first five send effects; the rest change
// the cluster.
const (
	opApply               opKind = "apply"    // host -> ledger.apply(id)
	opRelay               opKind = "relay"    // host -> relay -> its ledger.apply(id), awaited
	opPipeline            opKind = "pipeline" // host -> relay -> E(E(ledger).account(a)).deposit(id)
	opCross               opKind = "cross"    // host -> relay -> another subcluster's ledger
	opBurst               opKind = "burst"    // several of the above at once
	opLaunch              opKind = "launch"
	opRestart             opKind = "restart"
	opUpgrade             opKind = "upgrade"
	opTerminateVat        opKind = "terminate-vat"
	opTerminateSubcluster opKind = "terminate-subcluster"
	// kindResume is not an operation: it names what the child does inside
	// actors.Start, so that flush kills can land in the resume too.
	kindResume opKind = "resume"
)

// flushKinds are the kinds a flush kill can aim at.
var flushKinds = []opKind{kindResume, opApply, opRelay, opPipeline, opCross, opBurst,
	opLaunch, opRestart, opUpgrade, opTerminateVat, opTerminateSubcluster}

// Limits that keep a trial's cluster small, alive and changing: launches
// stop at maxSubclusters intact ones, and the first minSubclusters are
// never terminated (see world).
const (
	minSubclusters = 2
	maxSubclusters = 5
	maxBurst       = 4
)

// op is one scheduled host operation.
type op struct {
	Index int
	Kind  opKind
	// Sends are the effects of a send operation (one, or several for a
	// burst).
	Sends []send
	// Vat, Bundle and Subcluster are the subject of a lifecycle operation;
	// Vats the vats a TerminateSubcluster ends; Cluster a launch's config.
	Vat        kernel.VatID
	Bundle     string
	Subcluster kernel.SubclusterID
	Vats       []kernel.VatID
	Launch     string
	Cluster    kernel.ClusterConfig
}

// send is one effect-carrying host send.
type send struct {
	Kind   opKind
	Effect string
	Target kernel.KRef // the root the host sends to
	Ledger kernel.VatID
	Method string
	Args   []any
}

// world is what the schedule chooses from: the subclusters, in id order.
// The first minSubclusters of them are kept: they are restarted and
// upgraded but never terminated, so that the effects they hold stay
// checkable for the whole trial.
type world struct {
	subclusters []subcluster
}

type subcluster struct {
	id              kernel.SubclusterID
	ledger, relay   kernel.VatInfo
	ledgerOK, relOK bool
	kept            bool // one of the first minSubclusters: never terminated
}

func worldOf(st actors.Status) world {
	vats := map[kernel.VatID]kernel.VatInfo{}
	for _, v := range st.Vats {
		vats[v.ID] = v
	}
	var w world
	for i, sc := range st.Subclusters {
		l, lok := vats[sc.Vats["ledger"]]
		r, rok := vats[sc.Vats["relay"]]
		w.subclusters = append(w.subclusters, subcluster{id: sc.ID, ledger: l, relay: r,
			ledgerOK: lok && l.Active, relOK: rok && r.Active, kept: i < minSubclusters})
	}
	return w
}

// mortal lists the subclusters that may be terminated, and of them the
// intact ones.
func (w world) mortal() (all, intact []subcluster) {
	for _, s := range w.subclusters {
		if s.kept {
			continue
		}
		all = append(all, s)
		if s.ledgerOK && s.relOK {
			intact = append(intact, s)
		}
	}
	return all, intact
}

// intact lists the subclusters whose ledger and relay both run.
func (w world) intact() []subcluster {
	var out []subcluster
	for _, s := range w.subclusters {
		if s.ledgerOK && s.relOK {
			out = append(out, s)
		}
	}
	return out
}

// opRand is the random source of schedule index i: a function of the
// trial's seed and i alone, so a replay chooses alike whenever it sees the
// same world.
func opRand(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5eed0000+uint64(i)))
}

// weights of the operations when the world allows them all.
var weights = []struct {
	kind opKind
	w    int
}{
	{opApply, 22}, {opRelay, 16}, {opPipeline, 12}, {opCross, 8}, {opBurst, 8},
	{opLaunch, 10}, {opRestart, 8}, {opUpgrade, 8}, {opTerminateVat, 5}, {opTerminateSubcluster, 5},
}

// nextOp chooses operation i of a trial.
func nextOp(seed uint64, i int, w world) op {
	r := opRand(seed, i)
	intact := w.intact()
	o := op{Index: i}
	if len(intact) < minSubclusters {
		o.Kind = opLaunch
	} else {
		mortal, mortalIntact := w.mortal()
		allowed := func(k opKind) bool {
			switch k {
			case opLaunch:
				return len(intact) < maxSubclusters
			case opTerminateVat:
				return len(mortalIntact) > 0
			case opTerminateSubcluster:
				return len(mortal) > 0
			}
			return true
		}
		total := 0
		for _, x := range weights {
			if allowed(x.kind) {
				total += x.w
			}
		}
		n := r.IntN(total)
		for _, x := range weights {
			if !allowed(x.kind) {
				continue
			}
			if n < x.w {
				o.Kind = x.kind
				break
			}
			n -= x.w
		}
	}
	pick := func() subcluster { return intact[r.IntN(len(intact))] }
	switch o.Kind {
	case opApply, opRelay, opPipeline, opCross:
		o.Sends = []send{makeSend(r, o.Kind, fmt.Sprintf("e%d", i), intact)}
	case opBurst:
		n := 2 + r.IntN(maxBurst-1)
		for j := 0; j < n; j++ {
			k := []opKind{opApply, opRelay, opPipeline, opCross}[r.IntN(4)]
			o.Sends = append(o.Sends, makeSend(r, k, fmt.Sprintf("e%d.%d", i, j), intact))
		}
	case opLaunch:
		o.Launch = fmt.Sprintf("L%d", i)
		o.Cluster = clusterConfig(o.Launch)
	case opRestart, opUpgrade, opTerminateVat:
		s := pick()
		if o.Kind == opTerminateVat {
			_, mortalIntact := w.mortal()
			s = mortalIntact[r.IntN(len(mortalIntact))]
		}
		v := s.ledger
		if r.IntN(2) == 0 {
			v = s.relay
		}
		o.Vat, o.Subcluster = v.ID, s.id
		if o.Kind == opUpgrade {
			o.Bundle = otherVersion(v.Config.Bundle)
		}
	case opTerminateSubcluster:
		// A broken subcluster (a vat of it terminated) goes first.
		mortal, _ := w.mortal()
		s := mortal[r.IntN(len(mortal))]
		for _, b := range mortal {
			if !b.ledgerOK || !b.relOK {
				s = b
				break
			}
		}
		o.Subcluster = s.id
		for _, v := range []kernel.VatID{s.ledger.ID, s.relay.ID} {
			if v != "" {
				o.Vats = append(o.Vats, v)
			}
		}
	}
	return o
}

// makeSend builds one effect of kind k with id effect.
func makeSend(r *rand.Rand, k opKind, effect string, intact []subcluster) send {
	s := intact[r.IntN(len(intact))]
	out := send{Kind: k, Effect: effect, Ledger: s.ledger.ID}
	switch k {
	case opApply:
		out.Target, out.Method, out.Args = s.ledger.Root, "apply", []any{effect}
	case opRelay:
		out.Target, out.Method, out.Args = s.relay.Root, "relay", []any{effect}
	case opPipeline:
		out.Target, out.Method, out.Args = s.relay.Root, "pipeline", []any{effect, fmt.Sprintf("a%d", r.IntN(3))}
	case opCross:
		others := slices.DeleteFunc(slices.Clone(intact), func(o subcluster) bool { return o.id == s.id })
		if len(others) == 0 {
			others = intact
		}
		to := others[r.IntN(len(others))]
		out.Target, out.Ledger, out.Method = s.relay.Root, to.ledger.ID, "relayTo"
		out.Args = []any{to.ledger.Root, effect}
	}
	return out
}

// clusterConfig is the config of launch id: a ledger and its relay, the
// relay bootstrapping.
func clusterConfig(launch string) kernel.ClusterConfig {
	p := map[string]any{paramLaunch: launch}
	return kernel.ClusterConfig{Bootstrap: "relay", Vats: map[string]kernel.VatConfig{
		"ledger": {Bundle: bundleLedger, Parameters: p},
		"relay":  {Bundle: bundleRelay, Parameters: p},
	}}
}
