package httpfield

import "strings"

// QuotedStringEnd reads the quoted-string (RFC 9110 §5.6.4) that starts with
// the '"' at s[i]: a backslash inside it escapes the next byte (quoted-pair).
// It returns the offset just past the closing quote, or len(s) and false when
// the string is not closed.
func QuotedStringEnd(s string, i int) (end int, ok bool) {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return len(s), false
}

// IndexUnquoted returns the offset of the first sep in s that lies outside
// quoted strings, or -1. A quoted string left open runs to the end of s, so
// it hides every sep after its quote. Outside quotes a backslash is an
// ordinary byte.
func IndexUnquoted(s string, sep byte) int {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], sep)
		q := strings.IndexByte(s[i:], '"')
		switch {
		case j < 0:
			return -1
		case q < 0 || j < q:
			return i + j
		}
		end, ok := QuotedStringEnd(s, i+q)
		if !ok {
			return -1
		}
		i = end
	}
	return -1
}

// SplitQuoted splits s at each sep outside quoted strings (as IndexUnquoted
// finds them). The pieces are not trimmed; s without a sep is one piece.
func SplitQuoted(s string, sep byte) []string {
	var out []string
	for {
		i := IndexUnquoted(s, sep)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}
