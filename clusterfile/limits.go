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
const MaxSize = 1 << 20

// ReadFile reads the text of the config file at path, as Load does,
// refusing a file over MaxSize: for a client that sends the text on (the
// control API's launch).
func ReadFile(path string) ([]byte, error) { return readBounded(path) }

// Read reads a config's text from r (a pipe, standard input), refusing
// text over MaxSize without reading more than MaxSize+1 bytes of it; name
// is what errors call r.
func Read(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxSize {
		e := tooLarge(int64(len(data)))
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
	if errors.As(err, &ce) {
		ce.File = name
	}
	return cfg, err
}

// readBounded reads the file at path, refusing one over MaxSize without
// reading more than MaxSize+1 bytes of it (a device or a growing file has
// no trustworthy size to check first).
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// ErrTooLarge is wrapped by the error for a config over MaxSize.
var ErrTooLarge = errors.New("config too large")

// ErrAlias is wrapped by the error for a config that uses a YAML alias.
var ErrAlias = errors.New("YAML alias")

func tooLarge(n int64) *Error {
	what := fmt.Sprintf("%d bytes", n)
	if n > MaxSize {
		what = fmt.Sprintf("over %d bytes", MaxSize)
	}
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
	if n.Kind == yaml.AliasNode {
		return &Error{Line: n.Line, Field: field, err: ErrAlias,
			Msg: fmt.Sprintf("YAML aliases are not accepted (*%s): write the value out", n.Value)}
	}
	for i, c := range n.Content {
		sub := field
		switch n.Kind {
		case yaml.MappingNode:
			if i%2 == 1 { // a value: named by its key
				sub = join(field, n.Content[i-1].Value)
			} // a key: named by the mapping it is in
		case yaml.SequenceNode:
			sub = fmt.Sprintf("%s[%d]", field, i)
		}
		if err := refuseAliases(c, sub); err != nil {
			return err
		}
	}
	return nil
}
