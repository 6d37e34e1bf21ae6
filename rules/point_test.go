package rules_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestPointIsTheState: from every Point of every test page, a fresh
// filter put in that Point's state, with a fresh classifier put in the
// page's classifier's state there, writes what the filter that read the
// page from its start wrote after it, and counts the same removals. That
// is what lets the page cache resume a replay there.
func TestPointIsTheState(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "pages", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatal("no test pages", err)
	}
	docs := map[string][]byte{
		// A '<' of text right before a removed element.
		"lt": []byte(`<p>a <<script src="https://www.google-analytics.com/analytics.js"></script>img src=x> b</p>`),
		// In SVG a style's text is markup.
		"svg": []byte(`<svg><g><style><img src="https://www.facebook.com/tr?id=1"></style></g></svg><p>c</p>`),
		// A base moves the relative URLs after it.
		"base": []byte(`<p><img src="a.png"></p><base href="https://www.facebook.com/"><p><img src="tr?id=1"></p><p>c</p>`),
		// A removed object goes with its fallback content.
		"object": []byte(`<object data="https://www.facebook.com/tr?id=1"><p>fallback</p><p>more</p></object><p>c</p>`),
		// Raw text elements in a select are markup to some parsers.
		"select": []byte(`<select><option>a</option><style><img src="https://www.facebook.com/tr?id=1"></style><option>b</option></select><p>c</p>`),
	}
	for _, file := range files {
		if docs[filepath.Base(file)], err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
	}
	rs := rules.Default()
	opts := []htmlfilter.Options{
		{Mode: htmlfilter.Strip},
		{Mode: htmlfilter.Defer},
		{Mode: htmlfilter.Strip, HeadPrelude: []byte("<script>head()</script>"), BodyPrelude: []byte("<div>body</div>")},
	}
	points := 0
	for name, doc := range docs {
		for _, opt := range opts {
			type place struct {
				in, out int
				at      htmlfilter.Point
				state   []byte
				removed int
			}
			var out bytes.Buffer
			p := rs.NewClassifier(oraclePageURL, 0)
			f := htmlfilter.New(&out, p, opt)
			var places []place
			for from, i := 0, 0; i < len(doc); i++ {
				if doc[i] != '>' && i != len(doc)-1 {
					continue
				}
				f.Write(doc[from : i+1])
				from = i + 1
				if at, ok := f.At(); ok {
					places = append(places, place{i + 1, out.Len(), at, p.AppendState(nil), removals(f.Removed())})
				}
			}
			f.Close()
			whole := out.Bytes()
			for _, pl := range places {
				var rest bytes.Buffer
				q := rs.NewClassifier(oraclePageURL, 0)
				if !q.RestoreState(pl.state) {
					t.Fatalf("%s: the state at %d cannot be restored", name, pl.in)
				}
				g := htmlfilter.New(&rest, q, opt)
				g.Resume(pl.at)
				g.Write(doc[pl.in:])
				g.Close()
				if !bytes.Equal(rest.Bytes(), whole[pl.out:]) {
					d := firstDiff(rest.Bytes(), whole[pl.out:])
					t.Fatalf("%s %+v, resumed at %d: output differs at %d: %q, want %q", name, opt, pl.in, d, around(rest.Bytes(), d), around(whole[pl.out:], d))
				}
				if got, want := removals(g.Removed()), removals(f.Removed())-pl.removed; got != want {
					t.Fatalf("%s %+v, resumed at %d: %d removals, want %d", name, opt, pl.in, got, want)
				}
				points++
			}
		}
	}
	if points < 1000 {
		t.Errorf("only %d points in the test pages", points)
	}
}

func removals(rs []htmlfilter.Removal) int {
	n := 0
	for _, r := range rs {
		n += r.Count
	}
	return n
}
