package kernel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseKRef(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"ko1", ""},
		{"kp12345", ""},
		{"ko0", ""},
		{"", "want ko<N> or kp<N>"},
		{"ko", "want ko<N> or kp<N>"},
		{"kx1", "want ko<N> or kp<N>"},
		{"ko01", "leading zero"},
		{"ko-1", "unexpected"},
		{"kp1a", "unexpected"},
		{"ko1234567890123456789", "too long"},
		{"invalid-kref", "want ko<N> or kp<N>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKRef(tt.in)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, KRef(tt.in), got)
				return
			}
			require.ErrorIs(t, err, ErrBadRef)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestParseVRef(t *testing.T) {
	tests := []struct {
		in                  string
		wantPromise, wantEx bool
		wantErr             string
	}{
		{in: "o+0", wantEx: true},
		{in: "o-7"},
		{in: "p+3", wantPromise: true, wantEx: true},
		{in: "p-12", wantPromise: true},
		{in: "o+d10/3", wantEx: true},
		{in: "o+v4/1:2", wantEx: true},
		{in: "o-d1/1", wantErr: "bad number"},
		{in: "p+d1/1", wantErr: "bad number"},
		{in: "o+d10", wantErr: "want o+dK/I"},
		{in: "o+d1/x", wantErr: "unexpected"},
		{in: "o+v1/1:", wantErr: "facet"},
		{in: "o+", wantErr: "want o+N"},
		{in: "x+1", wantErr: "want o+N"},
		{in: "o*1", wantErr: "want o+N"},
		{in: "o+01", wantErr: "bad number"},
		{in: "ko1", wantErr: "want o+N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			info, err := parseVRef(VRef(tt.in))
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrBadRef)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantPromise, info.promise)
			require.Equal(t, tt.wantEx, info.export)
		})
	}
}

func TestParseVatID(t *testing.T) {
	for _, ok := range []string{"v1", "v10"} {
		_, err := ParseVatID(ok)
		require.NoError(t, err)
	}
	for _, bad := range []string{"", "v", "1", "v01", "vx", "ko1"} {
		_, err := ParseVatID(bad)
		require.ErrorIs(t, err, ErrBadRef, bad)
	}
}

// FuzzParseRefs: the ref parsers never panic, accept only what they can
// print back unchanged, and agree on kinds.
func FuzzParseRefs(f *testing.F) {
	for _, s := range []string{"ko1", "kp22", "o+0", "o-3", "p+4", "p-5", "o+d10/3", "o+v1/2:3", "v7", "", "ko01", "o+", "p+d1/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKRef(s); err == nil && (string(k) != s || k.IsObject() == k.IsPromise()) {
			t.Fatalf("kref %q parsed oddly", s)
		}
		if info, err := parseVRef(VRef(s)); err == nil && info.promise != (s[0] == 'p') {
			t.Fatalf("vref %q kind wrong", s)
		}
		if v, err := ParseVatID(s); err == nil && string(v) != s {
			t.Fatalf("vat id %q parsed oddly", s)
		}
	})
}
