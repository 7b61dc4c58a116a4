package clusterfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Error is a config error at a place in the file.
type Error struct {
	File  string // as given to Load ("" for Parse)
	Line  int    // 1-based; 0 when the error has no place (an empty file)
	Field string // the path to the field, e.g. "vats.bob.bundle"
	Msg   string
	err   error // what the error is, for errors.Is (ErrTooLarge, ErrAlias); nil for most
}

// Unwrap returns the kind of error, for errors.Is.
func (e *Error) Unwrap() error { return e.err }

// Error is "file:line: field: message", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Options tune reading.
type Options struct {
	// Bundle, if set, is asked about each vat's bundle; an error it
	// returns (say, no such bundle registered) is reported at the
	// bundle's line.
	Bundle func(name string) error
}

// Load reads the config in the file at path. A file over MaxSize bytes
// is refused before it is read whole.
func Load(path string, opts Options) (kernel.ClusterConfig, error) {
	data, err := readBounded(path)
	if err != nil {
		return kernel.ClusterConfig{}, err
	}
	cfg, err := Parse(data, opts)
	var ce *Error
	if errors.As(err, &ce) {
		ce.File = path
	}
	// A relative bundleSpec names a file beside the config, not in the
	// directory the kernel happens to run in.
	for name, v := range cfg.Vats {
		if v.BundleSpec != "" && !strings.Contains(v.BundleSpec, "://") && !filepath.IsAbs(v.BundleSpec) {
			v.BundleSpec = filepath.Join(filepath.Dir(path), v.BundleSpec)
			cfg.Vats[name] = v
		}
	}
	return cfg, err
}

// Parse reads a config from JSON or YAML text. Text over MaxSize bytes
// and YAML aliases are refused (see limits.go).
func Parse(data []byte, opts Options) (kernel.ClusterConfig, error) {
	if len(data) > MaxSize {
		return kernel.ClusterConfig{}, tooLarge(int64(len(data)))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return kernel.ClusterConfig{}, syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return kernel.ClusterConfig{}, &Error{Msg: "the file is empty; want bootstrap and vats"}
	}
	// One config per file: a second document ("---") would be ignored.
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = more.Line
		}
		return kernel.ClusterConfig{}, &Error{Line: line, Msg: "more than one YAML document; want one config"}
	}
	// Before any value is read: the tree as parsed is as big as the text,
	// and only an alias could make the values bigger.
	if err := refuseAliases(doc.Content[0], ""); err != nil {
		return kernel.ClusterConfig{}, err
	}
	p := &parser{opts: opts}
	cfg := p.cluster(doc.Content[0])
	if p.err != nil {
		return kernel.ClusterConfig{}, p.err
	}
	return cfg, nil
}

// syntaxError turns the YAML library's "yaml: line N: msg" into an Error.
func syntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return &Error{Line: line, Msg: "not valid JSON or YAML: " + msg}
}

// parser walks the node tree, keeping the first error.
type parser struct {
	opts Options
	err  error
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
}

// fields checks that n is a mapping with only the allowed keys, no key
// twice, and returns the value nodes by key, with the key nodes (for
// their lines).
func (p *parser) fields(n *yaml.Node, field string, allowed ...string) (vals, keys map[string]*yaml.Node) {
	vals, keys = map[string]*yaml.Node{}, map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.fail(n, field, "want a mapping (an object), got %s", kindName(n))
		return vals, keys
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			// A complex key ("? [a, b]: c") has no name; read as "" it
			// would pass for an empty key.
			p.fail(k, field, "keys must be names, got %s as a key", kindName(k))
			continue
		}
		name := k.Value
		if allowed != nil && !slices.Contains(allowed, name) {
			p.fail(k, join(field, name), "unknown field (want one of %s)", quoteAll(allowed))
			continue
		}
		if _, dup := vals[name]; dup {
			p.fail(k, join(field, name), "given twice (first on line %d)", keys[name].Line)
			continue
		}
		vals[name], keys[name] = v, k
	}
	return vals, keys
}

