package cli

import (
	"flag"
	"net"
	"strconv"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// remoteFlags are serve's flags that put its kernel on the network
// (docs/remote.md, "Serving"): where it listens for peer kernels, over
// what, and when it gives up on a peer that does not answer.
type remoteFlags struct {
	listen, key    string
	advertise      string
	insecure       bool
	giveUp, resend time.Duration
	maxIntroduced  int
}

func (f *remoteFlags) register(fs *flag.FlagSet) {
	// Off by default: a kernel joins a network of kernels only when asked,
	// and the port it opens is a second door beside the control API's.
	fs.StringVar(&f.listen, "remote-listen", "", "listen for peer kernels on HOST:PORT (port 0 picks a free one; status shows it), over mutual TLS from the kernel's key")
	// TLS by default: plaintext is for one machine, and only on request.
	fs.BoolVar(&f.insecure, "remote-insecure-loopback", false, "peers over plaintext instead of TLS; only with a loopback --remote-listen")
	// Never by default: giving up rejects results for good, which only the
	// operator can judge worth it.
	fs.DurationVar(&f.giveUp, "remote-give-up", 0, "give up on a peer whose messages have waited this long for its ack (e.g. 10m): its pending results reject with PEER_UNREACHABLE (0: never)")
	fs.StringVar(&f.advertise, "remote-advertise", "", "the HOST:PORT peers are told to reach this kernel at, when it is not --remote-listen's (listening on 0.0.0.0, behind NAT; default: the listener's address)")
	fs.StringVar(&f.key, "remote-key", "", "the kernel's key file (default: PATH.key beside --db; made on first start, mode 0600)")
	fs.DurationVar(&f.resend, "remote-resend", actors.DefaultResendEvery, "how often messages a peer has not acknowledged are sent again")
	// Bounded by default: anyone holding one of the kernel's OCAP URLs
	// may redeem it, and each stranger who does becomes a remote.
	fs.IntVar(&f.maxIntroduced, "remote-max-introduced", kernel.DefaultMaxIntroduced, "how many kernels this one never met may become its peers by redeeming one of its OCAP URLs (0: none; then only peers added with 'remotes add' may connect)")
}

// config checks the flags and returns the kernel's RemoteConfig, nil
// when --remote-listen is not given (and then no other remote flag may
// be). Every refusal is a usage error that names its flag.
func (f *remoteFlags) config(fs *flag.FlagSet) (*actors.RemoteConfig, error) {
	if f.listen == "" {
		for _, name := range []string{"remote-insecure-loopback", "remote-give-up", "remote-key", "remote-resend", "remote-advertise", "remote-max-introduced"} {
			if flagGiven(fs, name) {
				return nil, usageErr("--%s needs --remote-listen HOST:PORT", name)
			}
		}
		return nil, nil
	}
	host, p, err := net.SplitHostPort(f.listen)
	if err != nil {
		return nil, usageErr("--remote-listen %q: want HOST:PORT (%v)", f.listen, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return nil, usageErr("--remote-listen %q: port %q: want 0 to 65535", f.listen, p)
	}
	if host == "" {
		// The host is also the address peers are told: "any interface"
		// is not one they can dial.
		return nil, usageErr("--remote-listen %q: want a host to listen on (e.g. 127.0.0.1, this machine's address, or 0.0.0.0 with --remote-advertise), not an empty one", f.listen)
	}
	if f.advertise != "" {
		h, ap, err := net.SplitHostPort(f.advertise)
		n, perr := strconv.Atoi(ap)
		if err != nil || h == "" || perr != nil || n <= 0 || n > 65535 {
			return nil, usageErr("--remote-advertise %q: want HOST:PORT that peers can dial", f.advertise)
		}
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		// Peers would be told "0.0.0.0:PORT", which reaches nothing.
		return nil, usageErr("--remote-listen %s listens on every interface: give --remote-advertise HOST:PORT, the address peers are told", f.listen)
	}
	if f.insecure {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, usageErr("--remote-insecure-loopback with --remote-listen %s: plaintext is allowed only on a loopback address", f.listen)
		}
	}
	if f.giveUp < 0 {
		return nil, usageErr("--remote-give-up %v: must not be negative (0 means never)", f.giveUp)
	}
	if f.resend <= 0 {
		return nil, usageErr("--remote-resend %v: must be above 0", f.resend)
	}
	if f.maxIntroduced < 0 {
		return nil, usageErr("--remote-max-introduced %d: must not be negative (0 means none)", f.maxIntroduced)
	}
	// RemoteConfig's zero is "the default"; the flag's is "none".
	maxIntro := f.maxIntroduced
	if maxIntro == 0 {
		maxIntro = -1
	}
	if flagGiven(fs, "remote-key") && f.key == "" {
		return nil, usageErr("--remote-key: empty (leave it out for PATH.key beside --db)")
	}
	return &actors.RemoteConfig{Host: host, Port: port, Advertise: f.advertise, InsecureLoopback: f.insecure, KeyPath: f.key,
		GiveUpAfter: f.giveUp, ResendEvery: f.resend, MaxIntroduced: maxIntro}, nil
}
