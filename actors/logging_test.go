package actors_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// syncBuffer is a log sink safe for the actors' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// krefRE matches a kref anywhere in a log line.
var krefRE = regexp.MustCompile(`\bk[op]\d+\b`)

// The kernel's and protoactor's logs arrive as zerolog JSON lines, with
// no duplicate keys (protoactor's "message" attribute becomes "payload");
// each crank gets one debug line naming vat, method and outcome; and no
// line at info level or above carries a kref.
func TestLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var sink syncBuffer
		k := start(t, actors.Config{Registry: troubleRegistry(nil), Logger: zerolog.New(&sink).Level(zerolog.DebugLevel)})
		res, err := k.LaunchSubcluster(ctx, troubleCluster())
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["bob"], "hello", "log")
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "panic")
		require.Error(t, err)
		_, err = k.QueueMessage(ctx, res.RootKref, "exit")
		require.ErrorIs(t, err, kernel.ErrObjectDeleted)
		_, err = k.QueueMessage(ctx, res.Roots["illegal"], "misbehave")
		require.ErrorIs(t, err, kernel.ErrIllegalSyscall)
		// A dead letter: protoactor logs it with a "message" attribute.
		k.System().Root.Send(k.System().NewLocalPID("nobody"), "hello")
		synctest.Wait()
		require.NoError(t, k.Stop(ctx))

		var cranks, deadLetters int
		methods := map[string]bool{}
		for _, line := range sink.lines() {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			require.LessOrEqual(t, strings.Count(line, `"message":`), 1, "duplicate message key: %s", line)
			level, _ := rec["level"].(string)
			if level != "debug" && level != "trace" {
				require.False(t, krefRE.MatchString(line), "kref at %s level: %s", level, line)
			}
			if rec["message"] == "crank" {
				cranks++
				require.Equal(t, "debug", level)
				require.Contains(t, rec, "vat")
				require.Contains(t, rec, "outcome")
				if m, ok := rec["method"].(string); ok {
					methods[m] = true
				}
			}
			if rec["component"] == "protoactor" && rec["payload"] != nil {
				deadLetters++
			}
		}
		require.NotZero(t, cranks)
		require.True(t, methods["hello"] && methods["panic"] && methods["bootstrap"], "crank lines name methods: %v", methods)
		require.NotZero(t, deadLetters, "protoactor's dead letter, routed with its payload renamed")
	})
}
