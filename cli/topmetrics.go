package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// What top reads of serve's /metrics: the Prometheus text is parsed by
// the Prometheus project's own parser (expfmt), not by hand, so every
// escape, label quoting and histogram rule of the format is read as a
// Prometheus server reads it.

// maxMetricsBody bounds what top reads of one /metrics answer. A kernel's
// metrics are a few kilobytes (the label sets are closed); a far larger
// answer is not a kernel's, and is refused rather than read whole.
const maxMetricsBody = 8 << 20

// errNotAKernel is wrapped when the address answers, but not as a
// kernel-actors serve does.
var errNotAKernel = errors.New("not a kernel-actors serve")

// The metric families top reads, as the kernel's OpenTelemetry instruments
// appear in Prometheus text (docs/observability.md).
const (
	famCranks       = "kernel_cranks_total"
	famCrankDur     = "kernel_crank_duration_seconds"
	famFlushDur     = "kernel_flush_duration_seconds"
	famSyscalls     = "kernel_syscalls_total"
	famRestarts     = "kernel_vat_restarts_total"
	famTerminations = "kernel_vat_terminations_total"
	famHost         = "kernel_host_requests_total"
	famRunQueue     = "kernel_run_queue_length"
	famPromises     = "kernel_promises"
	famVats         = "kernel_vats"
)

// reading is one scrape of /metrics, by family name.
type reading map[string]*dto.MetricFamily

// scrapeMetrics fetches and parses url (serve's /metrics). It needs no
// token. Each way it can fail names the address and what went wrong.
func scrapeMetrics(ctx context.Context, hc *http.Client, url string) (reading, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	// Plain text format, not OpenMetrics: the one the parser reads.
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := hc.Do(req)
	if err != nil {
		// Connection refused, no route, a timeout: nothing serves there.
		return nil, fmt.Errorf("GET %s: no answer: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// A 404 is a serve built without metrics, or another server.
		return nil, fmt.Errorf("GET %s: %w: it answered %s", url, errNotAKernel, resp.Status)
	}
	// INVARIANT: at most maxMetricsBody+1 bytes are read, whatever
	// answers at the address; a cut answer fails to parse, and is named.
	body := io.LimitReader(resp.Body, maxMetricsBody+1)
	// UTF-8 validation accepts every name the exporter may write (it
	// escapes to legacy names by default, which UTF-8 includes).
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w: its answer is not Prometheus text: %w", url, errNotAKernel, err)
	}
	// INVARIANT: kernel_vats is observed by the kernel's gauge callback at
	// every collection, even before the first crank: its absence means
	// the scrape is not of a kernel (counters only appear once counted).
	if _, ok := fams[famVats]; !ok {
		return nil, fmt.Errorf("GET %s: %w: its metrics have no %s", url, errNotAKernel, famVats)
	}
	return reading(fams), nil
}

// value is a sample's value, whatever the family's type.
func value(m *dto.Metric) float64 {
	// One of these is set, by the family's TYPE; a histogram has no single
	// value and is read through hist.
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// label is the value of m's label name, "" if it has none.
func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// total sums every sample of family name (0 if there is none yet: a
// counter appears once it is first counted).
func (r reading) total(name string) float64 {
	var n float64
	if f := r[name]; f != nil {
		for _, m := range f.Metric {
			n += value(m)
		}
	}
	return n
}

// by sums the samples of family name by the value of label key.
func (r reading) by(name, key string) map[string]int64 {
	out := map[string]int64{}
	if f := r[name]; f != nil {
		for _, m := range f.Metric {
			// Summed: a family has other labels too (otel_scope_name, and
			// kind beside outcome), which top folds away. Counts are whole,
			// so rounding only undoes the float's text form.
			out[label(m, key)] += int64(math.Round(value(m)))
		}
	}
	return out
}

// histogram is one histogram family summed over its label sets: the
// kernel's histograms share their bucket bounds across label sets, so
// summing bucket by bucket is what PromQL's sum by (le) does.
type histogram struct {
	bounds []float64 // upper bounds, ascending, +Inf excluded
	cum    []float64 // cumulative counts at each bound
	count  float64   // all measurements, the +Inf bucket's count
}

// hist sums family name's buckets.
func (r reading) hist(name string) histogram {
	// Keyed by bound, so label sets whose buckets came in any order still
	// add up bucket by bucket.
	byBound := map[float64]float64{}
	var h histogram
	if f := r[name]; f != nil {
		for _, m := range f.Metric {
			if m.Histogram == nil {
				continue
			}
			h.count += float64(m.Histogram.GetSampleCount())
			for _, b := range m.Histogram.Bucket {
				// The +Inf bucket's count is the sample count, kept above.
				if !math.IsInf(b.GetUpperBound(), +1) {
					byBound[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	for b := range byBound {
		h.bounds = append(h.bounds, b)
	}
	sort.Float64s(h.bounds)
	for _, b := range h.bounds {
		h.cum = append(h.cum, byBound[b])
	}
	return h
}

// since is h less an earlier reading of the same histogram: the
// measurements between the two. A counter reset (a new serve) gives
// negative counts, and then h itself is returned.
func (h histogram) since(prev histogram) histogram {
	if len(prev.bounds) != len(h.bounds) || prev.count > h.count {
		return h
	}
	d := histogram{bounds: h.bounds, cum: make([]float64, len(h.cum)), count: h.count - prev.count}
	for i := range h.cum {
		d.cum[i] = h.cum[i] - prev.cum[i]
		if d.cum[i] < 0 {
			return h
		}
	}
	return d
}

// quantile estimates the q-quantile (0 < q < 1) of h as PromQL's
// histogram_quantile does: it finds the bucket holding the rank q*count
// and interpolates linearly within it, taking 0 as the first bucket's
// lower bound, and the largest finite bound for a rank in the +Inf
// bucket. NaN when h holds no measurement.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 || len(h.bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.count
	// lower and below are the previous bucket's bound and cumulative
	// count: the start of the bucket being looked at.
	lower, below := 0.0, 0.0
	for i, upper := range h.bounds {
		if h.cum[i] >= rank {
			inBucket := h.cum[i] - below
			// An empty bucket can hold the rank only when the rank is 0.
			if inBucket == 0 {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/inBucket
		}
		lower, below = upper, h.cum[i]
	}
	// Past the last finite bound: as histogram_quantile, that bound.
	return h.bounds[len(h.bounds)-1]
}
