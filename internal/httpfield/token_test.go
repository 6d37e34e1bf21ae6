package httpfield

import "testing"

func TestIsToken(t *testing.T) {
	// RFC 9110 §5.6.2: tchar is "!#$%&'*+-.^_`|~", DIGIT and ALPHA.
	const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for c := 0; c < 256; c++ {
		want := false
		for i := 0; i < len(tchar); i++ {
			want = want || tchar[i] == byte(c)
		}
		if got := IsTokenChar(byte(c)); got != want {
			t.Errorf("IsTokenChar(%#x) = %v, want %v", c, got, want)
		}
	}
	for s, want := range map[string]bool{
		"": false, "gzip": true, "x-custom.1": true, "no store": false, "a/b": false, "é": false, "a\x7f": false,
	} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
