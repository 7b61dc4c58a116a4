package cli

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// On a terminal, progress rewrites one line with cranks done and the
// rate, and clears it at the end; piped, it says nothing.
func TestProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n uint64 = 100
		count := func(context.Context) (uint64, error) { n += 500; return n, nil }
		var out syncBuf
		p := startProgress(context.Background(), &out, true, count)
		time.Sleep(1100 * time.Millisecond) // two ticks on synctest's clock
		synctest.Wait()
		p.Stop()
		got := out.String()
		require.Contains(t, got, "\r\033[K500 cranks, 1000 cranks/s")
		require.Contains(t, got, "\r\033[K1000 cranks, 1000 cranks/s")
		require.True(t, bytes.HasSuffix([]byte(got), []byte("\r\033[K")), "the line is cleared: %q", got)

		var quiet syncBuf
		p = startProgress(context.Background(), &quiet, false, count)
		time.Sleep(2 * time.Second)
		p.Stop()
		require.Empty(t, quiet.String())
	})
}