// cluster reads the top mapping: bootstrap, vats (in file order, so
// that the first error reported is the first in the file) and services,
// then lets the kernel's own Validate speak at the config's line.
func (p *parser) cluster(n *yaml.Node) kernel.ClusterConfig {
	var cfg kernel.ClusterConfig
	vals, _ := p.fields(n, "", "bootstrap", "vats", "services")
	if p.err != nil {
		return cfg
	}
	if v, ok := vals["bootstrap"]; ok {
		cfg.Bootstrap = p.str(v, "bootstrap")
	} else {
		p.fail(n, "bootstrap", "missing: name the vat that gets bootstrap(vats, services)")
	}
	vn, ok := vals["vats"]
	if !ok {
		p.fail(n, "vats", "missing: at least one vat is required")
		return cfg
	}
	vats, vkeys := p.fields(vn, "vats")
	if p.err == nil && len(vats) == 0 {
		p.fail(vn, "vats", "empty: at least one vat is required")
	}
	cfg.Vats = map[string]kernel.VatConfig{}
	for i := 0; i+1 < len(vn.Content); i += 2 { // in file order, so the first error is the first in the file
		k := vn.Content[i]
		if v, ok := vats[k.Value]; ok && vkeys[k.Value] == k {
			cfg.Vats[k.Value] = p.vat(v, join("vats", k.Value))
		}
	}
	if s, ok := vals["services"]; ok {
		cfg.Services = p.strings(s, "services")
	}
	if p.err == nil {
		if _, ok := cfg.Vats[cfg.Bootstrap]; !ok {
			p.fail(vals["bootstrap"], "bootstrap", "%q is not one of the vats (%s)", cfg.Bootstrap, quoteAll(sortedKeys(cfg.Vats)))
		}
	}
	if p.err == nil {
		// Whatever else the kernel checks, at the line of the config.
		if err := cfg.Validate(); err != nil {
			p.fail(n, "", "%v", err)
		}
	}
	return cfg
}

// vat reads one vat: the bundle (asked about through Options.Bundle, so
// an unknown one is named at its line, not at launch), parameters as
// passable values, and the failure policy with its restart limits.
func (p *parser) vat(n *yaml.Node, field string) kernel.VatConfig {
	var vc kernel.VatConfig
	vals, _ := p.fields(n, field, "bundle", "bundleSpec", "globals", "parameters", "failurePolicy", "restart")
	if p.err != nil {
		return vc
	}
	if p.jsVat(vals, field, &vc) {
		// A JavaScript vat: its code is the bundleSpec.
	} else if b, ok := vals["bundle"]; ok {
		vc.Bundle = p.str(b, join(field, "bundle"))
		if p.err == nil && vc.Bundle == "" {
			p.fail(b, join(field, "bundle"), "empty")
		}
		if p.err == nil && p.opts.Bundle != nil {
			if err := p.opts.Bundle(vc.Bundle); err != nil {
				p.fail(b, join(field, "bundle"), "%v", err)
			}
		}
	} else {
		p.fail(n, join(field, "bundle"), "missing: name the registered vat code (or give a bundleSpec for a JavaScript vat)")
	}
	if pn, ok := vals["parameters"]; ok {
		if pn.Kind != yaml.MappingNode {
			p.fail(pn, join(field, "parameters"), "want a mapping, got %s", kindName(pn))
		} else if v, ok := p.value(pn, join(field, "parameters")).(map[string]any); ok {
			vc.Parameters = v
		}
	}
	if fp, ok := vals["failurePolicy"]; ok {
		s := p.str(fp, join(field, "failurePolicy"))
		switch kernel.FailurePolicy(s) {
		case kernel.PolicyTerminate, kernel.PolicyRestart:
			vc.FailurePolicy = kernel.FailurePolicy(s)
		default:
			p.fail(fp, join(field, "failurePolicy"), "%q is not one of %q, %q", s, kernel.PolicyTerminate, kernel.PolicyRestart)
		}
	}
	if rn, ok := vals["restart"]; ok {
		vc.Restart = p.restart(rn, join(field, "restart"))
		if p.err == nil && vc.FailurePolicy != kernel.PolicyRestart {
			p.fail(rn, join(field, "restart"), "restart limits need failurePolicy: restart")
		}
	}
	return vc
}

