package htmlfilter

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// corpus returns the benchmark pages: the real pages in the folder that
// CONSENTEDGE_CORPUS names (docs/performance.md says which pages the
// published figures come from), else a generated page of similar shape.
func corpus(testing.TB) map[string][]byte {
	pages := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join(os.Getenv("CONSENTEDGE_CORPUS"), "*.html"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pages[filepath.Base(f)] = data
		}
	}
	if len(pages) == 0 {
		var sb strings.Builder
		sb.WriteString("<!doctype html><html><head><title>t</title><link rel=stylesheet href=/s.css></head><body>")
		for i := 0; sb.Len() < 300<<10; i++ {
			sb.WriteString(`<div class="row"><p>Some <a href="/x">text</a> and <span class="c">more text</span> here.</p><img src="/i.png" alt="x"></div>` + "\n")
			if i%50 == 0 {
				sb.WriteString(`<script>var x = 1;</script><script src="https://tracker.example/t.js"></script>`)
			}
		}
		pages["generated.html"] = []byte(sb.String())
	}
	return pages
}

// nopPolicy blocks nothing and costs nothing: it measures the scanner alone.
type nopPolicy struct{}

func (nopPolicy) URL([]byte) Verdict     { return Verdict{} }
func (nopPolicy) Script([]byte) Verdict  { return Verdict{} }
func (nopPolicy) SetBase([]byte) Verdict { return Verdict{} }

// BenchmarkFilter reports MB/s of the scanner beside io.Copy, the floor of
// any filter (finding every tag) and x/net/html tokenization of the same
// bytes, in 32 KiB writes as reverse_proxy makes them.
func BenchmarkFilter(b *testing.B) {
	for name, page := range corpus(b) {
		b.Run(name+"/io.Copy", func(b *testing.B) {
			// A real copy through a 32 KiB buffer: the reader and writer
			// are wrapped so that neither WriteTo nor ReadFrom skips it.
			b.SetBytes(int64(len(page)))
			buf := make([]byte, 32<<10)
			for b.Loop() {
				io.CopyBuffer(struct{ io.Writer }{io.Discard}, struct{ io.Reader }{bytes.NewReader(page)}, buf)
			}
		})
		b.Run(name+"/find-every-tag", func(b *testing.B) {
			// The floor for any filter: finding every '<' with IndexByte
			// and looking at the byte after it, nothing more.
			b.SetBytes(int64(len(page)))
			n := 0
			for b.Loop() {
				for p := page; ; {
					i := bytes.IndexByte(p, '<')
					if i < 0 || i+1 >= len(p) {
						break
					}
					if p[i+1] == '/' {
						n++
					}
					p = p[i+1:]
				}
			}
			if n == 0 {
				b.Fatal("no end tags")
			}
		})
		b.Run(name+"/filter", func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			f := New(io.Discard, nopPolicy{}, Options{})
			for b.Loop() {
				f.Reset(io.Discard, nopPolicy{}, Options{})
				for p := page; len(p) > 0; {
					n := min(32<<10, len(p))
					f.Write(p[:n])
					p = p[n:]
				}
				f.Close()
			}
		})
		b.Run(name+"/x-net-html", func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				z := html.NewTokenizer(bytes.NewReader(page))
				for z.Next() != html.ErrorToken {
				}
			}
		})
	}
}

// TestCorpusUnchanged: with a policy that blocks nothing, every corpus page
// comes out byte for byte (the benchmark measures real work, not a shortcut).
func TestCorpusUnchanged(t *testing.T) {
	for name, page := range corpus(nil) {
		var out bytes.Buffer
		f := New(&out, nopPolicy{}, Options{})
		for p := page; len(p) > 0; {
			n := min(32<<10, len(p))
			f.Write(p[:n])
			p = p[n:]
		}
		f.Close()
		if !bytes.Equal(out.Bytes(), page) {
			t.Errorf("%s: %d bytes in, %d out", name, len(page), out.Len())
		}
	}
}
