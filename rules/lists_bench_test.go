package rules

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// generatedTDS is a Tracker Data Set of n made-up tracker domains, ten per
// entity, of the three tracking categories in turn: the size of a large
// real list (DuckDuckGo's web tds.json names a few thousand trackers).
func generatedTDS(n int) []byte {
	type owner struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	}
	type tracker struct {
		Domain     string   `json:"domain"`
		Owner      owner    `json:"owner"`
		Categories []string `json:"categories"`
		Default    string   `json:"default"`
	}
	cats := []string{"Advertising", "Analytics", "Embedded Content"}
	tlds := []string{"com", "net", "io", "de", "co.uk"}
	trackers := map[string]tracker{}
	x := uint32(2463534242)
	for i := range n {
		// Hostnames of 6 to 15 letters, as varied as real ones (xorshift).
		var label []byte
		for range 6 + i%10 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			label = append(label, 'a'+byte(x%26))
		}
		d := fmt.Sprintf("%s%d.%s", label, i, tlds[i%len(tlds)])
		o := fmt.Sprintf("Entity %d", i/10)
		trackers[d] = tracker{d, owner{o + " Inc.", o}, []string{cats[i%len(cats)]}, "block"}
	}
	src, err := json.Marshal(map[string]any{"trackers": trackers})
	if err != nil {
		panic(err)
	}
	return src
}

// BenchmarkImportedList is what a 10,000-host list costs: to load (time
// and memory: allocated per op, and retained by the rule set) and per page
// filtered, against the default rules alone.
func BenchmarkImportedList(b *testing.B) {
	src := generatedTDS(10_000)
	withList, _, err := ParseList(Default(), ListTDS, "generated.json", src)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("load-10k", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ParseList(Default(), ListTDS, "generated.json", src); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(retained(func() any {
			r, _, _ := ParseList(Default(), ListTDS, "generated.json", src)
			return r
		})), "retained-B")
	})
	b.Run("default-retained", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(retained(func() any {
			r, _ := parseDefault()
			return r
		})), "retained-B")
	})

	var docs [][]byte
	files, _ := filepath.Glob("../testdata/pages/*.html")
	n := 0
	for _, f := range files {
		if d, err := os.ReadFile(f); err == nil {
			docs = append(docs, d)
			n += len(d)
		}
	}
	script := []byte(firstPartyScript())
	for _, rc := range []struct {
		name string
		rs   *Rules
	}{{"default", Default()}, {"default+tds-10k", withList}} {
		b.Run("pages/"+rc.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			p := rc.rs.NewClassifier("https://www.example.com/", 0)
			f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
			for b.Loop() {
				for _, d := range docs {
					filterDoc(rc.rs, nil, p, f, d)
				}
			}
		})
		b.Run("script-2KB/"+rc.name, func(b *testing.B) {
			b.SetBytes(int64(len(script)))
			b.ReportAllocs()
			p := rc.rs.NewClassifier(testPage, 0)
			for b.Loop() {
				p.Script(script)
			}
		})
	}
}