// jsVat reads a JavaScript vat's bundleSpec and globals into vc, and
// reports whether the vat has a bundleSpec. A vat has either a bundle or
// a bundleSpec, and globals only with the latter.
func (p *parser) jsVat(vals map[string]*yaml.Node, field string, vc *kernel.VatConfig) bool {
	if g, ok := vals["globals"]; ok {
		vc.Globals = p.strings(g, join(field, "globals"))
		if _, js := vals["bundleSpec"]; p.err == nil && !js {
			p.fail(g, join(field, "globals"), "only a JavaScript vat (bundleSpec) has globals")
		}
	}
	bs, ok := vals["bundleSpec"]
	if !ok {
		return false
	}
	vc.BundleSpec = p.str(bs, join(field, "bundleSpec"))
	if p.err == nil && vc.BundleSpec == "" {
		p.fail(bs, join(field, "bundleSpec"), "empty")
	}
	if b, both := vals["bundle"]; p.err == nil && both {
		p.fail(b, join(field, "bundle"), "set together with bundleSpec: a vat runs either a registered bundle or a JavaScript bundleSpec")
	}
	return true
}

// restart reads restart limits; durations are strings ("250ms"), never
// bare numbers, whose unit would be a guess.
func (p *parser) restart(n *yaml.Node, field string) kernel.RestartLimits {
	var r kernel.RestartLimits
	vals, _ := p.fields(n, field, "maxRestarts", "within", "backoff", "maxBackoff")
	if v, ok := vals["maxRestarts"]; ok {
		r.MaxRestarts = p.positiveInt(v, join(field, "maxRestarts"))
	}
	r.Within = p.duration(vals["within"], join(field, "within"))
	r.Backoff = p.duration(vals["backoff"], join(field, "backoff"))
	r.MaxBackoff = p.duration(vals["maxBackoff"], join(field, "maxBackoff"))
	if p.err == nil && r.Backoff > 0 && r.MaxBackoff > 0 && r.MaxBackoff < r.Backoff {
		p.fail(vals["maxBackoff"], join(field, "maxBackoff"), "%v is less than backoff %v", time.Duration(r.MaxBackoff), time.Duration(r.Backoff))
	}
	return r
}

// str reads a string; YAML's other scalars (7, true, null) are refused
// rather than turned into their text.
func (p *parser) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.fail(n, field, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

// strings reads a list of strings, naming a bad item by its index.
func (p *parser) strings(n *yaml.Node, field string) []string {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, field, "want a list of strings, got %s", kindName(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		out = append(out, p.str(c, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

// positiveInt reads a whole number above zero.
func (p *parser) positiveInt(n *yaml.Node, field string) int {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil || v <= 0 {
		p.fail(n, field, "want a whole number above 0, got %s", kindName(n))
		return 0
	}
	return v
}

// duration reads a duration string such as "250ms"; a nil node is unset.
func (p *parser) duration(n *yaml.Node, field string) kernel.Duration {
	if n == nil {
		return 0
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.fail(n, field, "want a duration such as \"500ms\" or \"2s\", got %s", kindName(n))
		return 0
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil || d <= 0 {
		p.fail(n, field, "want a duration above zero such as \"500ms\" or \"2s\", got %q", n.Value)
		return 0
	}
	return kernel.Duration(d)
}

// value converts a node to the Go values vats receive (package marshal's
// mapping): mappings to map[string]any, sequences to []any, whole numbers
// to int64, other numbers to float64.
func (p *parser) value(n *yaml.Node, field string) any {
	switch n.Kind {
	case yaml.MappingNode:
		vals, _ := p.fields(n, field)
		m := make(map[string]any, len(vals))
		for k, v := range vals {
			m[k] = p.value(v, join(field, k))
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			out = append(out, p.value(c, fmt.Sprintf("%s[%d]", field, i)))
		}
		return out
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			_ = n.Decode(&b)
			return b
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				p.fail(n, field, "%s does not fit in 64 bits", n.Value)
			}
			return i
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				p.fail(n, field, "bad number %q", n.Value)
			}
			return f
		default:
			return n.Value
		}
	}
	p.fail(n, field, "unsupported value (%s)", kindName(n))
	return nil
}

// kindName says what a node is, for "want X, got Y".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!null":
			return "null"
		default:
			return n.Value
		}
	}
	return "something else"
}

// join extends a field path: "vats" and "bob" make "vats.bob".
func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

// quoteAll lists names quoted, for "want one of ...".
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// sortedKeys lists a map's keys in order, for messages that must not
// change from run to run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
