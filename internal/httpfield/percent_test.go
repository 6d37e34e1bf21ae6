package httpfield

import "testing"

func TestHex(t *testing.T) {
	for c := 0; c < 256; c++ {
		want, val := false, byte(0)
		switch {
		case '0' <= c && c <= '9':
			want, val = true, byte(c-'0')
		case 'a' <= c && c <= 'f':
			want, val = true, byte(c-'a'+10)
		case 'A' <= c && c <= 'F':
			want, val = true, byte(c-'A'+10)
		}
		if IsHex(byte(c)) != want {
			t.Errorf("IsHex(%#x) = %v", c, !want)
		}
		if want && Unhex(byte(c)) != val {
			t.Errorf("Unhex(%#x) = %d, want %d", c, Unhex(byte(c)), val)
		}
	}
}

func TestPercentDecode(t *testing.T) {
	for _, c := range []struct{ in, pct, form string }{
		{"", "", ""},
		{"a%20b", "a b", "a b"},
		{"a+b", "a+b", "a b"},
		{"%2B", "+", "+"},
		{"%2b%7E", "+~", "+~"},
		{"%", "%", "%"},
		{"%4", "%4", "%4"},
		{"%41", "A", "A"},
		{"%zz%4g", "%zz%4g", "%zz%4g"},
		{"%%41", "%A", "%A"},
		{"%e9", "\xe9", "\xe9"},
	} {
		if got := string(AppendPercentDecoded(nil, c.in)); got != c.pct {
			t.Errorf("AppendPercentDecoded(%q) = %q, want %q", c.in, got, c.pct)
		}
		if got := string(AppendPercentDecoded([]byte("x"), []byte(c.in))); got != "x"+c.pct {
			t.Errorf("AppendPercentDecoded(x, %q) = %q", c.in, got)
		}
		if got := string(AppendFormDecoded(nil, c.in)); got != c.form {
			t.Errorf("AppendFormDecoded(%q) = %q, want %q", c.in, got, c.form)
		}
	}
}
