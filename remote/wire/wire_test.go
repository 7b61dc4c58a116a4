package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    Ref
		wantErr bool
	}{
		{in: "ro+1", want: Ref{Plus: true, N: 1}},
		{in: "ro-12", want: Ref{N: 12}},
		{in: "rp+7", want: Ref{Promise: true, Plus: true, N: 7}},
		{in: "rp-999999999999999999", want: Ref{Promise: true, N: 999999999999999999}},
		{in: "", wantErr: true},
		{in: "o+1", wantErr: true},
		{in: "ro1", wantErr: true},
		{in: "rq+1", wantErr: true},
		{in: "ro+0", wantErr: true},
		{in: "ro+01", wantErr: true},
		{in: "ro+-1", wantErr: true},
		{in: "ro+1x", wantErr: true},
		{in: "ro+1234567890123456789", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRef(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseRef(%q) = %+v, %v; want ErrMalformed", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
			flipped := got.Flip()
			if flipped.Plus == got.Plus || flipped.Promise != got.Promise || flipped.N != got.N || flipped.Flip() != got {
				t.Fatalf("Flip(%v) = %v", got, flipped)
			}
			if FlipString(FlipString(tt.in)) != tt.in || FlipString(tt.in) == tt.in {
				t.Fatalf("FlipString(%q) = %q", tt.in, FlipString(tt.in))
			}
		})
	}
}

func TestMessageRoundTrip(t *testing.T) {
	msgs := []Message{
		{Kind: KindDeliver, Target: "ro-1", Methargs: &Data{Body: `#["deposit",[5]]`}, Result: "rp+1"},
		{Kind: KindDeliver, Target: "rp-3", Methargs: &Data{Body: `#["x",["$0.Alleged: a"]]`, Slots: []string{"ro+2"}}},
		{Kind: KindNotify, Resolutions: []Resolution{{Promise: "rp-1", Data: Data{Body: "#5"}}, {Promise: "rp+4", Rejected: true, Data: Data{Body: "#\"no\""}}}},
		{Kind: KindDropExports, Refs: []string{"ro-1", "ro-2"}},
		{Kind: KindRetireExports, Refs: []string{"ro-1"}},
		{Kind: KindRetireImports, Refs: []string{"ro+9"}},
		{Kind: KindRedeem, OID: "0123456789abcdef0123456789abcdef", Result: "rp+3"},
		{Kind: KindRedeem, OID: "0123456789abcdef0123456789abcdef", Result: "rp+1", Reply: "127.0.0.1:7420"},
	}
	for _, m := range msgs {
		enc := m.Encode()
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(%s): %v", enc, err)
		}
		if got.Encode() != enc {
			t.Fatalf("round trip changed %s into %s", enc, got.Encode())
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not JSON", `{"kind":`, "malformed"},
		{"unknown field", `{"kind":"deliver","target":"ro-1","methargs":{"body":"#1"},"extra":1}`, "unknown field"},
		{"two messages", `{"kind":"dropExports","refs":["ro-1"]}{}`, "after the message"},
		{"unknown kind", `{"kind":"ping"}`, "unknown kind"},
		{"deliver without target", `{"kind":"deliver","methargs":{"body":"#1"}}`, "target"},
		{"deliver without methargs", `{"kind":"deliver","target":"ro-1"}`, "no methargs"},
		{"deliver with a bad slot", `{"kind":"deliver","target":"ro-1","methargs":{"body":"#1","slots":["ko1"]}}`, "slot 0"},
		{"deliver with an object result", `{"kind":"deliver","target":"ro-1","methargs":{"body":"#1"},"result":"ro+1"}`, "not a promise"},
		{"deliver with refs", `{"kind":"deliver","target":"ro-1","methargs":{"body":"#1"},"refs":["ro-1"]}`, "another kind"},
		{"notify of nothing", `{"kind":"notify"}`, "no resolutions"},
		{"notify of an object", `{"kind":"notify","resolutions":[{"promise":"ro-1","data":{"body":"#1"}}]}`, "not a promise"},
		{"GC of a promise", `{"kind":"dropExports","refs":["rp-1"]}`, "not an object"},
		{"GC of nothing", `{"kind":"retireImports"}`, "no refs"},
		{"redeem of a short oid", `{"kind":"redeem","oid":"abc","result":"rp+1"}`, "object id"},
		{"redeem of an upper-case oid", `{"kind":"redeem","oid":"0123456789ABCDEF0123456789abcdef","result":"rp+1"}`, "object id"},
		{"redeem without a result", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef"}`, "not a promise"},
		{"redeem into an object", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"ro+1"}`, "not a promise"},
		{"redeem with a target", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1","target":"ro-1"}`, "another kind"},
		{"redeem with a reply that is no address", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1","reply":"127.0.0.1"}`, "reply address"},
		{"redeem with a reply port 0", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1","reply":"a.test:0"}`, "reply address"},
		{"redeem with a reply with a path", `{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1","reply":"a.test:1/x"}`, "reply address"},
		{"notify with a reply", `{"kind":"notify","resolutions":[{"promise":"rp-1","data":{"body":"#1"}}],"reply":"a.test:1"}`, "another kind"},
		{"deliver with an oid", `{"kind":"deliver","target":"ro-1","methargs":{"body":"#1"},"oid":"0123456789abcdef0123456789abcdef"}`, "another kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode(%s) = %v; want ErrMalformed saying %q", tt.in, err, tt.want)
			}
		})
	}
}

