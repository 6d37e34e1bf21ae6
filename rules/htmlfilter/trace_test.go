package htmlfilter

import (
	"bytes"
	"slices"
	"testing"
)

// TestTrace: every run a filter notes is a stretch of the document found
// at its place in the output, whatever the chunking and the mode; the
// values noted are exactly the quoted values of the attributes no decision
// reads, on held tags outside text read two ways.
func TestTrace(t *testing.T) {
	const doc = `<html><head><meta name="csrf-token" content="tok1">` +
		`<meta http-equiv="refresh" content="5; url=/next">` +
		`<script nonce='n1' src="/app.js"></script>` +
		`<script nonce="n2" src="https://tracker.example/t.js"></script>` +
		`<script nonce="n3" integrity="sha256-x">stats()</script>` +
		`<link rel=stylesheet nonce=n4 href="/s.css">` +
		`</head><body><p title="t" data-value="v">text</p>` +
		`<noscript><img nonce="n5" src="/p.gif"></noscript>` +
		`<input type="hidden" NAME="token" VALUE="tok2"><img src="/x.png" alt="" value="">` +
		`</body></html>`
	want := []string{`"tok1"`, `'n1'`, `"n2"`, `"n3"`, `"sha256-x"`, `"tok2"`, `""`}
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
			var values []string
			for _, v := range tr.Values {
				values = append(values, string(v.Quote)+doc[v.In:v.In+int64(v.N)]+string(v.Quote))
			}
			if !slices.Equal(values, want) {
				t.Errorf("%s, chunks of %d: values %q, want %q", mode, chunk, values, want)
			}
		}
	}
}
