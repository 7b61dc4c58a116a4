package console

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A subscriber that reads nothing never holds the hub up: each snapshot
// replaces the unread one, the replaced ones are counted as missed, and
// what it reads at last is the newest.
func TestSlowSubscriberCoalesced(t *testing.T) {
	h := New(Options{})
	slow, err := h.Subscribe()
	require.NoError(t, err)
	fast, err := h.Subscribe()
	require.NoError(t, err)
	for seq := uint64(1); seq <= 50; seq++ {
		h.publish(newSnapshot(Counts{Seq: seq}, View{}))
		got := <-fast.Snapshots()
		require.Equal(t, seq, got.counts.Seq, "a reader that keeps up sees every snapshot")
	}
	require.Equal(t, uint64(49), slow.Missed())
	require.Zero(t, fast.Missed())
	last := <-slow.Snapshots()
	require.Equal(t, uint64(50), last.counts.Seq, "the slow reader gets the newest")
	require.Len(t, h.historyCopy(), 50)
	slow.Close()
	fast.Close()
	require.Zero(t, h.Streams())
	h.Close()
}

// The history the charts start from keeps the newest History points.
func TestHistoryBounded(t *testing.T) {
	h := New(Options{History: 5})
	for seq := uint64(1); seq <= 12; seq++ {
		h.publish(newSnapshot(Counts{Seq: seq, Point: Point{Time: int64(seq)}}, View{}))
	}
	hist := h.historyCopy()
	require.Len(t, hist, 5)
	require.Equal(t, int64(8), hist[0].Time)
	require.Equal(t, int64(12), hist[4].Time)
}

// Close ends every subscription, refuses new ones, and returns for a
// hub that was never started.
func TestCloseEndsSubscriptions(t *testing.T) {
	h := New(Options{MaxStreams: 2})
	a, err := h.Subscribe()
	require.NoError(t, err)
	_, err = h.Subscribe()
	require.NoError(t, err)
	_, err = h.Subscribe()
	require.ErrorIs(t, err, ErrTooManyStreams)
	h.Close()
	<-a.Gone()
	_, err = h.Subscribe()
	require.ErrorIs(t, err, ErrClosed)
	h.Close() // twice is fine
}

// The flush figures of an interval come from two cumulative reads: the
// count, the mean and the bucket holding the 99th percentile.
func TestFlushTotalsSince(t *testing.T) {
	prev := flushTotals{count: 10, sum: 0.010, bounds: []float64{0.001, 0.01, 0.1}, counts: []uint64{10, 0, 0, 0}}
	cur := flushTotals{count: 110, sum: 0.010 + 100*0.002, bounds: prev.bounds, counts: []uint64{10, 99, 1, 0}}
	n, mean, p99 := cur.since(prev)
	require.Equal(t, uint64(100), n)
	require.InDelta(t, 2.0, mean, 1e-9)
	require.InDelta(t, 10.0, p99, 1e-9, "99 of 100 lie in the (1 ms, 10 ms] bucket")
	n, _, _ = prev.since(prev)
	require.Zero(t, n, "no flush, no figures")
}
