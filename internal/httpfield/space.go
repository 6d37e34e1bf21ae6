package httpfield

// TrimWSP trims SP and HTAB (RFC 6265 §5.2's WSP) from both ends.
func TrimWSP(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
