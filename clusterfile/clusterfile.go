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
//
// It carries the place as fields, not just text, so that callers can
// show or test the line and field without parsing a message, and so a
// user with a long config is sent to the exact line to fix.
// err is unexported so the kind can be tested but not faked or cleared
// by a caller that only means to read the place.
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
	// "file:line:" is the form editors and terminals turn into a link to
	// the line, so it comes first when the file is known.
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		// Parse has no file name; "line N" still lets the user find the place.
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	// The field path says which of several same-named keys (two vats'
	// "bundle") is meant, which a line number alone leaves to be read.
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
	//
	// It is a callback rather than a registry so that this package stays
	// free of the kernel's bundle table and can be fuzzed on its own.
	Bundle func(name string) error
}

// Load reads the config in the file at path. A file over MaxSize bytes
// is refused before it is read whole.
func Load(path string, opts Options) (kernel.ClusterConfig, error) {
	// INVARIANT: the file is read through readBounded, never os.ReadFile,
	// so its size is bounded before any byte is parsed.
	data, err := readBounded(path)
	if err != nil {
		return kernel.ClusterConfig{}, err
	}
	cfg, err := Parse(data, opts)
	var ce *Error
	if errors.As(err, &ce) {
		// Parse knows only the text; the path is added here so every error
		// from a file names that file.
		ce.File = path
	}
	// A relative bundleSpec names a file beside the config, not in the
	// directory the kernel happens to run in.
	// This runs even when err is set: the config returned with an error is
	// for messages only, and rewriting it costs nothing.
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
	// Checked again here because Parse is also called with text that did
	// not come through Read (the control API, tests, the fuzzer).
	// INVARIANT: text over MaxSize is refused before YAML sees it.
	if len(data) > MaxSize {
		return kernel.ClusterConfig{}, tooLarge(int64(len(data)))
	}
	// Decoding into a yaml.Node, not a struct, keeps the lines of every key
	// and value, which is what lets errors name line and field, and lets
	// unknown or repeated keys be refused instead of silently dropped.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return kernel.ClusterConfig{}, syntaxError(err)
	}
	// An empty file would otherwise read as a config with no vats and fail
	// later with a less helpful message.
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return kernel.ClusterConfig{}, &Error{Msg: "the file is empty; want bootstrap and vats"}
	}
	// One config per file: a second document ("---") would be ignored.
	var more yaml.Node
	// A second document is refused, not ignored: a user who appended a
	// config would otherwise launch only the first and never know.
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		// A decode error in the second document has no node to take a line
		// from; line 0 leaves it out of the message.
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
	// One parser per call: it holds the first error, and nothing is shared
	// between concurrent Parse calls.
	p := &parser{opts: opts}
	cfg := p.cluster(doc.Content[0])
	if p.err != nil {
		return kernel.ClusterConfig{}, p.err
	}
	return cfg, nil
}

// syntaxError turns the YAML library's "yaml: line N: msg" into an Error.
func syntaxError(err error) error {
	// The library's text is rewritten into Error so that syntax errors have
	// the same "file:line:" form as field errors and gain a file name.
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	// Not every library error has a line; then Line stays 0 and is left out.
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return &Error{Line: line, Msg: "not valid JSON or YAML: " + msg}
}

// parser walks the node tree, keeping the first error.
//
// Only the first error is kept because later ones are often caused by
// it; reporting one at a time keeps the message about the real fault.
type parser struct {
	opts Options
	err  error
}

