package pagecache

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// A recording keeps a point at the start of each script where the filter
// is in text: a script's nonce or token is where pages rendered per
// request differ, and a replay hands over from the last point before a
// difference. Tracker tags between the scripts are removed, which leaves
// few places after them for a cut.
func TestPointsBeforeScripts(t *testing.T) {
	rs := rules.Default()
	c, err := New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><title>t</title>\n")
	for i := range 6 {
		b.WriteString(`<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>` + "\n")
		b.WriteString(`<script nonce="abcdefghijklmnopqrstuv==">window.cfg` + strings.Repeat("x", i*40) + `={"a":1};</script>` + "\n")
	}
	b.WriteString("</head><body><p>text</p></body></html>\n")
	doc := []byte(b.String())
	var r Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	for range 2 {
		filterOnce(t, &r, c, f, rs, Document{URL: "/", Length: -1}, doc)
	}
	r.Reset(c, f, io.Discard, rs.NewClassifier("https://www.example.com/", 0), htmlfilter.Options{}, Document{URL: "/", Length: -1})
	if r.mode != replaying {
		t.Fatalf("third sighting: mode %d, want replaying", r.mode)
	}
	at := map[int]bool{}
	for _, p := range r.e.points {
		at[int(p.in)] = true
	}
	n := 0
	for i := 0; ; i++ {
		j := bytes.Index(doc[i:], []byte("<script"))
		if j < 0 {
			break
		}
		i += j
		n++
		if !at[i] {
			t.Errorf("no point at the script at %d: %.40q", i, doc[i:])
		}
	}
	if n != 12 {
		t.Fatalf("%d scripts, want 12", n)
	}
	r.Release()
}
