package supervisor

import (
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/vat"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// VatSpec is what a vat actor needs to run one incarnation: a liveslots
// build function, or a raw vat constructor.
type VatSpec struct {
	Build       vat.BuildFunc
	Raw         func() vat.RawVat
	Parameters  map[string]any
	Incarnation int64
	Logger      zerolog.Logger
	// Vat names the vat in the pprof labels of its deliveries.
	Vat string
}

// vatActor hosts one incarnation of a vat.
type vatActor struct {
	spec VatSpec
	inst vat.RawVat
	drv  *driver  // runs the deliveries; made at the first
	m    *Deliver // the delivery the driver runs next
}

// Props makes the props of a vat actor for spec. Each actor is one
// incarnation; a restart is a new actor.
func Props(spec VatSpec) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &vatActor{spec: spec} })
}

// Receive handles a vat actor's messages. It never lets a panic escape:
// vat code's panics are the vat's fault, reported on Done (a panic in
// Stopping would leave a zombie, protoactor issue 214).
func (v *vatActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Deliver:
		if v.drv == nil {
			v.drv = newDriver(v.spec.Vat, strconv.FormatInt(v.spec.Incarnation, 10), func() { v.deliver(v.m) })
		}
		v.m = m
		v.drv.run()
		v.m = nil
	case *Quiesce:
		m.Done <- v.quiescent()
	case *Ping:
		pong := &Pong{Incarnation: v.spec.Incarnation}
		if p, ok := v.inst.(Pinger); ok {
			pong.Err = v.ping(p)
		}
		ctx.Respond(pong)
	case *actor.Stopping, *actor.Restarting:
		v.stop()
	}
}

func (v *vatActor) deliver(m *Deliver) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			v.spec.Logger.Error().Str("panic", fmt.Sprint(r)).Bytes("stack", debug.Stack()).Msg("vat actor panicked")
			err = fmt.Errorf("%w: vat actor panic: %v", vat.ErrFault, r)
		}
		m.Done(err)
	}()
	if m.D.Kind == vatproto.DeliverStartVat {
		if v.inst != nil {
			err = fmt.Errorf("%w: startVat delivered twice to one incarnation", vat.ErrFault)
			return
		}
		if v.spec.Raw != nil {
			v.inst = v.spec.Raw()
		} else {
			var inst *vat.Instance
			if inst, err = vat.New(vat.Config{Build: v.spec.Build, Parameters: v.spec.Parameters, Logger: v.spec.Logger}); err != nil {
				err = fmt.Errorf("%w: %v", vat.ErrFault, err)
				return
			}
			v.inst = inst
		}
	}
	if v.inst == nil {
		err = fmt.Errorf("%w: %s delivered before startVat", vat.ErrFault, m.D.Kind)
		return
	}
	err = v.inst.Deliver(m.D, m.Sys)
}

// ping asks the vat itself, never letting a panic escape.
func (v *vatActor) ping(p Pinger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: ping panicked: %v", vat.ErrFault, r)
		}
	}()
	return p.Ping()
}

// quiescent asks the instance whether a page-out would lose anything,
// never letting a panic escape (a panic is an answer of "no").
func (v *vatActor) quiescent() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: quiescence check panicked: %v", vat.ErrFault, r)
		}
	}()
	if v.inst == nil {
		return fmt.Errorf("%w: not started", vat.ErrNotQuiescent)
	}
	q, ok := v.inst.(Quiescer)
	if !ok {
		return ErrNoQuiescence
	}
	return q.Quiescent()
}

func (v *vatActor) stop() {
	defer func() { _ = recover() }()
	if v.inst != nil {
		v.inst.Stop()
	}
	if v.drv != nil {
		v.drv.end()
	}
}
