//go:build jsvat

package jsvat_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Frames much longer than one read of the worker's pipe, and than the
// worker's write buffer, arrive whole and unchanged both ways. The
// worker reads into one reused buffer (wire.js, readFrames), so a frame
// that spans reads is put together from copies of its parts; characters
// of two, three and four UTF-8 bytes (and U+2028, which JSON leaves raw)
// straddle the read boundaries, so a part cut in the middle of a
// character is decoded only once the frame is whole. The answer is
// longer than the writer's scratch buffer and than its batch, so the
// writer's other paths are taken too.
func TestBigFramesBothWays(t *testing.T) {
	ctx := context.Background()
	k := startKernel(t, actors.Config{})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: testdata(t, "echo.js")},
	}})
	require.NoError(t, err)
	// 7 code points, 1+2+3+4+3+1+1 bytes; 40,000 times is about 600 KB of
	// UTF-8 in the delivery's frame (the capdata body is JSON inside JSON,
	// so the quote is escaped twice).
	unit := "aé€😀\u2028\"\\"
	big := strings.Repeat(unit, 40000)
	require.True(t, utf8.ValidString(big))
	v, err := k.QueueMessage(ctx, res.RootKref, "hello", big)
	require.NoError(t, err)
	got, ok := v.(string)
	require.True(t, ok, "the answer is a string, got %T", v)
	want := "hello " + big + ", from echo"
	require.Equal(t, len(want), len(got))
	require.True(t, got == want, "the answer differs from what was sent")
	// And the worker still speaks the protocol after them.
	v, err = k.QueueMessage(ctx, res.RootKref, "hello", "x")
	require.NoError(t, err)
	require.Equal(t, "hello x, from echo", v)
}
