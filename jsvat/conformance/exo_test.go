//go:build jsvat

package conformance

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The exo family (the reference's exo.test.ts; vats/exo.js): exo classes
// with interface guards, an exo class kit, a lone exo, heap map and set
// stores, and baggage, used inside the vat and through messages from the
// host. Each subtest launches the vat afresh, as the reference's
// beforeEach does, and reads only the log lines that came after the
// launch (its clearLogEntries).

// launchExo launches the exo vat and checks its bootstrap; it returns the
// vat's root and the log position after the launch.
func launchExo(t *testing.T, w *world) (kernel.KRef, int) {
	t.Helper()
	res := w.launch(kernel.ClusterConfig{Bootstrap: "exoTest", Vats: map[string]kernel.VatConfig{
		"exoTest": jsVat(t, "exo", map[string]any{"name": "ExoTest"}),
	}})
	require.Equal(t, "exo-test-complete", res.BootstrapResult)
	return res.RootKref, w.log.mark()
}

func TestExo(t *testing.T) {
	t.Run("bootstrap uses exos and stores", func(t *testing.T) {
		w := newWorld(t)
		launchExo(t, w)
		require.Equal(t, []string{
			"initializing state",
			"counter value from baggage: 0",
			"bootstrap()",
			"Created counter with initial value: 10",
			"Incremented counter by 5 to: 15",
			"ERROR: Increment with negative value should have failed",
			"Alice has 1 friends",
			"Added 2 entries to map store",
			"Added 2 entries to set store",
			"Retrieved Alice from map store",
			"Temperature at 25°C = 77°F",
			"After setting to 68°F, celsius is 20°C",
			"SimpleCounter initial value: 0",
			"SimpleCounter after +7: 7",
			"Updated baggage counter to: 7",
		}, w.testLog("ExoTest"))
	})

	t.Run("scalar stores", func(t *testing.T) {
		w := newWorld(t)
		root, from := launchExo(t, w)
		require.Equal(t, "scalar-store-tests-complete", w.send(root, "testScalarStore"))
		require.Equal(t, []string{
			"Map store size: 3",
			"Map store keys: alice, bob, charlie",
			"Map has 'charlie': true",
			"Set store size: 3",
			"Set has Charlie: true",
		}, w.testLogSince(from, "ExoTest"))
	})

	// Exos made for the host come back as krefs the host sends to; one the
	// host hands back is the vat's own object again, so storing it and
	// reading it back gives the host the same kref.
	t.Run("objects through messages", func(t *testing.T) {
		w := newWorld(t)
		root, from := launchExo(t, w)
		counter := w.send(root, "createCounter", 42)
		require.IsType(t, kernel.KRef(""), counter)
		require.Equal(t, int64(47), w.send(counter.(kernel.KRef), "increment", 5))
		person := w.send(root, "createPerson", "Dave", 35)
		require.IsType(t, kernel.KRef(""), person)
		require.Equal(t, int64(3), w.send(root, "createOrUpdateInMap", "dave", person))
		require.Equal(t, person, w.send(root, "getFromMap", "dave"), "the same object, the same kref")
		require.Equal(t, int64(3), w.send(root, "createOrUpdateInMap", "dave", person))
		require.Equal(t, []string{
			"Created new counter with value: 42",
			"Created person Dave, age 35",
			"Added dave to map, size now: 3",
			"Found dave in map",
			"Updated dave in map",
		}, w.testLogSince(from, "ExoTest"))
	})

	// The interface guard refuses a string where a number is due, with
	// the message @endo/exo gives.
	t.Run("exo class guards", func(t *testing.T) {
		w := newWorld(t)
		root, from := launchExo(t, w)
		require.Equal(t, "exoClass-tests-complete", w.send(root, "testExoClass"))
		require.Equal(t, []string{
			"Counter: 3 + 5 = 8",
			"Counter: 8 - 2 = 6",
			`Successfully caught type error: In "increment" method of (Counter): arg 0: string "foo" - Must be a number`,
		}, w.testLogSince(from, "ExoTest"))
	})

	t.Run("exo class kit facets", func(t *testing.T) {
		w := newWorld(t)
		root, from := launchExo(t, w)
		require.Equal(t, "exoClassKit-tests-complete", w.send(root, "testExoClassKit"))
		require.Equal(t, []string{
			"20°C = 68°F",
			"32°F = 0°C",
			"Successfully caught cross-facet error: celsius.getFahrenheit is not a function",
		}, w.testLogSince(from, "ExoTest"))
	})

	// The kit's two facets reach the host as two krefs over one state:
	// a change through one is seen through the other.
	t.Run("temperature through messages", func(t *testing.T) {
		w := newWorld(t)
		root, from := launchExo(t, w)
		kit, ok := w.send(root, "createTemperature", 100).(map[string]any)
		require.True(t, ok, "the kit is a record of its facets")
		celsius, fahrenheit := kit["celsius"].(kernel.KRef), kit["fahrenheit"].(kernel.KRef)
		require.NotEqual(t, celsius, fahrenheit)
		require.Equal(t, int64(100), w.send(celsius, "getCelsius"))
		require.Equal(t, int64(212), w.send(fahrenheit, "getFahrenheit"))
		require.Equal(t, int64(32), w.send(fahrenheit, "setFahrenheit", 32))
		require.Equal(t, int64(0), w.send(celsius, "getCelsius"))
		require.Contains(t, w.testLogSince(from, "ExoTest"), "Created temperature converter starting at 100°C")
		// A message the facet's guard does not know is refused by the
		// vat, which lives on.
		_, err := w.sendErr(celsius, "getFahrenheit")
		var re *kernel.RejectionError
		require.ErrorAs(t, err, &re)
		require.Contains(t, re.Message, `target has no method "getFahrenheit"`)
		require.Equal(t, int64(0), w.send(celsius, "getCelsius"))
	})
}
