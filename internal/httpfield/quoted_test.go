package httpfield

import (
	"slices"
	"testing"
)

func TestSplitQuoted(t *testing.T) {
	for _, c := range []struct {
		s    string
		sep  byte
		want []string
	}{
		{"", ',', []string{""}},
		{"a", ',', []string{"a"}},
		{"a,b", ',', []string{"a", "b"}},
		{"a,", ',', []string{"a", ""}},
		{",a", ',', []string{"", "a"}},
		{"a, b ,c", ',', []string{"a", " b ", "c"}},
		{`a="1,2",b`, ',', []string{`a="1,2"`, "b"}},
		{`a="1\",2",b`, ',', []string{`a="1\",2"`, "b"}},
		{`a="1\\",b`, ',', []string{`a="1\\"`, "b"}},
		{`a\,b`, ',', []string{`a\`, "b"}},  // a backslash outside quotes is a byte
		{`a\",b`, ',', []string{`a\",b`}},   // so this quote opens a string
		{`a="1,2`, ',', []string{`a="1,2`}}, // an open quote runs to the end
		{`a="1\`, ',', []string{`a="1\`}},
		{`for=x;proto="a;b";host=y`, ';', []string{"for=x", `proto="a;b"`, "host=y"}},
		{`""x,""`, ',', []string{`""x`, `""`}},
	} {
		if got := SplitQuoted(c.s, c.sep); !slices.Equal(got, c.want) {
			t.Errorf("SplitQuoted(%q, %q) = %q, want %q", c.s, c.sep, got, c.want)
		}
	}
}

func TestQuotedStringEnd(t *testing.T) {
	for _, c := range []struct {
		s   string
		i   int
		end int
		ok  bool
	}{
		{`"a"b`, 0, 3, true},
		{`x"a\"b"`, 1, 7, true},
		{`"a`, 0, 2, false},
		{`"a\`, 0, 3, false},
		{`"a\"`, 0, 4, false},
		{`""`, 0, 2, true},
	} {
		if end, ok := QuotedStringEnd(c.s, c.i); end != c.end || ok != c.ok {
			t.Errorf("QuotedStringEnd(%q, %d) = %d, %v; want %d, %v", c.s, c.i, end, ok, c.end, c.ok)
		}
	}
}

// splitReference is the plain state machine SplitQuoted must agree with:
// one pass, a flag for "inside a quoted string".
func splitReference(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func FuzzSplitQuoted(f *testing.F) {
	for _, s := range []string{"", "a,b", `a="1,2",b`, `a="1\",2",b`, `a\",b`, `"`, `"\`, `,,"",`} {
		f.Add(s, byte(','))
	}
	f.Add(`for=x;proto="a;b"`, byte(';'))
	f.Fuzz(func(t *testing.T, s string, sep byte) {
		if sep == '"' || sep == '\\' {
			return // a separator that is also quoting syntax means nothing
		}
		got, want := SplitQuoted(s, sep), splitReference(s, sep)
		if !slices.Equal(got, want) {
			t.Fatalf("SplitQuoted(%q, %q) = %q, reference %q", s, sep, got, want)
		}
		if i := IndexUnquoted(s, sep); (i < 0) != (len(want) == 1) || i >= 0 && i != len(want[0]) {
			t.Fatalf("IndexUnquoted(%q, %q) = %d, reference pieces %q", s, sep, i, want)
		}
	})
}