// fail records the first error with the node's line; later calls do
// nothing, so the walk can go on without checks after every step.
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
		// Unknown keys are refused so that a misspelt field ("failurePolcy")
		// fails loudly instead of leaving the default silently in force.
		if allowed != nil && !slices.Contains(allowed, name) {
			p.fail(k, join(field, name), "unknown field (want one of %s)", quoteAll(allowed))
			continue
		}
		// YAML leaves a repeated key to the library (last wins); refusing it
		// keeps the user from editing the copy that does not count.
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
	// The top level allows only these keys, so a typo there is found too.
	vals, _ := p.fields(n, "", "bootstrap", "vats", "services")
	if p.err != nil {
		return cfg
	}
	// bootstrap has no default: guessing the first vat would start the
	// wrong one in a cluster whose order the author did not mean.
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
		// vkeys[..] == k skips a key fields already refused as a duplicate, so
		// the second copy is never read as if it counted.
		if v, ok := vats[k.Value]; ok && vkeys[k.Value] == k {
			cfg.Vats[k.Value] = p.vat(v, join("vats", k.Value))
		}
	}
	if s, ok := vals["services"]; ok {
		cfg.Services = p.strings(s, "services")
	}
	if p.err == nil {
		// Checked here rather than left to Validate so the error points at the
		// bootstrap line and lists the vats that do exist.
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
	vals, _ := p.fields(n, field, "bundle", "bundleSpec", "globals", "parameters", "failurePolicy", "restart", "pageable")
	if p.err != nil {
		return vc
	}
	// The JavaScript form is tried first because its presence decides
	// which of bundle and bundleSpec is required.
	if p.jsVat(vals, field, &vc) {
		// A JavaScript vat: its code is the bundleSpec.
	} else if b, ok := vals["bundle"]; ok {
		vc.Bundle = p.str(b, join(field, "bundle"))
		if p.err == nil && vc.Bundle == "" {
			p.fail(b, join(field, "bundle"), "empty")
		}
		// Asked at read time so an unknown bundle is reported at its line, not
		// as a launch failure after other vats have started.
		if p.err == nil && p.opts.Bundle != nil {
			if err := p.opts.Bundle(vc.Bundle); err != nil {
				p.fail(b, join(field, "bundle"), "%v", err)
			}
		}
	} else {
		p.fail(n, join(field, "bundle"), "missing: name the registered vat code (or give a bundleSpec for a JavaScript vat)")
	}
	if pn, ok := vals["parameters"]; ok {
		// Parameters must be a mapping because vats receive them as named
		// values; a list or scalar would have no names to look up.
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
		// No default policy is guessed from a misspelling: an unknown value is
		// refused so a vat meant to restart is not quietly terminated.
		default:
			p.fail(fp, join(field, "failurePolicy"), "%q is not one of %q, %q", s, kernel.PolicyTerminate, kernel.PolicyRestart)
		}
	}
	if rn, ok := vals["restart"]; ok {
		vc.Restart = p.restart(rn, join(field, "restart"))
		// Limits without the restart policy would never apply; refusing them
		// tells the user their intent is not what the config says.
		if p.err == nil && vc.FailurePolicy != kernel.PolicyRestart {
			p.fail(rn, join(field, "restart"), "restart limits need failurePolicy: restart")
		}
	}
	if pn, ok := vals["pageable"]; ok {
		vc.Pageable = p.boolean(pn, join(field, "pageable"))
	}
	return vc
}

// jsVat reads a JavaScript vat's bundleSpec and globals into vc, and
// reports whether the vat has a bundleSpec. A vat has either a bundle or
// a bundleSpec, and globals only with the latter.
func (p *parser) jsVat(vals map[string]*yaml.Node, field string, vc *kernel.VatConfig) bool {
	if g, ok := vals["globals"]; ok {
		vc.Globals = p.strings(g, join(field, "globals"))
		// globals grant a JavaScript vat host powers; a Go vat has no use for
		// them, and accepting them there would suggest a grant that does nothing.
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
	// Both at once is refused rather than one preferred, since either
	// choice would run code the author may not have meant.
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
	// A cap below the first delay would make the cap, not backoff, the
	// delay from the start; that is almost surely a mistake.
	if p.err == nil && r.Backoff > 0 && r.MaxBackoff > 0 && r.MaxBackoff < r.Backoff {
		p.fail(vals["maxBackoff"], join(field, "maxBackoff"), "%v is less than backoff %v", time.Duration(r.MaxBackoff), time.Duration(r.Backoff))
	}
	return r
}

// str reads a string; YAML's other scalars (7, true, null) are refused
// rather than turned into their text.
func (p *parser) str(n *yaml.Node, field string) string {
	// The tag, not the text, is checked: YAML reads "no" or "1.0" as other
	// types, and accepting their text would hide that surprise.
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

// boolean reads true or false; YAML 1.1's yes, no, on and off are
// strings to the parser, and refused rather than guessed at.
func (p *parser) boolean(n *yaml.Node, field string) bool {
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		p.fail(n, field, "want true or false, got %s", kindName(n))
		return false
	}
	return v
}

// positiveInt reads a whole number above zero.
func (p *parser) positiveInt(n *yaml.Node, field string) int {
	var v int
	// Zero or negative restarts would mean "never restart", which is what
	// failurePolicy: terminate says plainly.
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
	// A zero or negative duration would make a restart loop spin with no
	// pause, so it is refused here rather than clamped.
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
		// No allowed list: parameters are the vat's own, but duplicates and
		// complex keys are still refused.
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
			// A number too big for int64 is refused rather than rounded to float,
			// which would hand the vat a value other than the one written.
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
		// Other tags (!!str, !!timestamp, custom) are passed as their text, so
		// the vat sees exactly what was written.
		default:
			return n.Value
		}
	}
	// Anything else (an alias is already refused) cannot be a vat value.
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
		// Strings are quoted so a user can tell "7" (a string) from 7.
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
	// Map order is random in Go; sorting keeps messages and tests stable.
	slices.Sort(keys)
	return keys
}
