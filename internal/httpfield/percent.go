package httpfield

// IsHex reports whether c is an ASCII hex digit.
func IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

// Unhex returns the value of the hex digit c; c must be one (IsHex).
func Unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// AppendPercentDecoded appends the percent-decoding of s to dst (WHATWG URL
// §1.3 "percent-decode"): "%" and two hex digits become that byte, and a "%"
// not followed by two hex digits stays as it is.
func AppendPercentDecoded[T ~string | ~[]byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && IsHex(s[i+1]) && IsHex(s[i+2]) {
			c = Unhex(s[i+1])<<4 | Unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendFormDecoded appends a name or value of an
// application/x-www-form-urlencoded string decoded to dst (WHATWG URL §5.1):
// each "+" becomes a space, then percent-decoding as AppendPercentDecoded,
// so "%2B" is a "+".
func AppendFormDecoded[T ~string | ~[]byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && IsHex(s[i+1]) && IsHex(s[i+2]):
			c = Unhex(s[i+1])<<4 | Unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}
