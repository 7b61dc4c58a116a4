package marshal

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeVerdict is what Validate must say, computed the slow way: Decode
// must accept c, and every slot must have been handed to ValueOf (the
// decoder asks once per slot the body names).
func decodeVerdict(c CapData, message bool) error {
	named := make([]bool, len(c.Slots))
	index := make(map[string]int, len(c.Slots))
	for i, s := range c.Slots {
		index[s] = i
	}
	codec := &Codec{ValueOf: func(r Ref) (any, error) {
		named[index[r.Slot]] = true
		return r, nil
	}}
	v, err := codec.Decode(c)
	if err != nil {
		return err
	}
	for i, n := range named {
		if !n {
			return fmt.Errorf("%w: slot %d is not named", ErrMalformed, i)
		}
	}
	if message {
		parts, ok := v.([]any)
		if !ok || len(parts) != 2 {
			return fmt.Errorf("%w: not [method, args]", ErrMalformed)
		}
		_, isString := parts[0].(string)
		_, isSymbol := parts[0].(Symbol)
		if _, isArray := parts[1].([]any); !isArray || !isString && !isSymbol {
			return fmt.Errorf("%w: not [method, args]", ErrMalformed)
		}
	}
	return nil
}

// agree fails the test if Validate (or ValidateMessage) and the slow
// verdict differ on c.
func agree(t testing.TB, c CapData) {
	t.Helper()
	for _, message := range []bool{false, true} {
		want := decodeVerdict(c, message)
		got := Validate(c)
		if message {
			got = ValidateMessage(c)
		}
		if (got == nil) != (want == nil) {
			t.Fatalf("message=%v body %q slots %q: Validate says %v, Decode says %v", message, c.Body, c.Slots, got, want)
		}
		if got != nil && !errors.Is(got, ErrMalformed) {
			t.Fatalf("body %q: error %v does not wrap ErrMalformed", c.Body, got)
		}
	}
}

