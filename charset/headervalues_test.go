package charset

import (
	"slices"
	"testing"
)

// TestHeaderValues: Fetch's "get, decode, and split" over a field's lines
// joined with ", ", a quoted string running over a line break included.
func TestHeaderValues(t *testing.T) {
	for _, tc := range []struct {
		field string
		want  []string
	}{
		{"", []string{""}},
		{"a,b", []string{"a", "b"}},
		{"a, b", []string{"a", "b"}},
		{"a,", []string{"a"}},
		{",a", []string{"", "a"}},
		{"a, ", []string{"a", ""}},
		{` a ;x="1,2" , b`, []string{`a ;x="1,2"`, "b"}},
		{`a;x="1\",2", b`, []string{`a;x="1\",2"`, "b"}},
		{`a;x="1, 2"`, []string{`a;x="1, 2"`}}, // two lines joined inside a quoted string
		{`a;x="1\`, []string{`a;x="1\`}},
	} {
		if got := slices.Collect(HeaderValues(tc.field)); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.field, got, tc.want)
		}
	}
}

// TestExtractMIMEType: the last parsable type wins; a subtype with leading
// whitespace is no token (MIME Sniffing §4.4).
func TestExtractMIMEType(t *testing.T) {
	for _, tc := range []struct{ field, essence, value string }{
		{"text/html, text /plain, text/ plain, /plain, text/, te(xt/plain", "text/html", "text/html"},
		{"text/html, */*", "text/html", "text/html"},
		{"Text/HTML; charset=utf-8", "text/html", "Text/HTML; charset=utf-8"},
		{"text/html; charset=utf-8", "text/html", "text/html; charset=utf-8"},
		{"text/html; charset=UTF-8", "text/html", "text/html; charset=UTF-8"},
		{"text/html; charset=utf-8, text/plain", "text/plain", "text/plain"},
	} {
		if e, v := ExtractMIMEType(tc.field); e != tc.essence || v != tc.value {
			t.Errorf("%q: %q %q, want %q %q", tc.field, e, v, tc.essence, tc.value)
		}
	}
}
