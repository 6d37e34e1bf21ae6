package htmlfilter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// cssHit is one reported load: the URL as fn saw it and the exact span text.
type cssHit struct{ url, span string }

func cssH(url, span string) cssHit { return cssHit{url, span} }

// cssCases: input CSS and every load it must report, in order. Cases with no
// hits are controls: a browser loads nothing there.
var cssCases = []struct {
	name string
	css  string
	want []cssHit
}{
	// url tokens (CSS Syntax §4.3.4, §4.3.6).
	{"url token", `a{background:url(x.png)}`, []cssHit{cssH("x.png", "url(x.png)")}},
	{"url token whitespace trimmed", "a{background:url( \t x.png \n )}", []cssHit{cssH("x.png", "url( \t x.png \n )")}},
	{"url token FF and CR LF are whitespace", "url(\fx\r\n)", []cssHit{cssH("x", "url(\fx\r\n)")}},
	{"URL upper case", `URL(x)`, []cssHit{cssH("x", "URL(x)")}},
	{"Url mixed case", `Url(x)`, []cssHit{cssH("x", "Url(x)")}},
	{"two url tokens", `a{b:url(x) url(y)}`, []cssHit{cssH("x", "url(x)"), cssH("y", "url(y)")}},
	{"url token in style attribute", `background-image:url(//t.example/p.gif);color:red`, []cssHit{cssH("//t.example/p.gif", "url(//t.example/p.gif)")}},
	{"comment inside url token is content", `url(/*c*/x)`, []cssHit{cssH("/*c*/x", "url(/*c*/x)")}},
	{"url token at EOF", `a{b:url(x.png`, []cssHit{cssH("x.png", "url(x.png")}},
	{"url token at EOF after whitespace", "url(x.png  ", []cssHit{cssH("x.png", "url(x.png  ")}},
	{"non-ASCII in url token", `url(ü.png)`, []cssHit{cssH("ü.png", "url(ü.png)")}},
	{"after CDO", `<!--url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after CDC", `-->url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after percentage", `1%url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after number and dot", `1.url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after dimension e and plus", `1e+url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after delim plus", `+url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"after delim backslash newline", "\\\nurl(x)", []cssHit{cssH("x", "url(x)")}},
	{"after comment", `/**/url(x)`, []cssHit{cssH("x", "url(x)")}},
	{"@namespace url is reported too", `@namespace svg url(http://www.w3.org/2000/svg);`, []cssHit{cssH("http://www.w3.org/2000/svg", "url(http://www.w3.org/2000/svg)")}},

	// Escapes (§4.3.7) in url tokens and in function names (§4.3.11).
	{"escaped name u\\rl", `u\rl(x)`, []cssHit{cssH("x", `u\rl(x)`)}},
	{"escaped name ur\\l", `ur\l(x)`, []cssHit{cssH("x", `ur\l(x)`)}},
	{"hex-escaped name \\75rl", `\75rl(x)`, []cssHit{cssH("x", `\75rl(x)`)}},
	{"hex escape eats one space", `\75 rl(x)`, []cssHit{cssH("x", `\75 rl(x)`)}},
	{"six-digit hex escape", `\000075rl(x)`, []cssHit{cssH("x", `\000075rl(x)`)}},
	{"escaped upper case U\\52L", `U\52L(x)`, []cssHit{cssH("x", `U\52L(x)`)}},
	{"escaped name then quote is a function", `u\0072l("x")`, []cssHit{cssH("x", `"x"`)}},
	{"hex escape ended by space mid-name", `u\72 l(x)`, []cssHit{cssH("x", `u\72 l(x)`)}},
	{"URL function upper case", `URL( "x" )`, []cssHit{cssH("x", `"x"`)}},
	{"escaped paren in url", `url(a\)b)`, []cssHit{cssH("a)b", `url(a\)b)`)}},
	{"escaped quote in url", `url(a\"b)`, []cssHit{cssH(`a"b`, `url(a\"b)`)}},
	{"hex escape of paren", `url(a\29)`, []cssHit{cssH("a)", `url(a\29)`)}},
	{"hex escape in url with its space", `url(\61 b)`, []cssHit{cssH("ab", `url(\61 b)`)}},
	{"hex escape then CR LF", "url(\\61\r\nb)", []cssHit{cssH("ab", "url(\\61\r\nb)")}},
	{"escaped space in url", `url(a\ b)`, []cssHit{cssH("a b", `url(a\ b)`)}},
	{"hex escape non-ASCII", `url(caf\e9)`, []cssHit{cssH("café", `url(caf\e9)`)}},
	{"escape of zero is U+FFFD", `url(\0)`, []cssHit{cssH("\uFFFD", `url(\0)`)}},
	{"escape of surrogate is U+FFFD", `url(\d800)`, []cssHit{cssH("\uFFFD", `url(\d800)`)}},
	{"escape past max is U+FFFD", `url(\110000)`, []cssHit{cssH("\uFFFD", `url(\110000)`)}},
	{"backslash at EOF is U+FFFD", `url(\`, []cssHit{cssH("\uFFFD", `url(\`)}},
	{"NUL is U+FFFD", "url(a\x00b)", []cssHit{cssH("a\uFFFDb", "url(a\x00b)")}},

	// Functions with a string: url("..."), src("...") (CSS Values 4 §4.5).
	{"url double-quoted", `url("x.png")`, []cssHit{cssH("x.png", `"x.png"`)}},
	{"url single-quoted", `url('x.png')`, []cssHit{cssH("x.png", `'x.png'`)}},
	{"url whitespace then quote", "url( \n \"x\" )", []cssHit{cssH("x", `"x"`)}},
	{"url string with escapes", `url("a\"b\\c\41")`, []cssHit{cssH(`a"b\cA`, `"a\"b\\c\41"`)}},
	{"url string with escaped newline", "url(\"a\\\nb\")", []cssHit{cssH("ab", "\"a\\\nb\"")}},
	{"url string holding parens", `url("a(b)")`, []cssHit{cssH("a(b)", `"a(b)"`)}},
	{"url string at EOF", `url("x.png`, []cssHit{cssH("x.png", `"x.png`)}},
	{"url string twice (invalid, reported)", `url("a" "b")`, []cssHit{cssH("a", `"a"`), cssH("b", `"b"`)}},
	{"src string", `src("x.woff2")`, []cssHit{cssH("x.woff2", `"x.woff2"`)}},
	{"SRC single-quoted", `SRC('x')`, []cssHit{cssH("x", `'x'`)}},
	{"url modifier string is not a URL", `url("a.png" integrity("sha384-x"))`, []cssHit{cssH("a.png", `"a.png"`)}},

	// @import (CSS Cascade §2.1; strings are URLs after it).
	{"@import string", `@import "a.css";`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"@import single-quoted with media", `@import 'a.css' screen;`, []cssHit{cssH("a.css", `'a.css'`)}},
	{"@import url token", `@import url(a.css);`, []cssHit{cssH("a.css", "url(a.css)")}},
	{"@import url function with layer", `@import url("a.css") layer(x);`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"@IMPORT", `@IMPORT "a.css";`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"escaped @\\69mport", `@\69mport "a.css";`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"@import after other rules", `a{color:red}@import "late.css";`, []cssHit{cssH("late.css", `"late.css"`)}},
	{"@import inside a block", `@media screen{@import "x.css";}`, []cssHit{cssH("x.css", `"x.css"`)}},
	{"@import then comment", `@import/**/"a.css";`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"@import without space", `@import"a.css";`, []cssHit{cssH("a.css", `"a.css"`)}},
	{"@import string with hex escape and CR LF", "@import \"\\61\r\nb\";", []cssHit{cssH("ab", "\"\\61\r\nb\"")}},
	{"@import escaped CR LF", "@import \"a\\\r\nb\";", []cssHit{cssH("ab", "\"a\\\r\nb\"")}},
	{"@import escaped CR", "@import \"a\\\rb\";", []cssHit{cssH("ab", "\"a\\\rb\"")}},
	{"@import escaped FF", "@import \"a\\\fb\";", []cssHit{cssH("ab", "\"a\\\fb\"")}},
	{"@import string at EOF", `@import "a.css`, []cssHit{cssH("a.css", `"a.css`)}},
	{"@import string, backslash at EOF", `@import "a\`, []cssHit{cssH("a", `"a\`)}},
	{"@import string, escaped quote at EOF", `@import "a\"`, []cssHit{cssH(`a"`, `"a\"`)}},
	{"@import NUL in string", "@import \"a\x00\";", []cssHit{cssH("a\uFFFD", "\"a\x00\"")}},
	{"@import url then string", `@import url(a.css) "b";`, []cssHit{cssH("a.css", "url(a.css)")}},

	// image-set() (CSS Images 4 §2.2).
	{"image-set strings", `a{b:image-set("a.png" 1x, "b.png" 2x)}`, []cssHit{cssH("a.png", `"a.png"`), cssH("b.png", `"b.png"`)}},
	{"-webkit-image-set url and string", `-webkit-image-set(url(a.png) 1x, 'b.png' 2x)`, []cssHit{cssH("a.png", "url(a.png)"), cssH("b.png", `'b.png'`)}},
	{"-WEBKIT-IMAGE-SET", `-WEBKIT-IMAGE-SET('a.png' 1x)`, []cssHit{cssH("a.png", `'a.png'`)}},
	{"src inside image-set", `image-set(src("a.png") 1x)`, []cssHit{cssH("a.png", `"a.png"`)}},
	{"IMAGE-SET", `IMAGE-SET("a.png" 1x)`, []cssHit{cssH("a.png", `"a.png"`)}},
	{"escaped image\\-set", `image\-set("a.png")`, []cssHit{cssH("a.png", `"a.png"`)}},
	{"image-set type() string is no URL", `image-set("a.avif" type("image/avif"), "a.jpg" type("image/jpeg"))`, []cssHit{cssH("a.avif", `"a.avif"`), cssH("a.jpg", `"a.jpg"`)}},
	{"image-set after nested function", `image-set(linear-gradient(red, "x") 1x, "b.png" 2x)`, []cssHit{cssH("b.png", `"b.png"`)}},
	{"image-set stray closers do not close it", `image-set("a" ] } "b")`, []cssHit{cssH("a", `"a"`), cssH("b", `"b"`)}},
	{"image-set bracket block is nested", `image-set(["a"] "b")`, []cssHit{cssH("b", `"b"`)}},
	{"string after image-set closed", `image-set(url(a) 1x) "b"`, []cssHit{cssH("a", "url(a)")}},
	{"@font-face src", `@font-face{font-family:"F";src:url(f.woff2) format("woff2"),local("Arial")}`, []cssHit{cssH("f.woff2", "url(f.woff2)")}},

	// Controls: nothing loads.
	{"string property value", `a::before{content:"http://t.example/x.png"}`, nil},
	{"font-family string", `a{font-family:"url(x)"}`, nil},
	{"string holding url()", `"url(x)"`, nil},
	{"escaped quote keeps string open", `'a\'url(x)'`, nil},
	{"string with escaped newline", "\"a\\\nurl(x)\"", nil},
	{"comment", `/* url(x) @import "y"; */`, nil},
	{"unterminated comment", `a{} /* url(x)`, nil},
	{"@namespace string", `@namespace svg "http://www.w3.org/2000/svg";`, nil},
	{"@importx is another at-rule", `@importx "a.css";`, nil},
	{"@import ident first", `@import foo "a.css";`, nil},
	{"@import empty", `@import "";`, nil},
	{"@import escaped-newline-only string is empty", "@import \"\\\n\";", nil},
	{"url empty", `a{b:url()}`, nil},
	{"url whitespace only", `a{b:url(  )}`, nil},
	{"url empty string", `a{b:url("") url('')}`, nil},
	{"url at EOF empty", `url(`, nil},
	{"image-set empty string", `image-set("" 1x)`, nil},
	{"bad url: quote", `url(a"b)`, nil},
	{"bad url: apostrophe", `url(a'b)`, nil},
	{"bad url: paren", `url(a(b)`, nil},
	{"bad url: comment then string", `url(/**/"x")`, nil},
	{"bad url: var()", `url(var(--u))`, nil},
	{"bad url: inner whitespace", `url(a b)`, nil},
	{"bad url: FF inside", "url(a\fb)", nil},
	{"bad url: non-printable", "url(a\x01b)", nil},
	{"bad url: VT", "url(a\vb)", nil},
	{"bad url: DEL", "url(a\x7fb)", nil},
	{"bad url: escaped newline", "url(a\\\nb)", nil},
	{"bad url swallows to the unescaped paren", `url(a"b\) url(t.png)) x`, nil},
	{"bad string ends at newline; rest is a string", "@import \"a\nb\"; x{background:url(y)}", nil},
	{"function aurl", `aurl(x)`, nil},
	{"function -url", `-url(x)`, nil},
	{"function --url", `--url(x)`, nil},
	{"function -\\75rl", `-\75rl(x)`, nil},
	{"dimension 5url", `5url(x)`, nil},
	{"dimension 1e3url", `1e3url(x)`, nil},
	{"hash #url", `#url(x)`, nil},
	{"at-keyword @url", `@url(x)`, nil},
	{"ident then space", `url (x)`, nil},
	{"escaped paren is part of the ident", `url\(x)`, nil},
	{"backslash newline splits the name", "u\\\nrl(x)", nil},
	{"NUL in name", "u\x00rl(x)", nil},
	{"-moz-image-set is no image-set", `-moz-image-set("a.png" 1x)`, nil},
	{"image() is not implemented by browsers", `image("a.png")`, nil},
	{"src unquoted is no URL", `src(x.woff) src(var(--u))`, nil},
	{"local() and format() strings", `src:local("Arial") format("woff")`, nil},
	{"string in other function", `a{b:attr(data-x "http://t.example/x")}`, nil},
}

// cssCollect runs cssURLs and returns the hits and their offsets.
func cssCollect(css []byte) ([]cssHit, [][2]int) {
	var hits []cssHit
	var spans [][2]int
	cssURLs(css, func(start, end int, url []byte) bool {
		hits = append(hits, cssHit{string(url), string(css[start:end])})
		spans = append(spans, [2]int{start, end})
		return true
	})
	return hits, spans
}

// cssRewrite replaces each span with its cssReplacement.
func cssRewrite(css []byte, spans [][2]int) []byte {
	var out []byte
	last := 0
	for _, s := range spans {
		out = append(out, css[last:s[0]]...)
		out = append(out, cssReplacement(css, s[0], s[1])...)
		last = s[1]
	}
	return append(out, css[last:]...)
}

func TestCSSURLs(t *testing.T) {
	if len(cssCases) < 50 {
		t.Fatalf("only %d cases", len(cssCases))
	}
	for _, c := range cssCases {
		got, _ := cssCollect([]byte(c.css))
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("%s: %q\n got %q\nwant %q", c.name, c.css, got, c.want)
		}
	}
}

// TestCSSReplaceRescan: with every reported span replaced by its
// cssReplacement, a second scan finds nothing to load.
func TestCSSReplaceRescan(t *testing.T) {
	inputs := []string{string(cssStylesheet(8 << 10))}
	for _, c := range cssCases {
		inputs = append(inputs, c.css)
	}
	for _, css := range inputs {
		_, spans := cssCollect([]byte(css))
		out := cssRewrite([]byte(css), spans)
		if again, _ := cssCollect(out); len(again) > 0 {
			t.Errorf("%q rewritten to %q still reports %q", css, out, again)
		}
	}
}

func TestCSSReplacement(t *testing.T) {
	css := []byte(`url(x) "y" 'z' u\rl(w)`)
	for _, c := range []struct {
		start, end int
		want       string
	}{{0, 6, `url("")`}, {7, 10, `""`}, {11, 14, `""`}, {15, 22, `url("")`}} {
		if got := cssReplacement(css, c.start, c.end); got != c.want {
			t.Errorf("%q: got %s want %s", css[c.start:c.end], got, c.want)
		}
	}
}

func TestCSSURLsStop(t *testing.T) {
	calls := 0
	cssURLs([]byte(`url(a) url(b) @import "c";`), func(int, int, []byte) bool {
		calls++
		return false
	})
	if calls != 1 {
		t.Errorf("fn called %d times after returning false", calls)
	}
	calls = 0
	cssURLs([]byte(`url(\61) url(b)`), func(int, int, []byte) bool { // escaped: pooled buffer path
		calls++
		return false
	})
	if calls != 1 {
		t.Errorf("fn called %d times after returning false (escaped)", calls)
	}
}

// TestCSSDeepNesting: past the fixed stack the nesting is still tracked.
func TestCSSDeepNesting(t *testing.T) {
	css := "image-set(" + strings.Repeat("f(", 100) + `"no"` + strings.Repeat(")", 100) + `"yes")`
	got, _ := cssCollect([]byte(css))
	if want := []cssHit{cssH("yes", `"yes"`)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q want %q", got, want)
	}
}

// cssStylesheet generates a realistic stylesheet of about size bytes:
// selectors, declarations, comments, media queries, @font-face and a few
// url()s, without escapes.
func cssStylesheet(size int) []byte {
	var sb strings.Builder
	sb.WriteString("@charset \"utf-8\";\n@import url(\"/css/base.css\");\n/*! theme v1.2.3 | MIT */\n")
	for i := 0; sb.Len() < size; i++ {
		switch i % 8 {
		case 0:
			fmt.Fprintf(&sb, ".btn-%d,.btn-%d:hover{display:inline-block;padding:.375rem .75rem;font-size:1rem;line-height:1.5;border-radius:.25rem;transition:color .15s ease-in-out,background-color .15s ease-in-out}\n", i, i)
		case 1:
			fmt.Fprintf(&sb, ".hero-%d{background:#1a2b3c url(/img/hero-%d.jpg) no-repeat center/cover;min-height:calc(100vh - 64px)}\n", i, i)
		case 2:
			fmt.Fprintf(&sb, "/* section %d: cards */\n.card-%d>.card-body{margin:0 auto;color:rgba(0,0,0,.87);font:400 14px/1.42857 \"Helvetica Neue\",Helvetica,Arial,sans-serif}\n", i, i)
		case 3:
			fmt.Fprintf(&sb, "@media (min-width:768px) and (max-width:991.98px){.col-md-%d{flex:0 0 %d%%;max-width:%d%%}}\n", i%12, i%100, i%100)
		case 4:
			fmt.Fprintf(&sb, "@font-face{font-family:\"Icons%d\";src:url(\"/fonts/icons-%d.woff2\") format(\"woff2\"),url(/fonts/icons-%d.woff) format(\"woff\");font-display:swap}\n", i, i, i)
		case 5:
			fmt.Fprintf(&sb, ".icon-%d::before{content:\"\\f%03x\";transform:translate3d(0,-2px,0) rotate(45deg)}\n", i, i%4096)
		case 6:
			fmt.Fprintf(&sb, "a.link-%d[href^=\"https://\"]:not(.internal){text-decoration:underline;box-shadow:0 1px 2px -1px #00000033,inset 0 0 0 1px hsl(210 10%% 80%%)}\n", i)
		default:
			fmt.Fprintf(&sb, ".logo-%d{background-image:image-set(\"/img/logo-%d.png\" 1x,\"/img/logo-%d@2x.png\" 2x);width:120px;height:40px}\n", i, i, i)
		}
	}
	return []byte(sb.String())
}

// TestCSSURLsNoAlloc: a stylesheet without escapes costs no allocation.
func TestCSSURLsNoAlloc(t *testing.T) {
	css := cssStylesheet(50 << 10)
	n := 0
	fn := func(int, int, []byte) bool { n++; return true }
	allocs := testing.AllocsPerRun(20, func() { cssURLs(css, fn) })
	if allocs != 0 {
		t.Errorf("%v allocations per scan", allocs)
	}
	if n == 0 {
		t.Error("the generated stylesheet reported no URL")
	}
}

// BenchmarkCSSURLs measures the scan of a 50 KB stylesheet beside a naive
// bytes.Index search for "url(" over the same bytes (which finds less and
// misreads more), so that the ratio survives a noisy machine.
func BenchmarkCSSURLs(b *testing.B) {
	css := cssStylesheet(50 << 10)
	b.Run("scan", func(b *testing.B) {
		n := 0
		fn := func(int, int, []byte) bool { n++; return true }
		b.SetBytes(int64(len(css)))
		b.ReportAllocs()
		for b.Loop() {
			cssURLs(css, fn)
		}
		b.ReportMetric(float64(n)/float64(b.N), "urls/op")
	})
	b.Run("naive-index", func(b *testing.B) {
		b.SetBytes(int64(len(css)))
		for b.Loop() {
			for p := css; ; {
				i := bytes.Index(p, []byte("url("))
				if i < 0 {
					break
				}
				p = p[i+4:]
			}
		}
	})
}

// FuzzCSSURLs checks on any input: no panic, spans within bounds, in order and
// disjoint, each span a url token or a string token that cssReplacement knows,
// no empty URL, fn's false honoured, and nothing left after replacement.
func FuzzCSSURLs(f *testing.F) {
	for _, c := range cssCases {
		f.Add([]byte(c.css))
	}
	f.Add(cssStylesheet(4 << 10))
	f.Fuzz(func(t *testing.T, css []byte) {
		prev := 0
		var spans [][2]int
		cssURLs(css, func(start, end int, url []byte) bool {
			if start < prev || end <= start || end > len(css) {
				t.Fatalf("%q: span [%d,%d) after %d, len %d", css, start, end, prev, len(css))
			}
			if len(url) == 0 {
				t.Fatalf("%q: empty URL at [%d,%d)", css, start, end)
			}
			switch s := css[start:end]; cssReplacement(css, start, end) {
			case `""`:
			default:
				if len(s) < 4 || !cssIdentStartsURL(s) {
					t.Fatalf("%q: span %q is neither a string nor a url token", css, s)
				}
			}
			prev = end
			spans = append(spans, [2]int{start, end})
			return true
		})
		if len(spans) > 0 {
			calls := 0
			cssURLs(css, func(int, int, []byte) bool { calls++; return false })
			if calls != 1 {
				t.Fatalf("%q: %d calls after false", css, calls)
			}
		}
		out := cssRewrite(css, spans)
		if again, _ := cssCollect(out); len(again) > 0 {
			t.Fatalf("%q rewritten to %q still reports %q", css, out, again)
		}
	})
}

// cssIdentStartsURL reports whether s starts with an ident sequence that
// decodes to "url" followed by '('.
func cssIdentStartsURL(s []byte) bool {
	end, esc := cssIdentEnd(s, 0)
	return end < len(s) && s[end] == '(' && cssNameIs(s[:end], esc, "url")
}