// tricky are bodies where a validator that does not follow Decode to the
// letter would go wrong: escapes, surrogates, invalid UTF-8, repeated
// keys, the three kinds of object, slot naming.
var tricky = []struct {
	body  string
	slots []string
}{
	{`#"\u0024\u0030"`, []string{"o+1"}},   // "$0", escaped
	{`#"\u0021\u0023x"`, nil},              // "!#x"
	{`#"\u0021x"`, nil},                    // needless escape, escaped
	{`#"\u0023undefined"`, nil},            // "#undefined"
	{`#"#undefine\u0064"`, nil},            // likewise
	{`#"#undefined "`, nil},                // not a constant
	{`#"+1\u0032"`, nil},                   // bigint +12
	{`#"+1\u00322"`, nil},                  // bigint +122
	{`#"-"`, nil},                          // no digits
	{`#"!"`, nil},                          // a lone "!"
	{`#"!!"`, nil},                         // "!" escaped
	{"#\"\xff$0\"", []string{"o+1"}},       // invalid UTF-8 first: a plain string, slot unnamed
	{"#\"$\xff\"", []string{"o+1"}},        // bad index
	{`#"\ud800"`, nil},                     // lone surrogate: U+FFFD
	{`#"\ud83d\ude00"`, nil},               // a pair
	{`#"\ude00\ud83d"`, nil},               // reversed pair
	{`#{"a\ud800":1,"a\ufffd":2}`, nil},    // the same key once unquoted
	{"#{\"a\xff\":1,\"a\xfe\":2}", nil},    // likewise, from invalid UTF-8
	{`#{"a":1,"\u0061":2}`, nil},           // a repeated key, escaped
	{`#{"a":"$0","a":1}`, []string{"o+1"}}, // a repeated key hiding a slot
	{`#{"a":1,"b":2}`, nil},                //
	{`#{"!#tag":1}`, nil},                  // a record with a key "#tag"
	{`#{"#tag":"!#t","payload":"$0"}`, []string{"o+1"}},
	{`#{"payload":"&0","#tag":"t"}`, []string{"p+1"}},
	{`#{"#tag":"$0","payload":1}`, []string{"o+1"}},
	{`#{"#tag":"%s","payload":1}`, nil}, // a symbol is not a tag
	{`#{"#tag":"t","payload":1,"x":2}`, nil},
	{`#{"#tag":"t"}`, nil},
	{`#{"#error":"m","name":"Error"}`, nil},
	{`#{"name":"TypeError","#error":"!$m"}`, nil},
	{`#{"#error":"m","name":"Error","foo":"$0"}`, []string{"o+1"}}, // an extra: validated, names the slot
	{`#{"#error":"m","name":"Error","foo":"#bad"}`, nil},
	{`#{"#error":"m","name":"Error","#weird":1}`, nil},
	{`#{"#error":"m","name":"Error","message":"m"}`, nil},
	{`#{"#error":"m","name":1}`, nil},
	{`#{"#error":"m","name":"%sym"}`, nil},
	{`#{"#error":"m","name":"Error","cause":{"#error":"c","name":"Error"}}`, nil},
	{`#{"#error":"$0","name":"Error"}`, []string{"o+1"}},
	{`#{"#error":"m","#tag":"t","payload":1}`, nil},
	{`#{"#tag":"t","payload":1,"#error":"m"}`, nil},
	{`#{"#weird":1}`, nil},
	{`#{"$0":1}`, []string{"o+1"}},
	{`#{"%sym":1}`, nil},
	{`#{"":1}`, nil},
	{`#["$0","$0.Alleged: x","$0.other"]`, []string{"o+1"}},
	{`#["$0","&0"]`, []string{"o+1"}},
	{`#["&0","$0."]`, []string{"o+1"}},
	{`#"&0."`, []string{"p+1"}},
	{`#"$0."`, []string{"o+1"}},
	{`#"$."`, []string{"o+1"}},
	{`#"$"`, []string{"o+1"}},
	{`#"$00"`, []string{"o+1"}},
	{`#"$10"`, []string{"o+1"}},
	{`#"$99999999999999999999999"`, []string{"o+1"}},
	{`#"$9223372036854775807"`, []string{"o+1"}},
	{`#"$0"`, []string{""}},
	{`#null`, []string{""}},
	{`#["$0","$1"]`, []string{"o+1", "o+2"}},
	{`#["$1"]`, []string{"o+1", "o+2"}},
	{`#["$0","$0"]`, []string{"o+1", "o+1"}},
	{`#"#NaN"`, nil},
	{`#1e400`, nil},
	{`#1e-400`, nil},
	{`#-0`, nil},
	{`#-`, nil},
	{`#01`, nil},
	{`#1.`, nil},
	{`#1.e5`, nil},
	{`#1e`, nil},
	{`#1E+5`, nil},
	{`#.5`, nil},
	{`#+1`, nil},
	{`# [ 1 , 2 ] `, nil},
	{"#\t\r\n1\n", nil},
	{"#\f1", nil},
	{`#[1,]`, nil},
	{`#[,1]`, nil},
	{`#{"a":1,}`, nil},
	{`#{,}`, nil},
	{`#{"a" 1}`, nil},
	{`#{"a":}`, nil},
	{`#{1:2}`, nil},
	{`#[1 2]`, nil},
	{`#[1]]`, nil},
	{`#1 2`, nil},
	{`#"a""b"`, nil},
	{`#tru`, nil},
	{`#truex`, nil},
	{`#nul`, nil},
	{`#"\x"`, nil},
	{`#"\u12"`, nil},
	{`#"\u12g4"`, nil},
	{"#\"a\x01\"", nil},
	{"#\"a\x7f\"", nil},
	{`#"unterminated`, nil},
	{`#"\`, nil},
	{`#`, nil},
	{`# `, nil},
	{``, nil},
	{`x`, nil},
	{`#["a",[]]`, nil},
	{`#["%@@asyncIterator",[]]`, nil},
	{`#["!%a",[1]]`, nil},
	{`#["#undefined",[]]`, nil},
	{`#["a",{}]`, nil},
	{`#["a"]`, nil},
	{`#["a",[],1]`, nil},
	{`#[1,[]]`, nil},
	{`#{"a":[]}`, nil},
	{`#["$0",[]]`, []string{"o+1"}},
	{`#["m",["$0.Alleged: x","&1"]]`, []string{"o+1", "p+2"}},
}

func TestValidateAgreesWithDecode(t *testing.T) {
	for _, tt := range tricky {
		agree(t, CapData{Body: tt.body, Slots: tt.slots})
	}
	for _, v := range loadVectors(t) {
		c := CapData{Body: v.Body, Slots: v.Slots}
		require.NoError(t, Validate(c), v.Name)
		agree(t, c)
	}
	deep := func(n int, open, close string) string {
		return "#" + strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, n := range []int{DefaultMaxDepth - 1, DefaultMaxDepth, DefaultMaxDepth + 1} {
		agree(t, CapData{Body: deep(n, "[", "]")})
		agree(t, CapData{Body: deep(n, `{"a":`, "}")})
	}
	// Many slots (past the bitmask) and many keys (past the in-place
	// duplicate check).
	var b strings.Builder
	var slots []string
	b.WriteString("#[")
	for i := 0; i < 70; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"$%d"`, i)
		slots = append(slots, fmt.Sprintf("o+%d", i+1))
	}
	b.WriteString("]")
	agree(t, CapData{Body: b.String(), Slots: slots})
	agree(t, CapData{Body: strings.Replace(b.String(), `"$69"`, `"&69"`, 1), Slots: slots})
	agree(t, CapData{Body: strings.Replace(b.String(), `"$69"`, `"$68"`, 1), Slots: slots})
	agree(t, CapData{Body: strings.Replace(b.String(), `"$69"`, `"$68","&68"`, 1), Slots: slots})
	var rec strings.Builder
	rec.WriteString("#{")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&rec, `"k%d":%d,`, i, i)
	}
	agree(t, CapData{Body: rec.String() + `"k39x":1}`})
	agree(t, CapData{Body: rec.String() + `"k3":1}`})
	agree(t, CapData{Body: rec.String() + `"k\u0033":1}`})
}

// The extra rule, and the messages a vat's author will read in the log.
func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		body  string
		slots []string
		want  string
	}{
		{`garbage{{`, nil, "not smallcaps"},
		{`#garbage{{`, nil, "not JSON"},
		{`#"$1"`, []string{"o+1"}, "out of range"},
		{`#null`, []string{"o+1"}, `slot 0 ("o+1") is not named by the body`},
		{`#["$0"]`, []string{"o+1", "o-2"}, `slot 1 ("o-2") is not named`},
		{`#{"a":1,"a":2}`, nil, `key "a" is repeated`},
		{`#["$0","&0"]`, []string{"o+1"}, "both as a promise and as a remotable"},
		{`#"!a"`, nil, "needless escape"},
	}
	for _, tt := range tests {
		err := Validate(CapData{Body: tt.body, Slots: tt.slots})
		require.ErrorIs(t, err, ErrMalformed, tt.body)
		require.ErrorContains(t, err, tt.want, tt.body)
	}
	for _, body := range []string{`#"a"`, `#["a"]`, `#["a",[],[]]`, `#[1,[]]`, `#["a",{}]`, `#["#NaN",[]]`} {
		err := ValidateMessage(CapData{Body: body})
		require.ErrorIs(t, err, ErrMalformed, body)
		require.ErrorContains(t, err, "message", body)
	}
	require.NoError(t, ValidateMessage(CapData{Body: `#["%@@asyncIterator",[]]`}))
}

