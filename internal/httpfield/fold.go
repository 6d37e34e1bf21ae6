package httpfield

// Lower returns c with an ASCII capital letter lowered; every other byte,
// non-ASCII ones included, stays as it is.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// AppendLower appends s with its ASCII letters lowered to dst.
func AppendLower[T ~string | ~[]byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, Lower(s[i]))
	}
	return dst
}

// EqualFold reports whether a and b are equal under ASCII case folding
// only. HTTP's case-insensitive names and tokens fold only ASCII (RFC 9110
// §5.1, §5.6.2), where strings.EqualFold would also match, say, "ſ" (U+017F)
// with "s".
func EqualFold[T ~string | ~[]byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if Lower(a[i]) != Lower(b[i]) {
			return false
		}
	}
	return true
}

// HasPrefixFold reports whether s starts with prefix under ASCII case
// folding.
func HasPrefixFold[T ~string | ~[]byte](s T, prefix string) bool {
	return len(s) >= len(prefix) && EqualFold(s[:len(prefix)], prefix)
}

// HasSuffixFold reports whether s ends with suffix under ASCII case folding.
func HasSuffixFold[T ~string | ~[]byte](s T, suffix string) bool {
	return len(s) >= len(suffix) && EqualFold(s[len(s)-len(suffix):], suffix)
}

// ContainsFold reports whether sub occurs in s under ASCII case folding.
func ContainsFold[T ~string | ~[]byte](s T, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