// FuzzDecode: a peer's bytes never panic the decoder, and whatever it
// accepts encodes to something it accepts again, unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(`{"kind":"deliver","target":"ro-1","methargs":{"body":"#1","slots":["rp+2"]},"result":"rp+1"}`)
	f.Add(`{"kind":"notify","resolutions":[{"promise":"rp-1","rejected":true,"data":{"body":"#1"}}]}`)
	f.Add(`{"kind":"retireExports","refs":["ro-1"]}`)
	f.Add(`{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1"}`)
	f.Add(`{"kind":"redeem","oid":"0123456789abcdef0123456789abcdef","result":"rp+1","reply":"[::1]:7420"}`)
	f.Add(`{"seq":1,"oid":"0123456789abcdef0123456789abcdef","reason":"unknown_oid"}`)
	f.Add(`{"seq":1,"oid":"0123456789abcdef0123456789abcdef","reason":"limit"}`)
	f.Fuzz(func(t *testing.T, s string) {
		// A refusal travels apart from messages (frame field 5), and one
		// decoder never takes what the other does.
		if r, err := DecodeRefusal(s); err == nil {
			again, err := DecodeRefusal(r.Encode())
			if err != nil || again != r {
				t.Fatalf("DecodeRefusal accepted %q as %+v but its own encoding %q as %+v, %v", s, r, r.Encode(), again, err)
			}
			if _, err := Decode(s); err == nil {
				t.Fatalf("%q decodes both as a refusal and as a message", s)
			}
		}
		m, err := Decode(s)
		if err != nil {
			return
		}
		again, err := Decode(m.Encode())
		if err != nil {
			t.Fatalf("Decode accepted %q but not its own encoding %q: %v", s, m.Encode(), err)
		}
		if again.Encode() != m.Encode() {
			t.Fatalf("encoding not stable: %q then %q", m.Encode(), again.Encode())
		}
	})
}

func TestRefusalRoundTrip(t *testing.T) {
	for _, r := range []Refusal{
		{Seq: 1, OID: "0123456789abcdef0123456789abcdef", Reason: RefusedUnknownOID},
		{Seq: 1, OID: "0123456789abcdef0123456789abcdef", Reason: RefusedLimit},
	} {
		got, err := DecodeRefusal(r.Encode())
		if err != nil || got != r {
			t.Fatalf("DecodeRefusal(%s) = %+v, %v", r.Encode(), got, err)
		}
		if _, err := Decode(r.Encode()); err == nil {
			t.Fatalf("Decode took the refusal %s as a message", r.Encode())
		}
	}
}

func TestDecodeRefusalRefuses(t *testing.T) {
	const oid = "0123456789abcdef0123456789abcdef"
	tests := []struct{ name, in, want string }{
		{"not JSON", `{"seq":`, "malformed"},
		{"a message", `{"kind":"redeem","oid":"` + oid + `","result":"rp+1"}`, "unknown field"},
		{"unknown field", `{"seq":1,"oid":"` + oid + `","reason":"limit","x":1}`, "unknown field"},
		{"two refusals", `{"seq":1,"oid":"` + oid + `","reason":"limit"}{}`, "after the refusal"},
		{"seq 0", `{"seq":0,"oid":"` + oid + `","reason":"limit"}`, "message 0"},
		{"no seq", `{"oid":"` + oid + `","reason":"limit"}`, "message 0"},
		{"negative seq", `{"seq":-1,"oid":"` + oid + `","reason":"limit"}`, "malformed"},
		{"short oid", `{"seq":1,"oid":"abc","reason":"limit"}`, "object id"},
		{"no oid", `{"seq":1,"reason":"limit"}`, "object id"},
		{"unknown reason", `{"seq":1,"oid":"` + oid + `","reason":"busy"}`, "unknown reason"},
		{"no reason", `{"seq":1,"oid":"` + oid + `"}`, "unknown reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRefusal(tt.in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeRefusal(%s) = %v; want ErrMalformed saying %q", tt.in, err, tt.want)
			}
		})
	}
}
