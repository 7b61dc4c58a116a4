package marshal

import (
	"strconv"
	"unicode/utf8"
)

// appendJSONString appends s as JavaScript's JSON.stringify writes it, so
// bodies built here match @endo/marshal byte for byte: only '"', '\\' and
// control characters are escaped (Go's encoding/json also escapes <, > and
// &, which JavaScript does not). Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b = append(b, '\\', '"')
			case c == '\\':
				b = append(b, '\\', '\\')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func hexDigit(n byte) byte { return strconv.FormatInt(int64(n), 16)[0] }

// startsSpecial reports whether s needs smallcaps' "!" escape: strings
// beginning with one of !"#$%&'()*+,- are reserved for encodings.
func startsSpecial(s string) bool {
	return s != "" && s[0] >= '!' && s[0] <= '-'
}

// appendSmallcapsString appends s as a smallcaps string value.
func appendSmallcapsString(b []byte, s string) []byte {
	if startsSpecial(s) {
		s = "!" + s
	}
	return appendJSONString(b, s)
}
