package transport

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A frame's bytes are protobuf wire format: a reader with nothing but
// protowire (or protoc and the message in frame.go's comment) reads the
// same fields back.
func TestFrameIsProtobufWireFormat(t *testing.T) {
	for _, f := range []Frame{
		{From: "abc", Seq: 300, Ack: 7, Msg: `{"kind":"notify"}`},
		{From: "abc", Refusal: `{"seq":1}`},
	} {
		checkProtobufWireFormat(t, f)
	}
}

func checkProtobufWireFormat(t *testing.T, f Frame) {
	t.Helper()
	b := encodeFrame(f).GetValue()
	var got Frame
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		switch num {
		case 1:
			s, _ := protowire.ConsumeString(b)
			got.From = s
		case 2:
			got.Seq, _ = protowire.ConsumeVarint(b)
		case 3:
			got.Ack, _ = protowire.ConsumeVarint(b)
		case 4:
			s, _ := protowire.ConsumeString(b)
			got.Msg = s
		case 5:
			s, _ := protowire.ConsumeString(b)
			got.Refusal = s
		}
		b = b[n:]
	}
	if got != f {
		t.Fatalf("read back %+v, want %+v", got, f)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, f := range []Frame{
		{},
		{From: "p"},
		{Ack: 1},
		{From: strings.Repeat("a", 64), Ack: 1 << 40},
		{From: strings.Repeat("a", 64), Seq: 1, Msg: `{"kind":"deliver"}`},
		{Seq: ^uint64(0), Ack: ^uint64(0), Msg: "é"},
		{From: strings.Repeat("a", 64), Refusal: `{"seq":1}`},
		{Refusal: "r"},
	} {
		got, err := decodeFrame(encodeFrame(f))
		if err != nil || got != f {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", f, got, err)
		}
	}
}

// Every spelling but the canonical one, and every frame that is not one
// of the two shapes, is refused, saying why.
func TestDecodeFrameRefuses(t *testing.T) {
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	str := func(s string) []byte { return protowire.AppendString(nil, s) }
	vint := func(x uint64) []byte { return protowire.AppendVarint(nil, x) }
	seq1 := cat(tag(fieldSeq, protowire.VarintType), vint(1))
	msg := cat(tag(fieldMsg, protowire.BytesType), str("m"))
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"JSON, the old frame", []byte(`{"from":"p","ack":1}`), "unknown field"},
		{"truncated tag", []byte{0x80}, "field tag"},
		{"field 0", []byte{0x00}, "field tag"},
		{"unknown field", cat(tag(6, protowire.BytesType), str("x")), "unknown field 6"},
		{"refusal as varint", cat(tag(fieldRefusal, protowire.VarintType), vint(1)), "want bytes"},
		{"empty refusal", cat(tag(fieldRefusal, protowire.BytesType), str("")), "empty"},
		{"a refusal with a message", cat(seq1, msg, tag(fieldRefusal, protowire.BytesType), str("r")), "a refusal with a message or an ack"},
		{"a refusal with an ack", cat(tag(fieldAck, protowire.VarintType), vint(1), tag(fieldRefusal, protowire.BytesType), str("r")), "a refusal with a message or an ack"},
		{"a refusal before from", cat(tag(fieldRefusal, protowire.BytesType), str("r"), tag(fieldFrom, protowire.BytesType), str("p")), "out of order"},
		{"repeated field", cat(seq1, seq1, msg), "out of order or repeated"},
		{"fields out of order", cat(msg, seq1), "out of order"},
		{"seq as bytes", cat(tag(fieldSeq, protowire.BytesType), str("1")), "want varint"},
		{"from as varint", cat(tag(fieldFrom, protowire.VarintType), vint(1)), "want bytes"},
		{"long varint", cat(tag(fieldAck, protowire.VarintType), []byte{0x81, 0x00}), "shortest form"},
		{"long tag", cat([]byte{0x98, 0x00}, vint(1)), "shortest form"},
		{"zero ack", cat(tag(fieldAck, protowire.VarintType), vint(0)), "is 0"},
		{"empty from", cat(tag(fieldFrom, protowire.BytesType), str("")), "empty"},
		{"truncated bytes", cat(tag(fieldMsg, protowire.BytesType), []byte{5, 'a'}), "field 4"},
		{"truncated varint", cat(tag(fieldSeq, protowire.VarintType), []byte{0x80}), "field 2"},
		{"not UTF-8", cat(seq1, tag(fieldMsg, protowire.BytesType), str("\xff")), "UTF-8"},
		{"a long from", cat(tag(fieldFrom, protowire.BytesType), str(strings.Repeat("a", maxFrameFrom+1))), "longer than any peer id"},
		{"a message without a seq", msg, "without a sequence number"},
		{"a seq without a message", seq1, "without a message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := decodeFrame(wrapperspb.Bytes(tt.in))
			if !errors.Is(err, errFrame) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decodeFrame(%x) = %+v, %v; want errFrame saying %q", tt.in, f, err, tt.want)
			}
		})
	}
}

// FuzzDecodeFrame: a peer's bytes never panic the decoder, and what it
// accepts is the canonical encoding of what it read (one spelling a
// frame: encoding it again gives the same bytes).
func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodeFrame(Frame{From: "p", Seq: 1, Ack: 2, Msg: `{"kind":"notify"}`}).GetValue())
	f.Add(encodeFrame(Frame{Ack: 300}).GetValue())
	f.Add(encodeFrame(Frame{From: "p", Refusal: `{"seq":1,"oid":"0123456789abcdef0123456789abcdef","reason":"unknown_oid"}`}).GetValue())
	f.Add([]byte(`{"from":"p"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(wrapperspb.Bytes(b))
		if err != nil {
			if !errors.Is(err, errFrame) {
				t.Fatalf("refused without errFrame: %v", err)
			}
			return
		}
		if again := encodeFrame(fr).GetValue(); !bytes.Equal(again, b) {
			t.Fatalf("accepted %x as %+v, which encodes as %x", b, fr, again)
		}
	})
}
