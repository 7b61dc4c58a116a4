package clusterfile_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/clusterfile"
)

// FuzzParse: any text either parses to a config the kernel accepts, which
// reads back the same from its JSON form, or is refused with an *Error;
// never a panic, never another kind of error. The seed corpus is in
// testdata/fuzz/FuzzParse (both attack files among them); a finding is
// added there and to the tests that name it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodYAML))
	f.Add([]byte(goodJSON))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := clusterfile.Parse(data, clusterfile.Options{})
		if err != nil {
			var ce *clusterfile.Error
			require.True(t, errors.As(err, &ce), "not an *Error: %T %v", err, err)
			require.NotEmpty(t, ce.Msg)
			return
		}
		require.NoError(t, cfg.Validate())
		js, err := json.Marshal(cfg)
		require.NoError(t, err)
		back, err := clusterfile.Parse(js, clusterfile.Options{})
		require.NoError(t, err, "its own JSON form: %s", js)
		js2, err := json.Marshal(back)
		require.NoError(t, err)
		require.JSONEq(t, string(js), string(js2))
	})
}
