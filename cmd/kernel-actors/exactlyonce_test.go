package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptrace"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// The flags of TestKeyedSendsSurviveKillDashNine.
var (
	onceSeed   = flag.Uint64("once-seed", 0, "TestKeyedSendsSurviveKillDashNine: the seed to replay (0: a new one, printed)")
	onceRounds = flag.Int("once-rounds", 3, "TestKeyedSendsSurviveKillDashNine: rounds of keyed sends, kill -9, restart and retries")
)

// keyedSend is one logical send of the test's stream, as its ledger
// (kept here, outside the daemon) remembers it.
type keyedSend struct {
	id     int
	key    string
	wrote  atomic.Bool // the whole request reached the socket before the answer was lost
	err    error       // the first attempt's error, nil if acknowledged
	result int         // the count the send answered (the first attempt's, or the retry's)
}

// onceStats counts what the kills did to sends in flight.
type onceStats struct {
	sends, acked, failed, failedWritten, appliedWritten, appliedUnwritten int
	byErr                                                                 map[string]int
}

// kill -9 of serve in the middle of a stream of keyed sends from several
// clients at once, a restart, and a retry with the same key of every send
// that got no answer: every send is applied exactly once, and every
// answer, first or retried, is the count that send made. The vat's own
// durable ledger (std/counter's record and seen) shows what was applied;
// the test's ledger what was sent and answered. Each record answers the
// count it made, so the answers of all sends together are 1..N exactly
// once each: a retry that applied again, or got another send's result,
// breaks that. It also counts how many of the sends that failed had taken
// effect (a retry without a key would have doubled them). The number of
// clients, the kill point and the commit policy of each round come from
// a seed, printed; -once-seed replays them (which sends are in flight at
// the kill is up to timing), -once-rounds sets the number of rounds.
func TestKeyedSendsSurviveKillDashNine(t *testing.T) {
	seed := *onceSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./cmd/kernel-actors -run TestKeyedSendsSurviveKillDashNine -once-seed %d -once-rounds %d)", seed, seed, *onceRounds)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx, cancel := context.WithTimeout(context.Background(), startBound)
	defer cancel()

	db := t.TempDir() + "/k.db"
	policy := func() string { return []string{"durable", "group"}[rng.IntN(2)] }
	cur := policy()
	d := serve(t, db, "--commit", cur)
	res, err := d.client.Launch(ctx, []byte(counterConfig))
	require.NoError(t, err)
	root := res.RootKref

	var all []*keyedSend
	stats := map[string]*onceStats{} // by the commit policy of the serve killed
	for _, p := range []string{"durable", "group"} {
		stats[p] = &onceStats{byErr: map[string]int{}}
	}
	for round := range *onceRounds {
		workers, killAfter, nextPolicy := 2+rng.IntN(7), 5+rng.IntN(60), policy()
		t.Logf("round %d: %d clients, kill --commit %s after %d acknowledged sends, restart with --commit %s", round, workers, cur, killAfter, nextPolicy)
		sends := keyedStream(t, ctx, d, root, seed, len(all), workers, killAfter)
		all = append(all, sends...)

		d = serve(t, db, "--commit", nextPolicy)
		before := seenBy(t, ctx, d.client, root)
		stats := stats[cur]
		cur = nextPolicy
		for _, s := range sends {
			stats.sends++
			if s.err == nil {
				stats.acked++
				require.True(t, before.ids[s.id], "acknowledged send %d lost (seed %d)", s.id, seed)
				continue
			}
			stats.failed++
			stats.byErr[errKind(s.err)]++
			applied := before.ids[s.id]
			switch {
			case s.wrote.Load():
				stats.failedWritten++
				if applied {
					stats.appliedWritten++
				}
			case applied:
				stats.appliedUnwritten++
			}
		}
		require.Empty(t, before.dups, "a send applied twice before any retry (seed %d)", seed)

		// The retries, half through the CLI's --key and half through the
		// Go client, each with its send's own key.
		for i, s := range sends {
			if s.err == nil {
				continue
			}
			if i%2 == 0 {
				code, out, errOut := cli(t, "send", "--db", db, "--key", s.key, root, "record", strconv.Itoa(s.id))
				require.Equal(t, 0, code, "retry of send %d: %s", s.id, errOut)
				s.result, err = strconv.Atoi(strings.TrimSpace(out))
				require.NoError(t, err, out)
			} else {
				v, err := d.client.SendKey(ctx, s.key, root, "record", []any{s.id})
				require.NoError(t, err, "retry of send %d", s.id)
				s.result = atoi(t, v)
			}
			// The first result for a send the kill had let through; a new
			// count for one it had stopped.
			if before.ids[s.id] {
				require.LessOrEqual(t, s.result, before.count, "send %d applied before the kill, retried: the first result (seed %d)", s.id, seed)
			} else {
				require.Greater(t, s.result, before.count, "send %d not applied before the kill: the retry applies it (seed %d)", s.id, seed)
			}
		}

		// An acknowledged send retried (a client that did not trust its
		// answer) changes nothing; its key with another message is refused.
		for _, s := range sends {
			if s.err != nil {
				continue
			}
			code, out, errOut := cli(t, "send", "--db", db, "--key", s.key, root, "record", strconv.Itoa(s.id))
			require.Equal(t, 0, code, errOut)
			require.Equal(t, strconv.Itoa(s.result)+"\n", out, "an acknowledged send retried answers its first result")
			code, _, errOut = cli(t, "send", "--db", db, "--key", s.key, root, "record", "elsewhere")
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "HTTP 409, "+control.CodeIdempotencyKeyReused)
			break
		}

		after := seenBy(t, ctx, d.client, root)
		require.Empty(t, after.dups, "a send applied twice (seed %d)", seed)
		require.Len(t, after.ids, len(all), "every send applied, once (seed %d)", seed)
		require.Equal(t, len(all), after.count, "the count is the number of sends (seed %d)", seed)
		results := make([]int, len(all))
		for i, s := range all {
			require.True(t, after.ids[s.id], "send %d never applied (seed %d)", s.id, seed)
			results[i] = s.result
		}
		slices.Sort(results)
		for i, r := range results {
			require.Equal(t, i+1, r, "the answers are the counts 1..%d, each once (seed %d)", len(all), seed)
		}
	}
	for _, p := range []string{"durable", "group"} {
		st := stats[p]
		t.Logf("kills under %s: %d sends, %d acknowledged, %d failed at a kill: %d with the request written, of which %d (%.0f%%) had taken effect; %d failed before the request was written, %d of them taken effect; errors: %v",
			p, st.sends, st.acked, st.failed, st.failedWritten, st.appliedWritten,
			100*float64(st.appliedWritten)/float64(max(1, st.failedWritten)),
			st.failed-st.failedWritten, st.appliedUnwritten, st.byErr)
	}
}

