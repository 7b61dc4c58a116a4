package clusterfile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/ocapgo/kernel-actors/kernel"
)

// MaxSize is the largest config accepted, in bytes. A real cluster config
// is a few kilobytes; the bound keeps a stray or hostile file (Load) or
// request body (the control API's launch) from costing more than a little
// memory.
//
// One mebibyte is far above any config written by hand, so no honest
// file meets it, and low enough that holding it (and its node tree, which
// is about as big) is harmless even when many launches arrive at once.
// INVARIANT: no caller of this package holds more than MaxSize+1 bytes of config text.
const MaxSize = 1 << 20

// ReadFile reads the text of the config file at path, as Load does,
// refusing a file over MaxSize: for a client that sends the text on (the
// control API's launch).
func ReadFile(path string) ([]byte, error) { return readBounded(path) }

// Read reads a config's text from r (a pipe, standard input), refusing
// text over MaxSize without reading more than MaxSize+1 bytes of it; name
// is what errors call r.
func Read(r io.Reader, name string) ([]byte, error) {
	// The one extra byte is what tells "exactly MaxSize" from "more": a
	// reader that stops at MaxSize could not see that the text went on.
	// Standard input has no size to ask about, so counting is the only check.
	// INVARIANT: at most MaxSize+1 bytes are read from r, whatever r holds.
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	// Refused whole, never truncated: a config cut at the limit could still
	// parse and would launch a cluster other than the one written.
	if len(data) > MaxSize {
		e := tooLarge(int64(len(data)))
		// The name ("stdin", a path) is what the user typed, so the error points
		// at the input they can go and look at.
		e.File = name
		return nil, e
	}
	return data, nil
}

// LoadText reads the config in data, as Load does a file's, naming it
// name in its errors ("stdin:5: vats.alice.bundle: ...").
func LoadText(data []byte, name string, opts Options) (kernel.ClusterConfig, error) {
	cfg, err := Parse(data, opts)
	var ce *Error
	// Only our own Error carries a place; anything else passes through as
	// the caller's to describe.
	if errors.As(err, &ce) {
		ce.File = name
	}
	return cfg, err
}

// readBounded reads the file at path, refusing one over MaxSize without
// reading more than MaxSize+1 bytes of it (a device or a growing file has
// no trustworthy size to check first).
func readBounded(path string) ([]byte, error) {
	// No Stat first: its size could differ from what is then read (a file
	// still being written, a FIFO), and the bounded read is the real check.
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The path names the input in errors, as Load's errors do.
	return Read(f, path)
}

// ErrTooLarge is wrapped by the error for a config over MaxSize.
// Callers (the control API) test for it with errors.Is to answer with a
// "too large" status, not a generic "bad config".
var ErrTooLarge = errors.New("config too large")

// ErrAlias is wrapped by the error for a config that uses a YAML alias.
// A sentinel so that tests and callers can tell a refused alias from an
// ordinary syntax or field error.
var ErrAlias = errors.New("YAML alias")

func tooLarge(n int64) *Error {
	// When the read stopped at MaxSize+1 the true size is unknown, so the
	// message says "over" rather than print a number that would be wrong.
	what := fmt.Sprintf("%d bytes", n)
	if n > MaxSize {
		what = fmt.Sprintf("over %d bytes", MaxSize)
	}
	// No Line or Field: the whole input is at fault, not a place in it.
	return &Error{Msg: fmt.Sprintf("the config is %s; the limit is %d bytes", what, MaxSize), err: ErrTooLarge}
}

// refuseAliases fails at the first alias (*name) in the tree under n.
//
// Aliases are refused, not expanded under a budget: every value an alias
// stands for is read again wherever it appears, so five lines that alias
// themselves never end, and nine lines of nine aliases each (the "billion
// laughs") stand for 9^9 strings. A config gains nothing from them that
// writing the value out does not give, and refusing them keeps the cost of
// reading a config proportional to its size. The walk follows Content
// only, never Alias, so a self-referring anchor cannot loop it; the
// parser bounds the depth (10,000).
func refuseAliases(n *yaml.Node, field string) error {
	// INVARIANT: no alias node reaches the parser, so every value read is
	// one written out in the text, and reading costs its size.
	if n.Kind == yaml.AliasNode {
		// The alias's own line and field, so the user can find and replace
		// the one place that uses it.
		return &Error{Line: n.Line, Field: field, err: ErrAlias,
			Msg: fmt.Sprintf("YAML aliases are not accepted (*%s): write the value out", n.Value)}
	}
	// Content, never n.Alias: following the alias would revisit the anchor
	// and bring back the cost the refusal exists to avoid.
	for i, c := range n.Content {
		sub := field
		switch n.Kind {
		case yaml.MappingNode:
			if i%2 == 1 { // a value: named by its key
				sub = join(field, n.Content[i-1].Value)
			} // a key: named by the mapping it is in
		// Items are named by index, as the parser names them, so both kinds
		// of error point at a field the same way.
		case yaml.SequenceNode:
			sub = fmt.Sprintf("%s[%d]", field, i)
		}
		if err := refuseAliases(c, sub); err != nil {
			return err
		}
	}
	return nil
}
