package rules

import (
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestAllocsPerResponse: the filter and the classifier allocate a fixed
// number of times per response, whatever its length: nothing per kept
// element, per removed one, per character reference or per inline script
// once the buffers have grown. A page ten times longer must cost
// no more allocations than a short one.
func TestAllocsPerResponse(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector are not the program's")
	}
	tc := newTestCaches(t)
	rs := tc.r
	card := `<article class="card" data-id="%d"><a href="/p/%d/?a=1&amp;b=2&lt;"><img src="/img/%d.jpg" srcset="/img/%d@2x.jpg 2x" alt="P&eacute; %d" loading="lazy"></a>
<h2><a href="/p/%d/" ping="/stats">Product %d</a></h2><p style="color:red">Text &copy; with <em>emphasis</em>.</p>
<script>window.dataLayer=window.dataLayer||[];dataLayer.push({event:'view',id:%d});</script>
<img src="https://www.facebook.com/tr?id=1234&amp;ev=ViewContent" width="1" height="1" alt="">
<iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX" height="0" width="0"></iframe>
<script>!function(f,b,e,v,n,t,s){t=b.createElement(e);t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1234');</script>
</article>
`
	page := func(cards int) []byte {
		var b strings.Builder
		b.WriteString("<!DOCTYPE html><html><head><title>t</title></head><body>")
		for i := range cards {
			fmt.Fprintf(&b, card, i, i, i, i, i, i, i, i%3)
		}
		b.WriteString("</body></html>")
		return []byte(b.String())
	}
	p := rs.NewClassifier("https://shop.example/", 0)
	f := htmlfilter.New(io.Discard, p, htmlfilter.Options{})
	// AllocsPerRun counts the whole process's allocations, so a goroutine
	// of the script cache (ristretto's, storing what the warm-up set) or
	// of an earlier test can add to a run: the least of three is the
	// filter's own.
	allocs := func(doc []byte) float64 {
		least := math.Inf(1)
		for range 3 {
			least = min(least, testing.AllocsPerRun(20, func() { filterDoc(rs, tc.scripts, p, f, doc) }))
		}
		return least
	}
	short, long := page(10), page(100)
	allocs(long) // grow the buffers, fill the script cache
	tc.scripts.c.Wait()
	a, b := allocs(short), allocs(long)
	t.Logf("allocations per response: %v (%d bytes), %v (%d bytes)", a, len(short), b, len(long))
	if b > a {
		t.Errorf("%v allocations for %d bytes, %v for %d: something allocates per element", b, len(long), a, len(short))
	}
	// The common shape: trackers in the head, then a long run with nothing
	// removed, which joins what was gathered since the last removal. The
	// array that grows for it must be kept for the next response.
	quiet := strings.Repeat("<p>Text with <a href=\"/x\">a link</a>.</p>\n", 100)
	tail := []byte(strings.Replace(string(page(1)), "</body>", quiet+"</body>", 1))
	f = htmlfilter.New(io.Discard, p, htmlfilter.Options{})
	allocs(tail)
	if c := allocs(tail); c > a {
		t.Errorf("%v allocations for a page whose trackers come first, %v for %d bytes of cards: the gathered output is not reused", c, a, len(short))
	}
	if a > 4 {
		t.Errorf("%v allocations per response, want a handful", a)
	}
	if len(f.Removed()) == 0 {
		t.Fatal("the page removed nothing: the test page lost its trackers")
	}
}

// TestFormatSetTable: the names made once for the sets of a few categories
// are the names FormatSet would build, and sets beyond the table (undeclared
// bits) are still named.
func TestFormatSetTable(t *testing.T) {
	r := Default()
	if len(r.setNames) != 1<<len(r.cats) {
		t.Fatalf("%d names for %d categories", len(r.setNames), len(r.cats))
	}
	for s := Set(0); s < 1<<12; s++ {
		if got, want := r.FormatSet(s), r.formatSet(s); got != want {
			t.Errorf("FormatSet(%b) = %q, want %q", s, got, want)
		}
	}
}