// keyedStream sends record(id) from workers clients at once, each send
// under its own key and sent once (no automatic retry: the test retries
// by hand, after the restart), until killAfter have been acknowledged;
// then serve is killed with SIGKILL while the others are in flight. It
// returns every send made, acknowledged or not, in id order.
func keyedStream(t *testing.T, ctx context.Context, d *daemon, root string, seed uint64, firstID, workers, killAfter int) []*keyedSend {
	t.Helper()
	c := *d.client
	c.Retry = control.Retry{Attempts: 1}
	var (
		mu      sync.Mutex
		sends   []*keyedSend
		acked   int
		next    = int64(firstID)
		stopped atomic.Bool
		kill    = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				s := &keyedSend{id: int(atomic.AddInt64(&next, 1) - 1)}
				s.key = fmt.Sprintf("once-%d-%d", seed, s.id)
				trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { s.wrote.Store(true) }}
				v, err := c.SendKey(httptrace.WithClientTrace(ctx, trace), s.key, root, "record", []any{s.id})
				mu.Lock()
				sends = append(sends, s)
				if err != nil {
					s.err = err
				} else {
					s.result = atoi(t, v)
					acked++
					if acked >= killAfter {
						once.Do(func() { close(kill) })
					}
				}
				mu.Unlock()
				if err != nil && !errors.Is(err, control.ErrNoAnswer) {
					t.Errorf("send %d: an answer that is not a success: %v", s.id, err)
					return
				}
			}
		}()
	}
	select {
	case <-kill:
	case <-ctx.Done():
		t.Fatalf("no %d acknowledged sends: %v\n%s", killAfter, ctx.Err(), d.output())
	}
	stopped.Store(true) // no new sends; those in flight meet the kill
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.exited
	wg.Wait()
	slices.SortFunc(sends, func(a, b *keyedSend) int { return a.id - b.id })
	return sends
}

// seen is what std/counter's seen() says it applied.
type seen struct {
	count int
	ids   map[int]bool
	dups  []string
}

func seenBy(t *testing.T, ctx context.Context, c *control.Client, root string) seen {
	t.Helper()
	v, err := c.Send(ctx, root, "seen", nil)
	require.NoError(t, err)
	var raw struct {
		Count      int      `json:"count"`
		IDs        []string `json:"ids"`
		Duplicates []string `json:"duplicates"`
	}
	require.NoError(t, json.Unmarshal(v, &raw))
	out := seen{count: raw.Count, ids: map[int]bool{}, dups: raw.Duplicates}
	for _, id := range raw.IDs {
		n, err := strconv.Atoi(id)
		require.NoError(t, err, id)
		out.ids[n] = true
	}
	return out
}

func atoi(t *testing.T, v json.RawMessage) int {
	t.Helper()
	n, err := strconv.Atoi(string(v))
	require.NoError(t, err, "%s", v)
	return n
}

// errKind names how a send's answer was lost, for the figures.
func errKind(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	}
	return "other: " + err.Error()
}

// A send that gets no answer at all (nothing listens) is sent again, a
// bounded number of times, and then fails saying that it may have taken
// effect and how to send it again safely: with its key, the one given or
// the one drawn for it. An empty --key is bad usage.
func TestSendWithoutAnswerNamesItsKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	tokenFile := writeFile(t, t.TempDir(), "token", "t0ken\n")

	code, _, errOut := cli(t, "send", "--addr", addr, "--token-file", tokenFile, "--key", "deposit-7", "ko1", "incr")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "connection refused")
	require.Contains(t, errOut, "gave up after 5 attempts (idempotency key deposit-7")
	require.Contains(t, errOut, "The send may or may not have taken effect. Once the daemon answers, send it again with --key deposit-7")

	code, _, errOut = cli(t, "send", "--addr", addr, "--token-file", tokenFile, "ko1", "incr")
	require.Equal(t, 1, code, errOut)
	m := regexp.MustCompile(`send it again with --key ([0-9a-f]{32}):`).FindStringSubmatch(errOut)
	require.NotNil(t, m, "a drawn key, named: %s", errOut)
	require.Contains(t, errOut, "idempotency key "+m[1], "the key retried is the key named")

	code, _, errOut = cli(t, "send", "--addr", addr, "--token-file", tokenFile, "--key", "", "ko1", "incr")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--key: empty")
}
