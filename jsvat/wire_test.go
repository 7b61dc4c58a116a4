package jsvat

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The decoder of worker frames, on its own (no Node needed): what the
// protocol allows decodes to the kernel's values; everything else is
// ErrProtocol, naming what is wrong.

func TestDecodeSyscalls(t *testing.T) {
	tests := []struct {
		frame string
		want  vatproto.Syscall
	}{
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[\"m\",[]]","slots":[]},"result":"p+5"}]}`,
			vatproto.Syscall{Kind: vatproto.SyscallSend, Target: "o-1", Message: vatproto.VatMessage{Methargs: marshal.CapData{Body: `#["m",[]]`}, Result: "p+5"}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[\"m\",[\"$0\"]]","slots":["o+3"]},"result":null}]}`,
			vatproto.Syscall{Kind: vatproto.SyscallSend, Target: "o-1", Message: vatproto.VatMessage{Methargs: marshal.CapData{Body: `#["m",["$0"]]`, Slots: []string{"o+3"}}}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]","slots":[]}}]}`,
			vatproto.Syscall{Kind: vatproto.SyscallSend, Target: "o-1", Message: vatproto.VatMessage{Methargs: marshal.CapData{Body: `#[]`}}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["subscribe","p-2"]}`, vatproto.Syscall{Kind: vatproto.SyscallSubscribe, VPID: "p-2"}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["resolve",[["p-1",true,{"body":"#1","slots":[]}]]]}`,
			vatproto.Syscall{Kind: vatproto.SyscallResolve, Resolutions: []vatproto.VatResolution{{VPID: "p-1", Rejected: true, Data: marshal.CapData{Body: "#1"}}}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["exit",false,{"body":"#null","slots":[]}]}`,
			vatproto.Syscall{Kind: vatproto.SyscallExit, Info: marshal.CapData{Body: "#null"}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["dropImports",["o-1","o-2"]]}`, vatproto.Syscall{Kind: vatproto.SyscallDropImports, VRefs: []vatproto.VRef{"o-1", "o-2"}}},
		{`{"jsonrpc":"2.0","method":"syscall","params":["abandonExports",[]]}`, vatproto.Syscall{Kind: vatproto.SyscallAbandonExports, VRefs: []vatproto.VRef{}}},
	}
	for _, tt := range tests {
		in := decodeInbound([]byte(tt.frame))
		require.NoError(t, in.err, tt.frame)
		require.NotNil(t, in.syscall, tt.frame)
		require.Equal(t, tt.want, *in.syscall, tt.frame)
	}
}