// Decode refuses what Validate refuses for the same reason: a repeated
// key, and an error's extra property that is not valid.
func TestDecodeRefusesRepeatedKeysAndBadExtras(t *testing.T) {
	for body, want := range map[string]string{
		`#{"a":1,"a":2}`:                          `key "a" is repeated`,
		`#{"a":1,"\u0061":2}`:                     `key "a" is repeated`,
		`#{"#error":"m","name":"E","foo":"#bad"}`: "unknown constant",
	} {
		_, err := Decode(CapData{Body: body})
		require.ErrorIs(t, err, ErrMalformed, body)
		require.ErrorContains(t, err, want, body)
	}
	v, err := Decode(CapData{Body: `#{"#error":"m","name":"TypeError","stack":"at x"}`})
	require.NoError(t, err)
	require.Equal(t, &Error{Name: "TypeError", Message: "m"}, v)
}

// The hot path allocates nothing for the CapData vats send every day.
func TestValidateDoesNotAllocate(t *testing.T) {
	cases := []CapData{
		{Body: `#["deposit",[100,"$0.Alleged: purse","&1"]]`, Slots: []string{"o-1", "p+2"}},
		{Body: `#{"#error":"insufficient funds","name":"RangeError"}`},
		{Body: `#{"amount":{"brand":"$0.Alleged: brand","value":"+10"},"memo":"!#1 \u00e9t\u00e9"}`, Slots: []string{"o-3"}},
		{Body: `#"#undefined"`},
	}
	for _, c := range cases {
		require.NoError(t, Validate(c), c.Body)
		require.Zero(t, testing.AllocsPerRun(100, func() { _ = Validate(c) }), c.Body)
	}
	msg := cases[0]
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = ValidateMessage(msg) }))
}
