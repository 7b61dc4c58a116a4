package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// The sample Grafana dashboard (docs/grafana/kernel-actors.json) and the
// metrics table of docs/observability.md are checked against what a real
// serve exports, so that neither can name a metric the kernel does not
// have, nor leave one out.

// allFamilies runs a workload that makes every one of the kernel's
// metrics appear on a real serve (counters appear once first counted: a
// restart and a termination are in it), and returns its /metrics.
func allFamilies(t *testing.T) reading {
	t.Helper()
	s := startLiveServe(t)
	s.counterWorkload(t, 2)
	ctx := context.Background()
	st, err := s.client.Status(ctx)
	require.NoError(t, err)
	_, err = s.client.RestartVat(ctx, st.Vats[0].ID)
	require.NoError(t, err)
	require.NoError(t, s.client.TerminateVat(ctx, st.Vats[0].ID, "done"))
	// A request answered after the last crank: the kernel has published
	// its counts by then (it does when it runs out of work).
	_, err = s.client.Status(ctx)
	require.NoError(t, err)
	r, err := scrapeMetrics(ctx, &http.Client{}, s.client.Base+"/metrics")
	require.NoError(t, err)
	return r
}

// kernelFamilies are the names of r's kernel_ families, sorted.
func kernelFamilies(r reading) []string {
	var out []string
	for name := range r {
		if strings.HasPrefix(name, "kernel_") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// exports reports whether r has the series name: a family of that name,
// or a histogram family's _bucket, _sum or _count.
func exports(r reading, name string) bool {
	if _, ok := r[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := r[base]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
	}
	return false
}

// The parts of a PromQL expression that are not metric names: string
// literals, label matchers, range and subquery brackets, and the label
// lists of grouping and matching modifiers, and the durations of offset
// modifiers.
var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promOffset   = regexp.MustCompile(`\b(?:offset|@)\s*-?[0-9a-zA-Z_.$]+`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// labelValues is Grafana's template query label_values(METRIC, LABEL).
	labelValues = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
)

// promKeywords are PromQL's operators and modifiers spelt as words.
var promKeywords = []string{"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}

// metricNames returns the metric names a PromQL expression selects: the
// identifiers left once literals, matchers, ranges and label lists are
// taken out, that are not a function (followed by "(") or a keyword.
func metricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	s = promOffset.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		word := s[loc[0]:loc[1]]
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function
		}
		if slices.Contains(promKeywords, strings.ToLower(word)) {
			continue
		}
		out = append(out, word)
	}
	return out
}

// The extractor finds the metric of a histogram quantile, both sides of
// a ratio, and none of the functions, labels and keywords around them.
func TestMetricNamesOfPromQL(t *testing.T) {
	require.Equal(t, []string{"x_bucket"},
		metricNames(`histogram_quantile(0.99, sum by (le, kind) (rate(x_bucket{job=~"a|b",kind!="send"}[5m])))`))
	require.Equal(t, []string{"a_sum", "b_count"}, metricNames(`sum(rate(a_sum[$__rate_interval])) / on (job) sum(rate(b_count{x="}"}[1m] offset 5m))`))
	require.Equal(t, []string{"up", "up"}, metricNames(`up == bool 1 and up`))
	require.Empty(t, metricNames(`vector(1)`))
}

// grafanaDashboard is the part of a Grafana dashboard's JSON model that
// holds queries.
type grafanaDashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// Every metric name the sample dashboard's PromQL uses is one a real
// serve exports, and the dashboard uses every one of the kernel's
// metrics: a renamed or new metric fails here until the dashboard
// follows.
func TestGrafanaDashboardUsesTheKernelsMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "grafana", "kernel-actors.json"))
	require.NoError(t, err)
	var d grafanaDashboard
	require.NoError(t, json.Unmarshal(b, &d))
	require.Equal(t, "kernel-actors", d.Title)
	r := allFamilies(t)

	used := map[string]bool{}
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			names := metricNames(tg.Expr)
			require.NotEmpty(t, names, "panel %q: %s", p.Title, tg.Expr)
			for _, name := range names {
				require.True(t, exports(r, name), "panel %q uses %s, which serve does not export: %s", p.Title, name, tg.Expr)
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")] = true
			}
		}
	}
	for _, v := range d.Templating.List {
		for _, m := range labelValues.FindAllStringSubmatch(v.Definition, -1) {
			require.True(t, exports(r, m[1]), "template %q uses %s, which serve does not export", v.Definition, m[1])
		}
	}
	for _, fam := range kernelFamilies(r) {
		require.True(t, used[fam], "no panel shows %s", fam)
	}
}

// docMetricRow matches a row of docs/observability.md's metrics table,
// capturing its Prometheus name (the second column).
var docMetricRow = regexp.MustCompile("(?m)^\\| `kernel\\.[a-z_.]+` \\| `(kernel_[a-z_]+)` \\|")

// docs/observability.md's metrics table names every kernel_ family a real
// serve exports, by its Prometheus name, and no other.
func TestObservabilityDocListsEveryMetric(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "observability.md"))
	require.NoError(t, err)
	var documented []string
	for _, m := range docMetricRow.FindAllStringSubmatch(string(b), -1) {
		documented = append(documented, m[1])
	}
	sort.Strings(documented)
	require.Equal(t, kernelFamilies(allFamilies(t)), documented)
}
