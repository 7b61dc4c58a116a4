package actors

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// Host services live in a vat of the kernel's own, the services vat
// (bundle "kernel-actors/services"), launched the first time a service is
// registered. Each service is a durable object of that vat, pinned (by
// the result that handed it to the host, never released) so it lives as
// long as the kernel, named in the store by its service name.
// Its methods are the host's, looked up by name at each call: after a
// restart, registering the name again reconnects every vat that holds it.

const servicesBundle = "kernel-actors/services"

// servicesBuild is the services vat's code.
func (ka *kernelActor) servicesBuild() vat.BuildFunc {
	h := ka.h
	return func(vc *vat.Context) (any, error) {
		kind, err := vc.DefineKind("service", vat.Methods{
			"": func(c *vat.Call) (any, error) {
				name, _ := c.State().Get("name")
				ms := h.service(fmt.Sprint(name))
				if ms == nil {
					return nil, fmt.Errorf("kernel service %q is not registered in this process", name)
				}
				m, ok := ms[c.Method]
				if !ok {
					m, ok = ms[""]
				}
				if !ok {
					return nil, &marshal.Error{Name: "TypeError", Message: fmt.Sprintf("service %q has no method %q", name, c.Method)}
				}
				return m(c)
			},
		})
		if err != nil {
			return nil, err
		}
		return vat.Far("services", vat.Methods{
			"provide": func(c *vat.Call) (any, error) {
				name, _ := c.Arg(0).(string)
				key := "svc." + name
				if obj, ok := vc.Baggage.Get(key); ok {
					return obj, nil
				}
				obj, err := kind.New(map[string]any{"name": name})
				if err != nil {
					return nil, err
				}
				return obj, vc.Baggage.Set(key, obj)
			},
		}), nil
	}
}

// servicesRoot returns the services vat's root, launching the vat if
// there is none yet.
func (ka *kernelActor) servicesRoot() (kernel.KRef, error) {
	for _, v := range ka.k.Vats() {
		if v.Active && v.Config.Bundle == servicesBundle {
			return v.Root, nil
		}
	}
	res, out, err := ka.k.Launch(ka.ctx, ka, kernel.ClusterConfig{Bootstrap: "services",
		Vats: map[string]kernel.VatConfig{"services": {Bundle: servicesBundle}}}, kernel.LaunchOptions{NoBootstrap: true})
	if err != nil {
		ka.stopStrays()
		return "", err
	}
	ka.release(out)
	return res.RootKref, nil
}

func (r *registerServiceReq) handle(ka *kernelActor) {
	if ref, ok := ka.k.ServiceRef(r.name); ok {
		r.reply(ref, nil) // provided before: the host's methods were just swapped in
		return
	}
	root, err := ka.servicesRoot()
	if err != nil {
		r.reply(nil, fmt.Errorf("actors: services vat: %w", err))
		return
	}
	data, err := methargs("provide", []any{r.name})
	if err != nil {
		r.reply(nil, err)
		return
	}
	kpid, out, err := ka.k.QueueMessage(ka.ctx, root, data)
	if err != nil {
		r.reply(nil, err)
		return
	}
	ka.wait(kpid, r.replier, func(o kernel.Output) {
		v, err := outcome(o)
		if err != nil {
			r.reply(nil, err)
			return
		}
		kref, ok := v.(kernel.KRef)
		if !ok || !kref.IsObject() {
			r.reply(nil, fmt.Errorf("actors: services vat answered %v, not an object", v))
			return
		}
		// The result pinned it for the host: the pin keeps the service
		// alive for as long as the kernel, whoever else lets go.
		out, err := ka.k.SetServiceRef(ka.ctx, r.name, kref)
		ka.release(out)
		r.reply(kref, err)
	})
	ka.release(out)
	ka.kick()
}