func TestDecodeRefusesMalformedFrames(t *testing.T) {
	tests := []struct{ frame, want string }{
		{`[1,2]`, "not a JSON-RPC message object"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["subscribe","p-1"]} x`, "not a JSON-RPC message"},
		{`{"jsonrpc":"1.0","method":"syscall","params":["subscribe","p-1"]}`, `without "jsonrpc": "2.0"`},
		{`{"jsonrpc":"2.0","method":"syscall","params":["subscribe","p-1"],"extra":1}`, `unknown field "extra"`},
		{`{"jsonrpc":"2.0","id":"1","method":"syscall","params":["subscribe","p-1"]}`, "the kernel takes only notifications and responses"},
		{`{"jsonrpc":"2.0","method":7}`, "method is not a string"},
		{`{"jsonrpc":"2.0","method":"exec","params":[]}`, `unknown method "exec"`},
		{`{"jsonrpc":"2.0","method":"syscall","params":[]}`, "want [kind, ...]"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["callNow","d-1","m",{"body":"#[]","slots":[]}]}`, `unknown syscall "callNow"`},
		{`{"jsonrpc":"2.0","method":"syscall","params":["vatstoreGet","k"]}`, "does not cross the wire"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["subscribe","p-1","p-2"]}`, "want 2 elements, got 3"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["subscribe",null]}`, "vpid: want a string"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]"}}]}`, "methargs.slots: want a list of strings"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]","slots":[null]}}]}`, "methargs.slots: item 0"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]","slots":[],"x":1}}]}`, `methargs: unknown field "x"`},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]","slots":[]},"result":""}]}`, `"" is not a vpid`},
		{`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"result":"p+1"}]}`, "methargs: want an object"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["resolve",[["p-1","yes",{"body":"#1","slots":[]}]]]}`, "rejected: want a boolean"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["exit",0,{"body":"#1","slots":[]}]}`, "isFailure: want a boolean"},
		{`{"jsonrpc":"2.0","method":"syscall","params":["dropImports","o-1"]}`, "vrefs: want a list of strings"},
		{`{"jsonrpc":"2.0","method":"notify","params":["logger","not json"]}`, "entry: not JSON"},
		{`{"jsonrpc":"2.0","method":"notify","params":["logger","{\"level\":\"shout\",\"message\":\"x\"}"]}`, `unknown level "shout"`},
		{`{"jsonrpc":"2.0","method":"notify","params":["other","{}"]}`, `want ["logger", entry]`},
		{`{"jsonrpc":"2.0","id":1,"result":null}`, "id is not a string"},
		{`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"cannot read"}}`, `an error for no request: "cannot read"`},
		{`{"jsonrpc":"2.0","id":"1"}`, "not exactly one of result and error"},
		{`{"jsonrpc":"2.0","id":"1","result":1,"error":{"code":1,"message":"x"}}`, "not exactly one of result and error"},
		{`{"jsonrpc":"2.0","id":"1","error":{"code":"x","message":"m"}}`, "code: want a whole number"},
		{`{"jsonrpc":"2.0","id":"1","result":1,"params":[]}`, "a response with params"},
		{"{\"jsonrpc\":\"2.0\",\"method\":\"syscall\",\"params\":[\"subscribe\",\"p-\xff\"]}", "not valid UTF-8"},
	}
	for _, tt := range tests {
		in := decodeInbound([]byte(tt.frame))
		require.ErrorIs(t, in.err, ErrProtocol, tt.frame)
		require.ErrorContains(t, in.err, tt.want, tt.frame)
		require.Nil(t, in.syscall)
		require.Nil(t, in.resp)
	}
}

func TestDecodeResponsesAndLogs(t *testing.T) {
	in := decodeInbound([]byte(`{"jsonrpc":"2.0","id":"7","result":[[[["k","v"]],["d"]],null]}`))
	require.NoError(t, in.err)
	require.Equal(t, "7", in.resp.id)
	res, err := decodeResult(in.resp.result)
	require.NoError(t, err)
	require.Equal(t, [][2]string{{"k", "v"}}, res.sets)
	require.Equal(t, []string{"d"}, res.deletes)
	require.Nil(t, res.err)

	in = decodeInbound([]byte(`{"jsonrpc":"2.0","id":"8","error":{"code":-32603,"message":"Vat \"v1\" requested unknown global \"x\""}}`))
	require.NoError(t, in.err)
	require.Equal(t, `Vat "v1" requested unknown global "x"`, in.resp.err.Message)

	in = decodeInbound([]byte(`{"jsonrpc":"2.0","method":"notify","params":["logger","{\"level\":\"warn\",\"tags\":[\"console\"],\"message\":\"hi\"}"]}`))
	require.NoError(t, in.err)
	require.Equal(t, &logEntry{Level: "warn", Tags: []string{"console"}, Message: "hi"}, in.log)

	for raw, want := range map[string]string{
		`[[[],[]],"boom"]`:           "",
		`[[[["k"]],[]],null]`:        "entry 0",
		`[[[],[]],7]`:                "delivery error: want a string",
		`[[[["k","v"]],["k"]],null]`: `names key "k" twice`,
		`[[[],[]]]`:                  "want 2 elements",
		`[[[],null],null]`:           "checkpoint deletes",
	} {
		in := decodeInbound([]byte(`{"jsonrpc":"2.0","id":"1","result":` + raw + `}`))
		require.NoError(t, in.err)
		res, err := decodeResult(in.resp.result)
		if want == "" {
			require.NoError(t, err)
			require.Equal(t, "boom", *res.err)
			continue
		}
		require.ErrorIs(t, err, ErrProtocol, raw)
		require.ErrorContains(t, err, want, raw)
	}
}

