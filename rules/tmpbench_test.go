package rules

import (
	"io"
	"os"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func BenchmarkTmpPages(b *testing.B) {
	for _, name := range []string{"small.html", "large.html"} {
		page, _ := os.ReadFile("/tmp/pf/site/" + name)
		rs := cachedRules(b)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			p := rs.NewPage("https://www.example.com/", 0)
			f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
			for b.Loop() {
				p.Reset(rs, "https://www.example.com/", 0)
				f.Reset(io.Discard, p, htmlfilter.Options{})
				for p := page; len(p) > 0; {
					n := min(32<<10, len(p))
					f.Write(p[:n])
					p = p[n:]
				}
				f.Close()
			}
		})
	}
}
