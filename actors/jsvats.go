package actors

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// JavaScript vats: a vat whose config has a bundleSpec runs in a worker
// process of Config.JS (package jsvat), behind the same raw vat protocol
// as any vat; everything else (cranks, syscalls, failure policies,
// restart and upgrade from the vatstore) is the same as for a Go vat.

// ErrNoJSRuntime is returned for a JavaScript vat (a bundleSpec) when
// Config.JS is nil.
var ErrNoJSRuntime = errors.New("actors: JavaScript vats need Config.JS (a jsvat.Runtime); none is set")

// vatCode finds the code of a vat config: a registered bundle (or the
// kernel's services vat), or, for a bundleSpec, a constructor of
// JavaScript vat incarnations. id and incarnation label the vat's log.
func (ka *kernelActor) vatCode(cfg kernel.VatConfig, id kernel.VatID, log zerolog.Logger) (vat.BuildFunc, func() vat.RawVat, error) {
	if cfg.BundleSpec == "" {
		return ka.lookupBundle(cfg.Bundle)
	}
	rt := ka.cfg.JS
	if rt == nil {
		return nil, nil, ErrNoJSRuntime
	}
	spec := jsvat.VatSpec{ID: string(id), BundleSpec: cfg.BundleSpec, Parameters: cfg.Parameters, Globals: cfg.Globals, Logger: log}
	return nil, func() vat.RawVat { return rt.NewVat(spec) }, nil
}

// checkCode refuses, before anything changes, a vat whose code cannot
// run: an unknown bundle; for a JavaScript vat, no runtime, a bundleSpec
// that names no readable file, a global not allowed, or no Node.js. The
// error names the field (field is "vats.NAME" or "upgrade").
func (ka *kernelActor) checkCode(ctx context.Context, cfg kernel.VatConfig, field string) error {
	if cfg.BundleSpec == "" {
		if _, _, err := ka.lookupBundle(cfg.Bundle); err != nil {
			return fmt.Errorf("%w: %s.bundle: %v", kernel.ErrBadConfig, field, err)
		}
		return nil
	}
	if ka.cfg.JS == nil {
		return fmt.Errorf("%w: %s.bundleSpec: %w", kernel.ErrBadConfig, field, ErrNoJSRuntime)
	}
	spec, err := jsvat.SpecURL(cfg.BundleSpec)
	if err != nil {
		return fmt.Errorf("%w: %s.bundleSpec: %v", kernel.ErrBadConfig, field, err)
	}
	u, _ := url.Parse(spec)
	if st, err := os.Stat(u.Path); err != nil {
		return fmt.Errorf("%w: %s.bundleSpec: %v", kernel.ErrBadConfig, field, err)
	} else if st.IsDir() {
		return fmt.Errorf("%w: %s.bundleSpec: %s is a directory, not a bundle or a .js file", kernel.ErrBadConfig, field, u.Path)
	}
	if err := jsvat.CheckGlobals(cfg.Globals); err != nil {
		return fmt.Errorf("%w: %s.%v", kernel.ErrBadConfig, field, err)
	}
	// Node itself, once per runtime: a launch on a machine without it is
	// refused saying what to install, rather than failing in startVat.
	if err := ka.cfg.JS.Check(ctx); err != nil {
		return fmt.Errorf("actors: %s: %w", field, err)
	}
	return nil
}

// prewarm starts a worker for each JavaScript vat of cfg beyond the first
// (the first may find a warm one already), and returns what ends those
// the launch did not use. A cluster with one JavaScript vat or none costs
// nothing.
func (ka *kernelActor) prewarm(cfg kernel.ClusterConfig) (trim func()) {
	n := 0
	for _, v := range cfg.Vats {
		if v.BundleSpec != "" {
			n++
		}
	}
	if ka.cfg.JS == nil || n < 2 {
		return func() {}
	}
	ka.cfg.JS.Prewarm(n - 1)
	return ka.cfg.JS.Trim
}

// UpgradeJSVat restarts a JavaScript vat on new code: bundleSpec, with
// globals. As for UpgradeVat, the new code must re-define the vat's
// durable kinds (liveslots checks); if it fails to start, the error says
// why and the vat keeps running its old code. A Go vat cannot become a
// JavaScript one, nor the reverse: their durable state has different
// layouts.
func (k *Kernel) UpgradeJSVat(ctx context.Context, id kernel.VatID, bundleSpec string, globals []string) error {
	_, err := k.ask(ctx, &upgradeVatReq{replier: newReplier(), vat: id, bundleSpec: bundleSpec, globals: globals})
	return err
}

// upgradeCode is the config an upgrade request asks for, from the vat's
// current one.
func (r *upgradeVatReq) upgradeCode(cur kernel.VatConfig) (kernel.VatConfig, error) {
	cfg := cur
	switch {
	case r.bundleSpec != "" && cur.BundleSpec == "":
		return cfg, fmt.Errorf("%w: upgrade: vat %s is a Go vat; it can be upgraded only to another registered bundle", kernel.ErrBadConfig, r.vat)
	case r.bundleSpec == "" && cur.BundleSpec != "":
		return cfg, fmt.Errorf("%w: upgrade: vat %s is a JavaScript vat; upgrade it to another bundleSpec (UpgradeJSVat)", kernel.ErrBadConfig, r.vat)
	case r.bundleSpec != "":
		cfg.BundleSpec, cfg.Globals = r.bundleSpec, r.globals
	default:
		cfg.Bundle = r.bundle
	}
	return cfg, nil
}
