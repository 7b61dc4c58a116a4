package kernel_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/vat"
)

// urlVats registers the Go vats of the service tests:
//
//   - "server": bootstrap issues, through ocapURLIssuerService, a URL for
//     its counter and returns it; redeemOwn(url) redeems a URL through
//     ocapURLRedemptionService and says whether it got its own counter
//     back; misuse(which) makes a bad service call and returns its error.
//   - "client": use(url) redeems url through ocapURLRedemptionService,
//     sends incr to the redemption at once (pipelined) and returns the
//     answer.
func urlVats() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("server", func(vc *vat.Context) (any, error) {
		n := int64(0)
		counter := vat.Far("counter", vat.Methods{
			"incr": func(c *vat.Call) (any, error) { n++; return n, nil },
		})
		var issuer, redeemer any
		return vat.Far("server", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				svcs := c.Arg(1).(map[string]any)
				issuer, redeemer = svcs[kernel.IssuerServiceName], svcs[kernel.RedemptionServiceName]
				return vat.E(issuer).Send("issue", counter).Await()
			},
			"redeemOwn": func(c *vat.Call) (any, error) {
				obj, err := vat.E(redeemer).Send("redeem", c.Arg(0)).Await()
				if err != nil {
					return nil, err
				}
				return obj == any(counter), nil
			},
			"misuse": func(c *vat.Call) (any, error) {
				var p *vat.Promise
				switch c.Arg(0) {
				case "issue a string":
					p = vat.E(issuer).Send("issue", "not an object")
				case "issue a promise":
					q, _, _ := c.NewPromise()
					p = vat.E(issuer).Send("issue", q)
				case "redeem garbage":
					p = vat.E(redeemer).Send("redeem", "ocap:nonsense")
				case "redeem a number":
					p = vat.E(redeemer).Send("redeem", int64(7))
				case "an unknown method":
					p = vat.E(issuer).Send("redeem", "x")
				}
				_, err := p.Await()
				if err == nil {
					return nil, errors.New("the misuse was accepted")
				}
				return err.Error(), nil
			},
		}), nil
	})
	reg.MustRegister("client", func(vc *vat.Context) (any, error) {
		var redeemer any
		return vat.Far("client", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				redeemer = c.Arg(1).(map[string]any)[kernel.RedemptionServiceName]
				return "ready", nil
			},
			"use": func(c *vat.Call) (any, error) {
				obj := vat.E(redeemer).Send("redeem", c.Arg(0))
				return vat.E(obj).Send("incr").Await()
			},
		}), nil
	})
	return reg
}

// Vats use the kernel's URL services as the reference's vats do: a vat
// in B issues a URL for its counter through ocapURLIssuerService, a vat
// in A redeems it through ocapURLRedemptionService and sends to the
// redemption at once (pipelined to B); the calls are carried out by the
// kernel, in the crank, with no vat delivery. Both auditors are green
// after every crank (the Driver).
func TestURLServicesBetweenVats(t *testing.T) {
	reg := urlVats()
	a, b := kt.New(t), kt.New(t)
	a.UseRegistry(reg)
	b.UseRegistry(reg)
	l := kt.Connect(a, b)
	l.SetLocalPeers()

	_, boot := b.LaunchGo(kernel.ClusterConfig{Bootstrap: "server",
		Services: []string{kernel.IssuerServiceName, kernel.RedemptionServiceName},
		Vats:     map[string]kernel.VatConfig{"server": {Bundle: "server"}}})
	url, ok := b.Value(boot).(string)
	require.True(t, ok, "bootstrap returned the URL")
	u, err := ocapurl.Parse(url)
	require.NoError(t, err)
	require.Equal(t, kt.PeerID("B"), u.PeerID)
	require.Len(t, b.Store.SturdyRefOIDs(), 1)
	served := false
	for _, c := range b.Cranks {
		if c.Routed == "kernel service" {
			require.False(t, c.Delivered, "no vat delivery for a kernel service")
			served = true
		}
	}
	require.True(t, served, "the issue call was the kernel's")

	res, _ := a.LaunchGo(kernel.ClusterConfig{Bootstrap: "client",
		Services: []string{kernel.RedemptionServiceName},
		Vats:     map[string]kernel.VatConfig{"client": {Bundle: "client"}}})
	for i := int64(1); i <= 2; i++ {
		kp := a.Call(res.RootKref, "use", url)
		l.Settle(0)
		require.Equal(t, i, a.Value(kp), "use %d reached B's counter", i)
	}
	// Each redemption was one redeem message, and the pipelined incr went
	// with it: no round trip before the send.
	require.Equal(t, 4, l.Applied["a>b"], "two redeems and two incrs")
}

// A vat redeeming its own kernel's URL gets its own object back; bad
// service calls are rejected with a TypeError the vat can read, and the
// vat goes on.
func TestURLServicesOwnURLAndMisuse(t *testing.T) {
	reg := urlVats()
	b := kt.New(t)
	b.UseRegistry(reg)
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	res, boot := b.LaunchGo(kernel.ClusterConfig{Bootstrap: "server",
		Services: []string{kernel.IssuerServiceName, kernel.RedemptionServiceName},
		Vats:     map[string]kernel.VatConfig{"server": {Bundle: "server"}}})
	url := b.Value(boot).(string)
	kp := b.Call(res.RootKref, "redeemOwn", url)
	b.RunUntilQuiescent(0)
	require.Equal(t, true, b.Value(kp), "its own counter, not a presence")
	require.Empty(t, b.K.Remotes())

	for which, want := range map[string]string{
		"issue a string":    "the argument must be an object",
		"issue a promise":   "the argument must be an object",
		"redeem garbage":    "redeem: ocapurl: malformed OCAP URL",
		"redeem a number":   "does not begin",
		"an unknown method": `no method "redeem"`,
	} {
		kp := b.Call(res.RootKref, "misuse", which)
		b.RunUntilQuiescent(0)
		msg, ok := b.Value(kp).(string)
		require.True(t, ok, "%s: %v", which, b.Value(kp))
		require.Contains(t, msg, want, which)
		require.False(t, strings.Contains(msg, "[KERNEL:"), "%s: a service's error, not a kernel code: %s", which, msg)
	}
	require.Len(t, b.Store.SturdyRefOIDs(), 1, "no URL issued by a bad call")
}

// The services exist once the kernel knows who it is; a cluster that
// lists them before is refused, naming the service.
func TestURLServicesNeedTheLocalPeer(t *testing.T) {
	d := kt.New(t)
	d.UseRegistry(urlVats())
	_, _, err := d.K.Launch(d.Ctx, d, kernel.ClusterConfig{Bootstrap: "client",
		Services: []string{kernel.RedemptionServiceName},
		Vats:     map[string]kernel.VatConfig{"client": {Bundle: "client"}}}, kernel.LaunchOptions{})
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	require.Contains(t, err.Error(), fmt.Sprintf("%q", kernel.RedemptionServiceName))
	d.SetLocalPeer(kt.PeerID("D"), "d.test:1")
	ref, ok := d.K.ServiceRef(kernel.RedemptionServiceName)
	require.True(t, ok)
	o, _ := d.Store.Object(string(ref))
	require.Equal(t, "kernel", o.Owner, "the kernel's own object")
	require.Equal(t, int64(1), o.Pins)
	// Setting the same peer again changes nothing, services included.
	out, err := d.K.SetLocalPeer(d.Ctx, kt.PeerID("D"), "d.test:1")
	require.NoError(t, err)
	require.Empty(t, out)
	again, _ := d.K.ServiceRef(kernel.RedemptionServiceName)
	require.Equal(t, ref, again)
}
