package console_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/console"
	"github.com/ocapgo/kernel-actors/internal/echovats"
)

// BenchmarkPingPongConsole is the ping-pong on the in-memory store with
// metrics on (as serve runs it), without a console, with a console's hub
// fed every crank but no stream open, and with one stream reading every
// snapshot at a 10 ms interval (a hundred times the default rate): what
// the console costs the crank path (docs/console.md).
func BenchmarkPingPongConsole(b *testing.B) {
	for _, c := range []struct {
		name                  string
		hub, reader, watching bool
	}{{"off", false, false, false}, {"feed", true, false, false}, {"hub", true, true, false}, {"watching", true, true, true}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			hub := console.New(console.Options{Interval: 10 * time.Millisecond})
			defer hub.Close()
			opts := []sdkmetric.Option{sdkmetric.WithReader(sdkmetric.NewManualReader())}
			if c.reader {
				opts = append(opts, sdkmetric.WithReader(hub.Reader()))
			}
			mp := sdkmetric.NewMeterProvider(opts...)
			defer mp.Shutdown(ctx)
			cfg := actors.Config{Registry: echovats.Registry(), MeterProvider: mp}
			if c.hub {
				cfg.OnCrankDone = hub.OnCrankDone
			}
			k, err := actors.Start(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer k.Stop(ctx)
			hub.Start(k)
			res, err := k.LaunchSubcluster(ctx, echovats.Cluster())
			if err != nil {
				b.Fatal(err)
			}
			if c.watching {
				sub, err := hub.Subscribe()
				if err != nil {
					b.Fatal(err)
				}
				defer sub.Close()
				go func() {
					for {
						select {
						case <-sub.Snapshots():
						case <-sub.Gone():
							return
						}
					}
				}()
			}
			if _, err := k.QueueMessage(ctx, res.RootKref, "run", 100); err != nil { // warm up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if _, err := k.QueueMessage(ctx, res.RootKref, "run", b.N); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "roundtrips/s")
		})
	}
}
