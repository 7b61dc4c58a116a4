package supervisor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
)

func TestRestartsBackoffAndIntensity(t *testing.T) {
	r := NewRestarts(kernel.RestartLimits{MaxRestarts: 3, Within: kernel.Duration(10 * time.Second),
		Backoff: kernel.Duration(100 * time.Millisecond), MaxBackoff: kernel.Duration(300 * time.Millisecond)})
	t0 := time.Unix(1000, 0)
	tests := []struct {
		at        time.Duration
		wantDelay time.Duration
		wantGive  bool
	}{
		{0, 100 * time.Millisecond, false},
		{time.Second, 200 * time.Millisecond, false},
		{2 * time.Second, 300 * time.Millisecond, false},  // capped
		{3 * time.Second, 0, true},                        // a fourth failure within 10 s
		{11 * time.Second, 200 * time.Millisecond, false}, // the first restart left the window
	}
	for _, tt := range tests {
		delay, give := r.Next(t0.Add(tt.at))
		require.Equal(t, tt.wantGive, give, "at %v", tt.at)
		require.Equal(t, tt.wantDelay, delay, "at %v", tt.at)
	}
}

func TestRestartsDefaults(t *testing.T) {
	r := NewRestarts(kernel.RestartLimits{})
	d, give := r.Next(time.Unix(0, 0))
	require.False(t, give)
	require.Equal(t, time.Duration(kernel.DefaultBackoff), d)
}
