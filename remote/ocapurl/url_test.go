package ocapurl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var (
	oid  = strings.Repeat("0123456789abcdef", 2)
	peer = strings.Repeat("ab", 32)
)

// Format and Parse are inverses on every well-formed URL, IPv4, DNS and
// IPv6 hosts alike.
func TestFormatParseRoundTrip(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:4001", "bank.example:443", "[::1]:1", "[2001:db8::7]:65535", "Host-9.Example:80"} {
		s, err := Format(oid, peer, addr)
		if err != nil {
			t.Fatalf("Format(%q): %v", addr, err)
		}
		if want := "ocap:" + oid + "@" + peer + "/" + addr; s != want {
			t.Fatalf("Format = %q, want %q", s, want)
		}
		u, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if u != (URL{OID: oid, PeerID: peer, Address: addr}) || u.String() != s {
			t.Fatalf("Parse(%q) = %+v", s, u)
		}
	}
}

// Every malformed URL is refused with ErrMalformed, and the error says
// which part is wrong; none quotes the object id.
func TestParseRefuses(t *testing.T) {
	good := func(o, p, a string) string { return "ocap:" + o + "@" + p + "/" + a }
	tests := []struct{ name, in, want string }{
		{"empty", "", "does not begin"},
		{"another scheme", "http://x", "does not begin"},
		{"upper-case scheme", "OCAP:" + oid + "@" + peer + "/h:1", "does not begin"},
		{"no @", "ocap:" + oid, "no '@'"},
		{"no /", "ocap:" + oid + "@" + peer, "no '/'"},
		{"short oid", good(oid[:31], peer, "h:1"), "object id: want 32"},
		{"long oid", good(oid+"0", peer, "h:1"), "object id: want 32"},
		{"upper-case oid", good(strings.ToUpper(oid), peer, "h:1"), "object id: character 10"},
		{"non-hex oid", good("g"+oid[1:], peer, "h:1"), "object id: character 0"},
		{"short peer", good(oid, peer[:63], "h:1"), "peer id"},
		{"upper-case peer", good(oid, strings.ToUpper(peer), "h:1"), "peer id"},
		{"no port", good(oid, peer, "host"), "want host:port"},
		{"empty port", good(oid, peer, "host:"), "port"},
		{"port 0", good(oid, peer, "host:0"), "port"},
		{"leading zero port", good(oid, peer, "host:080"), "port"},
		{"port too big", good(oid, peer, "host:65536"), "above 65535"},
		{"port not decimal", good(oid, peer, "host:8o"), "not a decimal"},
		{"no host", good(oid, peer, ":80"), "no host"},
		{"a path", good(oid, peer, "host:80/x"), "port"},
		{"a user", good(oid, peer, "u@host:80"), "character 1"},
		{"a space", good(oid, peer, "ho st:80"), "character 2"},
		{"bare IPv6", good(oid, peer, "::1:80"), "character 0"},
		{"IPv6 not canonical", good(oid, peer, "[0::1]:80"), "canonical"},
		{"IPv6 with a zone", good(oid, peer, "[fe80::1%eth0]:80"), "canonical"},
		{"IPv4 in brackets", good(oid, peer, "[127.0.0.1]:80"), "canonical"},
		{"unclosed bracket", good(oid, peer, "[::1:80"), "without ']'"},
		{"too long", good(oid, peer, strings.Repeat("a", 300)+":1"), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %+v, %v; want ErrMalformed", tt.in, u, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q): %q does not say %q", tt.in, err, tt.want)
			}
			if strings.Contains(err.Error(), oid) {
				t.Fatalf("Parse(%q): the error quotes the object id: %q", tt.in, err)
			}
			if _, ferr := Format(u.OID, u.PeerID, u.Address); ferr == nil && u != (URL{}) {
				t.Fatalf("a refused URL returned parts that format")
			}
		})
	}
}

// OID is a function of the secret and the counter: the same pair gives
// the same id (a replayed crank issues the same URL), another counter or
// another secret a different one, and every id is a well-formed oid.
func TestOID(t *testing.T) {
	s1 := bytes.Repeat([]byte{1}, SecretLen)
	s2 := bytes.Repeat([]byte{2}, SecretLen)
	seen := map[string]bool{}
	for n := uint64(1); n <= 1000; n++ {
		id := OID(s1, n)
		if err := CheckOID(id); err != nil {
			t.Fatalf("OID(s1, %d) = %q: %v", n, id, err)
		}
		if seen[id] {
			t.Fatalf("OID(s1, %d) = %q repeats", n, id)
		}
		seen[id] = true
		if OID(s1, n) != id {
			t.Fatalf("OID is not deterministic")
		}
		if OID(s2, n) == id {
			t.Fatalf("OID(s2, %d) equals OID(s1, %d)", n, n)
		}
	}
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretLen || bytes.Equal(a, b) {
		t.Fatalf("NewSecret gave %x and %x", a, b)
	}
}

// FuzzParse: Parse never panics, refuses only with ErrMalformed, and what
// it accepts is exactly what Format writes from the parts (one spelling
// per URL).
func FuzzParse(f *testing.F) {
	f.Add("ocap:" + oid + "@" + peer + "/127.0.0.1:4001")
	f.Add("ocap:" + oid + "@" + peer + "/[::1]:1")
	f.Add("ocap:" + oid + "@" + peer + "/h:0")
	f.Add("ocap:@/")
	f.Add("ocap:" + oid + "@" + peer + "/[0::1]:9")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q): %v does not wrap ErrMalformed", s, err)
			}
			return
		}
		back, err := Format(u.OID, u.PeerID, u.Address)
		if err != nil || back != s {
			t.Fatalf("Parse(%q) = %+v, which formats as %q, %v", s, u, back, err)
		}
	})
}
