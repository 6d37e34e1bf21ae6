package htmlfilter

import (
	"bytes"
	"strings"
	"testing"
)

const prelude = `<script>P</script>`

func withPrelude(src string, n int, all bool) string {
	var out bytes.Buffer
	f := New(&out, &toy{all: all}, Options{HeadPrelude: []byte(prelude)})
	b := []byte(src)
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 {
		m := min(n, len(b))
		f.Write(b[:m])
		b = b[m:]
	}
	f.Close()
	return out.String()
}

func TestHeadPrelude(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`<!DOCTYPE html><html><head><title>x</title><script src="https://tracker/t.js"></script></head>`,
			`<!DOCTYPE html><html><head>` + prelude + `<title>x</title></head>`},
		{`<!DOCTYPE html><HTML lang=en><HEAD profile="x"><meta charset=utf-8>`, `<!DOCTYPE html><HTML lang=en><HEAD profile="x">` + prelude + `<meta charset=utf-8>`},
		{`<!DOCTYPE html><title>x</title>`, `<!DOCTYPE html>` + prelude + `<title>x</title>`},
		{`<html><body><p>x`, `<html>` + prelude + `<body><p>x`},
		{"<!-- <head> --><head>", "<!-- <head> --><head>" + prelude},
		{"hello <p>x</p>", "hello " + prelude + "<p>x</p>"},
		{`<script src="https://tracker/t.js"></script><p>`, prelude + `<p>`},
		{`<headx><p>`, prelude + `<headx><p>`},
		{"just text", "just text"},
		{"<!DOCTYPE html>", "<!DOCTYPE html>"},
		{`<head><head><p>`, `<head>` + prelude + `<head><p>`}, // once only
	} {
		for n := 0; n <= len(tt.in); n++ {
			if got := withPrelude(tt.in, n, false); got != tt.want {
				t.Errorf("%q in chunks of %d:\n got %q\nwant %q", tt.in, n, got, tt.want)
				break
			}
		}
	}
	// Written for a visitor who blocks nothing too (no pass-through copy).
	if got := withPrelude("<head><title>x", 0, true); !strings.Contains(got, prelude) {
		t.Errorf("permissive: %q", got)
	}
}

func TestBodyPrelude(t *testing.T) {
	const banner = `<form id="b"></form>`
	run := func(src string, n int) string {
		var out bytes.Buffer
		f := New(&out, &toy{}, Options{BodyPrelude: []byte(banner), HeadPrelude: []byte(prelude)})
		b := []byte(src)
		if n <= 0 {
			n = len(b) + 1
		}
		for len(b) > 0 {
			m := min(n, len(b))
			f.Write(b[:m])
			b = b[m:]
		}
		f.Close()
		return out.String()
	}
	for _, tt := range []struct{ in, want string }{
		{`<!DOCTYPE html><html><head><title>x</title></head><BODY class="home"><p>x</p></body></html>`,
			`<!DOCTYPE html><html><head>` + prelude + `<title>x</title></head><BODY class="home">` + banner + `<p>x</p></body></html>`},
		{`<title>x</title><p>text`, prelude + `<title>x</title><p>text` + banner},
		{`<svg><body></body></svg><body>`, prelude + `<svg><body></body></svg><body>` + banner},
		{`<!-- <body> --><body>`, `<!-- <body> -->` + prelude + `<body>` + banner},
	} {
		for n := 0; n <= len(tt.in); n++ {
			if got := run(tt.in, n); got != tt.want {
				t.Errorf("%q in chunks of %d:\n got %q\nwant %q", tt.in, n, got, tt.want)
				break
			}
		}
	}
}
