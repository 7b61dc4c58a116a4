package kernel

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/stretchr/testify/require"
)

// leakPattern is the acceptance test's definition of an identifier leak.
var leakPattern = regexp.MustCompile(`k[op][0-9]+|[op][+-][0-9]+|v[0-9]+`)

func TestErrorCodesRoundTrip(t *testing.T) {
	all := []*Error{ErrObjectDeleted, ErrObjectRevoked, ErrBadPromiseResolution, ErrEndpointUnreachable,
		ErrDeliveryFailed, ErrVatTerminated, ErrIllegalSyscall, ErrInternalError}
	for _, e := range all {
		t.Run(string(e.Code), func(t *testing.T) {
			require.False(t, leakPattern.MatchString(e.Error()), e.Error())
			got := ErrorFromRejection(rejection(e))
			require.ErrorIs(t, got, e)
			require.Equal(t, e.Error(), got.Error())
			// Wrapped, it still matches; other codes do not.
			require.ErrorIs(t, fmt.Errorf("call failed: %w", got), e)
			for _, other := range all {
				if other != e {
					require.NotErrorIs(t, got, other)
				}
			}
		})
	}
}

func TestWithMessageScrubsRefs(t *testing.T) {
	e := ErrInternalError.withMessage("liveslots: unknown vref o+5 for ko12 in v3 (kp7, o-2, p+9, o+d10/2:1)")
	require.False(t, leakPattern.MatchString(e.Error()), e.Error())
	require.ErrorIs(t, e, ErrInternalError)
	require.Contains(t, e.Error(), "[KERNEL:VAT_FATAL:INTERNAL_ERROR] liveslots: unknown vref <ref>")
}

func TestErrorFromRejectionOfVatValues(t *testing.T) {
	err := ErrorFromRejection(marshal.EncodeError("TypeError", "bad argument"))
	var re *RejectionError
	require.True(t, errors.As(err, &re))
	require.Equal(t, "TypeError", re.Name)
	require.Equal(t, "bad argument", re.Message)

	err = ErrorFromRejection(marshal.EncodeString("just a string"))
	require.True(t, errors.As(err, &re))
	require.Equal(t, `#"just a string"`, re.Value.Body)

	// Look-alikes are not kernel errors.
	for _, msg := range []string{"[KERNEL:lower] x", "[KERNEL:] x", "[KERNEL:CODE x", "KERNEL:CODE] x"} {
		require.Nil(t, parseCoded(msg), msg)
	}
}

// A vat's long text is cut at a rune boundary, never into broken UTF-8.
func TestTruncateKeepsUTF8(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, got := range []string{truncate(long, 300), truncate(long, 301)} {
		require.True(t, utf8.ValidString(got), "%q", got)
		require.True(t, strings.HasSuffix(got, "..."))
		require.LessOrEqual(t, len(got), 301+3)
	}
	require.Equal(t, "short", truncate("short", 300))
}
