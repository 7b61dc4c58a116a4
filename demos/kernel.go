package demos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/vat"
)

// ErrNotFresh is returned, wrapped, by a Fresh demo's Run when the
// database at DBPath already holds vats: the story starts from an empty
// kernel, and resuming an old one (the demo's own last run, or another
// program's vats, whose bundles it may not even have) would muddle it.
var ErrNotFresh = errors.New("the database already holds vats; give a new --db path (or none, to run in memory)")

// StopTimeout bounds StopKernel. It applies even when the demo's ctx was
// cancelled: an interrupted demo still closes its store.
const StopTimeout = 10 * time.Second

// CheckFresh refuses a database that already holds vats, with an error
// wrapping ErrNotFresh that says how many. A path with no file yet is
// fresh (sqlitestore.Open makes it). It looks before actors.Start, which
// would resume the vats (and run whatever they had queued), and whose
// Status could only tell afterwards.
func CheckFresh(ctx context.Context, path string) error {
	st, err := sqlitestore.Open(ctx, path, persistence.Options{})
	if err != nil {
		return err
	}
	vats := len(st.VatIDs())
	if err := st.Close(ctx); err != nil {
		return err
	}
	if vats > 0 {
		return fmt.Errorf("%w (%s holds %d)", ErrNotFresh, path, vats)
	}
	return nil
}

// StartKernel starts d's kernel: a registry holding d's bundles alone,
// opts.DBPath and opts.Logger. When d is Fresh and opts.DBPath names a
// database, it first refuses one that holds vats (CheckFresh). configure,
// if given, adjusts the actors.Config last (embed sets its System). Its
// errors start with d.Name, as every error a demo returns does.
//
// The caller stops the kernel, usually with a deferred StopKernel; a
// story that does not stop it itself runs in WithKernel instead.
func StartKernel(ctx context.Context, d Demo, opts Options, configure ...func(*actors.Config)) (*actors.Kernel, error) {
	if d.Fresh && opts.DBPath != "" {
		if err := CheckFresh(ctx, opts.DBPath); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
	}
	reg := vat.NewRegistry()
	d.Register(reg)
	cfg := actors.Config{DBPath: opts.DBPath, Registry: reg, Logger: opts.Logger}
	for _, f := range configure {
		f(&cfg)
	}
	k, err := actors.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: start the kernel: %w", d.Name, err)
	}
	return k, nil
}

// StopKernel stops k within StopTimeout, even if ctx was cancelled. If it
// fails and *err is nil, *err becomes the failure, prefixed with name:
// the first error is the one to tell, so a demo's own error is kept. It
// is meant to be deferred:
//
//	defer demos.StopKernel(ctx, d.Name, k, &err)
//
// Stopping a stopped kernel does nothing, so a demo that stops its kernel
// mid-story (embed) may call it again, deferred.
func StopKernel(ctx context.Context, name string, k *actors.Kernel, err *error) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StopTimeout)
	defer cancel()
	if serr := k.Stop(sctx); serr != nil && *err == nil {
		*err = fmt.Errorf("%s: stop the kernel: %w", name, serr)
	}
}

// WithKernel starts d's kernel (StartKernel), runs tell on it and stops
// it (StopKernel) whatever tell returned: a demo's Run, for a story that
// does not stop the kernel itself. tell's error comes first.
func WithKernel(ctx context.Context, d Demo, opts Options, tell func(k *actors.Kernel) error) (err error) {
	k, err := StartKernel(ctx, d, opts)
	if err != nil {
		return err
	}
	defer StopKernel(ctx, d.Name, k, &err)
	return tell(k)
}
