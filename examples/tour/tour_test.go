package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/vat"
)

// The facts the tour must show, as the narrative states them. Each is a
// value the tour read back from the kernel, not a line it prints anyway.
var wantFacts = []struct {
	name string
	want string
}{
	{"bootstrap", `introduced bob and carol to the bank: "bob and carol have opened their accounts"`},
	{"round trip", `the host got: "hello alice, from bob"`},
	{"sent before settled", "still unresolved when she sent deposit(50): true"},
	{"pipelined value", "deposit(50) answered alice's balance: 50"},
	{"crash code", "the host got: [KERNEL:VAT_FATAL:INTERNAL_ERROR]"},
	{"crash sentinel", "errors.Is(err, kernel.ErrInternalError): true"},
	{"durable write rolled back", "bob's paydays in his baggage: 0 (the write is gone)"},
	{"send rolled back", "bob's balance at the bank: 0 (deposit(1000) was never delivered)"},
	{"restart incarnation", "k.PingVat(bob): incarnation 1 (it was 0)"},
	{"works after restart", "bob.save(20): balance 20"},
	{"terminate policy", "carol.payday(1000): [KERNEL:VAT_FATAL:INTERNAL_ERROR]"},
	{"terminated vat's objects", "then carol.save(20): [KERNEL:OBJECT_DELETED]"},
	{"revoked for the host", "from the host, account.deposit(5): [KERNEL:OBJECT_REVOKED]"},
	{"revoked for alice", "from alice, through her own reference (she passes the rejection on): [KERNEL:OBJECT_REVOKED]"},
	{"final balances", "The bank's balances: alice 50, bob 20, carol 0."},
	{"vat log", "bob failed, bob restarted, carol terminated."},
}

// crankLine is the part of the kernel's per-crank debug line the tests
// read.
type crankLine struct {
	Message string `json:"message"`
	Vat     string `json:"vat"`
	Method  string `json:"method"`
	Routed  string `json:"routed"`
}

// The tour in memory tells every fact, briefly and without krefs, and
// the kernel's own log confirms the pipelining it narrates: alice's
// deposit was parked on the unresolved promise, then delivered.
func TestTourInMemory(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		var out, log bytes.Buffer
		err := Run(context.Background(), demos.Options{Out: &out, Logger: zerolog.New(&log).Level(zerolog.DebugLevel)})
		require.NoError(t, err)

		text := out.String()
		for _, tt := range wantFacts {
			require.Contains(t, text, tt.want, tt.name)
		}
		require.Contains(t, text, "kernel-actors tour, in memory.")
		require.Regexp(t, `(?m)^\d+ cranks in all, each one transaction`, text)
		require.NotRegexp(t, `\bk[op]\d+\b|\bv\d+\b|\bs\d+\b`, text, "no krefs, vat or subcluster ids in the prose")
		lines := strings.Count(text, "\n")
		require.LessOrEqual(t, lines, 70, "the first minute stays short")

		require.Contains(t, text, "still unresolved when she sent deposit(50): true")
		// deposit(50) takes exactly one crank, its delivery to the bank: it
		// waited on the promise without a crank of its own.
		var deposits []crankLine
		sc := bufio.NewScanner(&log)
		for sc.Scan() {
			var l crankLine
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
			if l.Message == "crank" && l.Method == "deposit" {
				deposits = append(deposits, l)
			}
		}
		require.NoError(t, sc.Err())
		require.NotEmpty(t, deposits, "deposit(50) was delivered")
		require.NotEmpty(t, deposits[0].Vat, "deposit(50)'s only crank is its delivery to the bank")
		require.Empty(t, deposits[0].Routed, "deposit(50) was not routed anywhere but the bank")
	})
}

// On a file, the tour leaves a store the auditor finds consistent, with
// the vats it launched; a second run on the same file refuses, saying
// what to do, and leaves the file as it was.
func TestTourOnFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tour.db")
	var out bytes.Buffer
	require.NoError(t, Run(ctx, demos.Options{Out: &out, DBPath: path}))
	require.Contains(t, out.String(), "kernel-actors tour, in "+path+".")
	for _, tt := range wantFacts {
		require.Contains(t, out.String(), tt.want, tt.name)
	}

	audit := func() (cranks uint64) {
		t.Helper()
		st, err := sqlitestore.Open(ctx, path, persistence.Options{})
		require.NoError(t, err)
		defer func() { require.NoError(t, st.Close(ctx)) }()
		problems, err := kernel.Audit(ctx, st)
		require.NoError(t, err)
		require.Empty(t, problems)
		require.Len(t, st.VatIDs(), 4, "alice, bob, carol and the bank")
		return kernel.CrankCount(st)
	}
	cranks := audit()
	require.Contains(t, out.String(), "\n"+strconv.FormatUint(cranks, 10)+" cranks in all", "the closing line counts the file's cranks")

	out.Reset()
	err := Run(ctx, demos.Options{Out: &out, DBPath: path})
	require.ErrorIs(t, err, demos.ErrNotFresh)
	require.ErrorContains(t, err, "give a new --db path")
	require.Empty(t, out.String(), "nothing narrated")
	require.Equal(t, cranks, audit(), "the refused run changed nothing")
}

// Demo names the tour and registers the bundles its cluster uses.
func TestDemo(t *testing.T) {
	d := Demo()
	require.Equal(t, "tour", d.Name)
	require.NotEmpty(t, d.Summary)
	require.NotNil(t, d.Run)
	require.True(t, d.Fresh, "the tour refuses a used database")
	reg := vat.NewRegistry()
	d.Register(reg)
	for _, bundle := range []string{BundleAlice, BundleBob, BundleBank} {
		require.True(t, strings.HasPrefix(bundle, d.Name+"/"), bundle)
		_, err := reg.Lookup(bundle)
		require.NoError(t, err, bundle)
	}
}

// Alice keeps what she needs in her baggage: restarted, she still reaches
// bob, the bank and her account. A config that lacks a vat her bootstrap
// needs is refused by a bootstrap error that names the vat (it was the
// bare "vat: E(nil)").
func TestAliceAcrossARestart(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		reg := vat.NewRegistry()
		Register(reg)
		k, err := actors.Start(ctx, actors.Config{Registry: reg})
		require.NoError(t, err)
		defer k.Stop(ctx)

		_, err = k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
			"alice": {Bundle: BundleAlice}, "bob": {Bundle: BundleBob},
		}})
		require.ErrorContains(t, err, "this config has no carol")

		res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
			"alice": {Bundle: BundleAlice}, "bob": {Bundle: BundleBob},
			"carol": {Bundle: BundleBob, Parameters: map[string]any{"name": "carol"}}, "bank": {Bundle: BundleBank},
		}})
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "openAccount", 7)
		require.NoError(t, err)
		require.NoError(t, k.RestartVat(ctx, res.VatIDs["alice"]))
		v, err := k.QueueMessage(ctx, res.RootKref, "askBob")
		require.NoError(t, err)
		require.Equal(t, "hello alice, from bob", v)
		v, err = k.QueueMessage(ctx, res.RootKref, "deposit", 3)
		require.NoError(t, err)
		require.Equal(t, int64(10), v, "her account, kept across the restart")
		require.NoError(t, k.Stop(ctx))
		demotest.Settle()
	})
}
