package httpfield

// IsTokenChar reports whether c is a tchar (RFC 9110 §5.6.2): a visible
// ASCII character other than the delimiters "(),/:;<=>?@[\]{}.
func IsTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '"', '(', ')', ',', '/', ':', ';', '<', '=', '>', '?', '@', '[', '\\', ']', '{', '}':
		return false
	}
	return true
}

// IsToken reports whether s is a token (RFC 9110 §5.6.2): one or more
// tchar.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}