// The frame reader splits on newlines whatever the reads' sizes, and
// refuses a frame over the limit as soon as the limit is passed, without
// waiting for its end.
func TestFrameReader(t *testing.T) {
	input := "a\nbb\n\nccc\n"
	for _, r := range []io.Reader{strings.NewReader(input), iotest.OneByteReader(strings.NewReader(input))} {
		fr := newFrameReader(r, 8)
		var got []string
		for {
			line, err := fr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			got = append(got, string(line))
		}
		require.Equal(t, []string{"a", "bb", "", "ccc"}, got)
	}

	// A reader that never ends its long frame: the limit is hit anyway.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(bytes.Repeat([]byte("x"), 100)) }()
	_, err := newFrameReader(pr, 32).next()
	require.ErrorIs(t, err, ErrProtocol)
	require.ErrorContains(t, err, "more than 32 bytes")
	_ = pr.Close()

	_, err = newFrameReader(strings.NewReader("no newline"), 64).next()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	// Frames longer than the first buffer grow it, up to the limit.
	long := strings.Repeat("y", 3*frameBuffer)
	line, err := newFrameReader(strings.NewReader(long+"\n"), 4*frameBuffer).next()
	require.NoError(t, err)
	require.Equal(t, long, string(line))
}

func TestCheckGlobalsAndSpecURL(t *testing.T) {
	require.NoError(t, CheckGlobals([]string{"Date", "Math", "URL"}))
	require.ErrorContains(t, CheckGlobals([]string{"Date", "process"}), `globals[1]: unknown global "process"`)
	require.ErrorContains(t, CheckGlobals([]string{"fetch"}), "the network is not available")
	require.ErrorContains(t, CheckGlobals([]string{"Date", "Date"}), "listed twice")

	u, err := SpecURL("/srv/vats/a.js")
	require.NoError(t, err)
	require.Equal(t, "file:///srv/vats/a.js", u)
	u, err = SpecURL("file:///srv/vats/a%20b.bundle")
	require.NoError(t, err)
	require.Equal(t, "file:///srv/vats/a%20b.bundle", u)
	for _, bad := range []string{"", "http://example.com/a.js", "file://host/a.js", "file:a.js"} {
		_, err := SpecURL(bad)
		require.Error(t, err, bad)
	}
}

// FuzzDecodeInbound: no frame makes the decoder panic, and whatever it
// accepts as a syscall has a kind the kernel knows.
func FuzzDecodeInbound(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[]","slots":[]},"result":"p+5"}]}`,
		`{"jsonrpc":"2.0","method":"syscall","params":["resolve",[["p-1",true,{"body":"#1","slots":["o+1"]}]]]}`,
		`{"jsonrpc":"2.0","id":"7","result":[[[["k","v"]],["d"]],null]}`,
		`{"jsonrpc":"2.0","method":"notify","params":["logger","{\"level\":\"log\",\"tags\":[],\"message\":\"m\"}"]}`,
		`{"jsonrpc":"2.0","id":"8","error":{"code":1,"message":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		in := decodeInbound(frame)
		n := 0
		for _, set := range []bool{in.err != nil, in.syscall != nil, in.resp != nil, in.log != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("decodeInbound(%q) set %d of err, syscall, resp, log", frame, n)
		}
		if in.syscall != nil && (in.syscall.Kind < vatproto.SyscallSend || in.syscall.Kind > vatproto.SyscallAbandonExports) {
			t.Fatalf("decodeInbound(%q) gave syscall kind %v", frame, in.syscall.Kind)
		}
		if in.resp != nil {
			_, _ = decodeResult(in.resp.result)
		}
	})
}

// BenchmarkDecodeInbound: the frames of a ping-pong crank, as a worker
// writes them (a send with its result, a subscribe, a resolve, and the
// delivery's result with a checkpoint).
func BenchmarkDecodeInbound(b *testing.B) {
	frames := [][]byte{
		[]byte(`{"jsonrpc":"2.0","method":"syscall","params":["send","o-1",{"methargs":{"body":"#[\"ping\",[41]]","slots":[]},"result":"p+12"}]}`),
		[]byte(`{"jsonrpc":"2.0","method":"syscall","params":["subscribe","p+12"]}`),
		[]byte(`{"jsonrpc":"2.0","method":"syscall","params":["resolve",[["p-7",false,{"body":"#42","slots":[]}]]]}`),
		[]byte(`{"jsonrpc":"2.0","id":"17","result":[[[["vom.rc.o+d10/1","2"]],[]],null]}`),
	}
	b.ReportAllocs()
	for range b.N {
		for _, f := range frames {
			if in := decodeInbound(f); in.err != nil {
				b.Fatal(in.err)
			}
		}
	}
}
