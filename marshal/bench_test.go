package marshal

import (
	"fmt"
	"strings"
	"testing"
)

// benchBodies are what vats hand the kernel: a typical message, a record
// with nested values and escapes, an error, and a large array of refs and
// strings (a bulk transfer).
func benchBodies(b *testing.B) map[string]CapData {
	var big strings.Builder
	var slots []string
	big.WriteString(`#["bulk",[[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		if i%10 == 0 {
			fmt.Fprintf(&big, `"$%d.Alleged: item"`, len(slots))
			slots = append(slots, fmt.Sprintf("o+%d", i+1))
		} else {
			fmt.Fprintf(&big, `{"n":%d,"s":"item number %d","tag":"!#%d"}`, i, i, i)
		}
	}
	big.WriteString(`]]]`)
	cases := map[string]CapData{
		"message": {Body: `#["deposit",[100,"$0.Alleged: purse","&1"]]`, Slots: []string{"o-1", "p+2"}},
		"record":  {Body: `#{"amount":{"brand":"$0.Alleged: brand","value":"+10"},"memo":"!#1 \u00e9t\u00e9","when":1.5e9,"ok":true,"none":null}`, Slots: []string{"o-3"}},
		"error":   {Body: `#{"#error":"insufficient funds","name":"RangeError"}`},
		"bulk":    {Body: big.String(), Slots: slots},
	}
	for name, c := range cases {
		if err := Validate(c); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
	return cases
}

// BenchmarkValidate measures Validate against Decode on the same bodies,
// in the same run (see BENCHMARKS.md): Validate is on every syscall that
// carries CapData, Decode is what a receiving vat pays.
func BenchmarkValidate(b *testing.B) {
	cases := benchBodies(b)
	for _, name := range []string{"message", "record", "error", "bulk"} {
		c := cases[name]
		b.Run(name+"/Validate", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.Body)))
			for b.Loop() {
				if err := Validate(c); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.Body)))
			for b.Loop() {
				if _, err := Decode(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
