package htmlfilter

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestTrace: every run a filter notes is a stretch of the document found
// at its place in the output, whatever the chunking and the mode; the
// values noted are exactly the quoted values of the attributes no decision
// reads, on held tags outside text read two ways; the text noted is short
// text of the data state, not in SVG, not right after a '<' that was text,
// and all of it where the document comes in one piece; the scripts noted
// are those Script let through, read by nothing else, without a '<'.
func TestTrace(t *testing.T) {
	doc := `<html><head><meta name="csrf-token" content="tok1">` +
		`<meta http-equiv="refresh" content="5; url=/next">` +
		`<script nonce='n1' src="/app.js"></script>` +
		`<script nonce="n2" src="https://tracker.example/t.js"></script>` +
		`<script nonce="n3" integrity="sha256-x">stats()</script>` +
		`<link rel=stylesheet nonce=n4 href="/s.css">` +
		`<script nonce="n6">var cfg={"csrf":"tok3"};</script><script>if (a<b) go()</script>` +
		`<script type="importmap">{"imports":{"a":"/a.js"}}</script><script type="text/template">tpl</script>` +
		`<style>p{color:red}</style><script></script>` +
		`</head><body><p title="t" data-value="v">text</p><p>5 <b>x</b> a <3 c</p>` +
		`<svg><text>svg text</text><script>x=1</script></svg><p>` + strings.Repeat("long ", 13) + `</p>` +
		`<noscript><img nonce="n5" src="/p.gif"><script>y=2</script></noscript>` +
		`<input type="hidden" NAME="token" VALUE="tok2"><img src="/x.png" alt="" value="">` +
		`</body></html>`
	want := []string{`"tok1"`, `'n1'`, `"n2"`, `"n3"`, `"sha256-x"`, `"n6"`, `"tok2"`, `""`}
	wantScripts := []string{`var cfg={"csrf":"tok3"};`, `{"imports":{"a":"/a.js"}}`}
	// Where text is: the short pieces are noted whole when the document
	// comes in one piece; the long one may be noted only in part, where a
	// write cuts it short enough.
	long := ">" + strings.Repeat("long ", 13) + "<"
	var texts, anyText [][2]int64
	for _, s := range []string{">text<", ">5 <", ">x<", "> a <", long} {
		i := int64(strings.Index(doc, s))
		anyText = append(anyText, [2]int64{i + 1, i + int64(len(s)) - 1})
		if s != long {
			texts = append(texts, anyText[len(anyText)-1])
		}
	}
	// The text after a '<' that was text is never noted from right after
	// it, but a write may cut it after that.
	i := int64(strings.Index(doc, "<3 c<"))
	anyText = append(anyText, [2]int64{i + 2, i + 4})
	for _, mode := range []Mode{Strip, Defer} {
		for _, chunk := range []int{1, 5, 64, len(doc)} {
			var out bytes.Buffer
			var tr Trace
			f := New(&out, &toy{}, Options{Mode: mode})
			f.Trace(&tr)
			for b := []byte(doc); len(b) > 0; {
				n := min(chunk, len(b))
				f.Write(b[:n])
				b = b[n:]
			}
			f.Close()
			got := out.Bytes()
			covered := 0
			for _, r := range tr.Runs {
				if r.Out+int64(r.N) > int64(len(got)) || doc[r.In:r.In+int64(r.N)] != string(got[r.Out:r.Out+int64(r.N)]) {
					t.Fatalf("%s, chunks of %d: run %+v is not where the output has it", mode, chunk, r)
				}
				covered += r.N
			}
			if covered < len(got)*3/4 {
				t.Errorf("%s, chunks of %d: runs cover %d of %d output bytes", mode, chunk, covered, len(got))
			}
			var values, scripts []string
			var noted [][2]int64
			for _, v := range tr.Values {
				if v.Quote == ScriptText {
					scripts = append(scripts, doc[v.In:v.In+int64(v.N)])
					continue
				}
				if v.Quote == '<' {
					noted = append(noted, [2]int64{v.In, v.In + int64(v.N)})
					if !slices.ContainsFunc(anyText, func(t [2]int64) bool { return t[0] <= v.In && v.In+int64(v.N) == t[1] }) {
						t.Errorf("%s, chunks of %d: text %q noted", mode, chunk, doc[v.In:v.In+int64(v.N)])
					}
					continue
				}
				values = append(values, string(v.Quote)+doc[v.In:v.In+int64(v.N)]+string(v.Quote))
			}
			if chunk == len(doc) && !slices.Equal(noted, texts) {
				t.Errorf("text noted at %v, want %v", noted, texts)
			}
			if !slices.Equal(values, want) {
				t.Errorf("%s, chunks of %d: values %q, want %q", mode, chunk, values, want)
			}
			if !slices.Equal(scripts, wantScripts) {
				t.Errorf("%s, chunks of %d: scripts %q, want %q", mode, chunk, scripts, wantScripts)
			}
		}
	}
}
