package persistence

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// QueuePeek lists the head of the run queue in order, at most n items,
// and agrees with QueueItems' prefix after items were taken off.
func TestQueuePeek(t *testing.T) {
	ctx := context.Background()
	s, err := OpenMemory(Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	require.Empty(t, s.QueuePeek(5), "an empty queue")
	require.NoError(t, s.Begin())
	for i := range 10 {
		s.Enqueue(QueueItem{Kind: QueueNotify, Vat: "v1", KPID: "kp" + strconv.Itoa(i)})
	}
	s.Dequeue()
	s.Dequeue()
	_, err = s.Commit(ctx)
	require.NoError(t, err)

	got := s.QueuePeek(3)
	require.Equal(t, s.QueueItems()[:3], got)
	require.Equal(t, "kp2", got[0].KPID, "the head after two were taken")
	require.Len(t, s.QueuePeek(100), 8, "no more than the queue holds")
	require.Empty(t, s.QueuePeek(0))
}
