package httpfield

import "testing"

func TestFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"NoSniff", "nosniff", true},
		{"nosniff", "NOSNIFF", true},
		{"noſniff", "nosniff", false}, // only ASCII folds (strings.EqualFold says true)
		{"KELVIN", "\u212aelvin", false},
		{"a", "ab", false},
		{"@", "`", false}, // 0x40 and 0x60 are no letters
		{"[", "{", false},
		{"\xc9", "\xe9", false},
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
		if got := EqualFold([]byte(c.a), c.b); got != c.want {
			t.Errorf("EqualFold([]byte(%q), %q) = %v", c.a, c.b, got)
		}
	}
	if !HasPrefixFold("Text/HTML", "text/") || HasPrefixFold("tex", "text/") {
		t.Error("HasPrefixFold")
	}
	if !HasSuffixFold([]byte("a.JS"), ".js") || HasSuffixFold("js", ".js") {
		t.Error("HasSuffixFold")
	}
	if got := string(AppendLower([]byte("x"), "AbC-\xc9Z")); got != "xabc-\xc9z" {
		t.Errorf("AppendLower = %q", got)
	}
}
