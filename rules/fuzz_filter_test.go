package rules_test

// FuzzFilterRules splices random markup around and inside real tracker elements
// of the default vendors and filters the result with the real rules, in a
// consent state, mode and chunking all taken from the input. It asserts what
// the oracle asserts of the corpus (oracle_test.go), for documents no one wrote
// by hand: nothing of a denied category loads in the output under either
// scripting mode, the output does not depend on the chunking, and filtering is
// idempotent.

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// fuzzTrackers are tracker elements in the shapes of the vendors' install
// snippets, in the load forms the oracle reads. "\x00" marks where the middle
// part of the fuzz markup goes when it is spliced inside the element: between
// attributes, in a URL, in script text or in element content.
var fuzzTrackers = []string{
	"<script async\x00 src=\"https://www.googletagmanager.com/gtag/js?id=G-FUZZ12345\"></script>",
	"<script async src=\"https://connect.facebook.net/en_US/fbevents.js\"\x00></script>",
	"<img src=\"https://www.facebook.com/tr?id=123456789012345&amp;ev=PageView\x00&amp;noscript=1\" width=\"1\" height=\"1\" alt=\"\">",
	"<iframe src=\"https://td.doubleclick.net/td/rul/987654321\" width=\"0\" height=\"0\">\x00</iframe>",
	"<script>(function(h,o,t,j,a,r){h._hjSettings={hjid:3456789,hjsv:6};a=o.getElementsByTagName('head')[0];r=o.createElement('script');r.async=1;\x00r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');</script>",
	"<noscript>\x00<img height=\"1\" width=\"1\" style=\"display:none\" alt=\"\" src=\"https://px.ads.linkedin.com/collect/?pid=1234567&amp;fmt=gif\"></noscript>",
	"<link rel=\"preload\"\x00 as=\"script\" href=\"https://www.clarity.ms/tag/k3xq9abcde\">",
	"<img src=\"/img/a.png\" srcset=\"/img/a.png 1x,\x00 https://ct.pinterest.com/v3/?tid=2612345678901&amp;noscript=1 2x\" alt=\"\">",
	"<svg>\x00<script href=\"https://static.ads-twitter.com/uwt.js\"></script></svg>",
	"<video src=\"/v.mp4\" poster=\"https://alb.reddit.com/snta?id=t2_abc123\"\x00></video>",
	"<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};t=b.createElement(e);t.async=!0;\x00t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','123456789012345');</script>",
	"<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;\x00j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-FUZZ123');</script>",
	"<object data=\"https://sslwidget.criteo.com/event?a=12345&amp;v=5\"\x00></object>",
	"<embed\x00 src=\"https://bat.bing.com/action/0?ti=5555555&amp;Ver=2\">",
	"<base href=\"https://www.googletagmanager.com/\"\x00><script async src=\"gtm.js?id=GTM-BASE123\"></script>",
	"<script src=\"https:\\\\connect.facebook.net\\en_US\\fbevents.js\"\x00></script>",
	"<script src=\"https://cdn.shop.example@connect.facebook.net/en_US/fbevents.js\"\x00></script>",
	"<input type=\"image\"\x00 src=\"https://www.facebook.com/tr?id=1&amp;ev=Input\">",
	"<script type=\"module\" src=\"https://cdn.amplitude.com/script/abc123.js\"\x00></script>",
	"<script src=\"https://static.hot&Tab;jar.com/c/hotjar-3456789.js\"\x00></script>",
	"<img src=\"https://ｐｘ.ads.linkedin.com/collect/?pid=1\"\x00 alt=\"\">",
	"<script>var s=document.createElement('script');s.src='https:\\/\\/connect.face'+'book.net\\/en_US\\/fbevents.js';\x00document.head.appendChild(s);</script>",
	// Parked loads, as page-speed tools, lazy loaders and consent tools
	// write them (testdata/pages/parked-*.html).
	"<script type=\"rocketlazyloadscript\" async data-rocket-src=\"https://www.googletagmanager.com/gtag/js?id=G-FUZZ12345\"\x00></script>",
	"<script type=\"litespeed/javascript\">(function(h,o,t,j,a,r){h._hjSettings={hjid:3456789,hjsv:6};a=o.getElementsByTagName('head')[0];r=o.createElement('script');r.async=1;\x00r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');</script>",
	"<script async data-type=\"lazy\"\x00 data-src=\"https://connect.facebook.net/en_US/fbevents.js\"></script>",
	"<script data-type=\"lazy\" data-src=\"data:text/javascript;base64,IWZ1bmN0aW9uKGYsYixlLHYsbix0LHMpe2lmKGYuZmJxKXJldHVybjtuPWYuZmJxPWZ1bmN0aW9uKCl7bi5jYWxsTWV0aG9kP24uY2FsbE1ldGhvZC5hcHBseShuLGFyZ3VtZW50cyk6bi5xdWV1ZS5wdXNoKGFyZ3VtZW50cyl9O3Q9Yi5jcmVhdGVFbGVtZW50KGUpO3QuYXN5bmM9ITA7dC5zcmM9djtzPWIuZ2V0RWxlbWVudHNCeVRhZ05hbWUoZSlbMF07cy5wYXJlbnROb2RlLmluc2VydEJlZm9yZSh0LHMpfSh3aW5kb3csZG9jdW1lbnQsJ3NjcmlwdCcsJ2h0dHBzOi8vY29ubmVjdC5mYWNlYm9vay5uZXQvZW5fVVMvZmJldmVudHMuanMnKTtmYnEoJ2luaXQnLCcxMjM0NTY3ODkwMTIzNDUnKTs=\"\x00></script>",
	"<script type=\"pmdelayedscript\" data-perfmatters-type=\"text/javascript\" data-cfasync=\"false\"\x00 src=\"https://www.clarity.ms/tag/k3xq9abcde\"></script>",
	"<script type=\"text/plain\" data-category=\"analytics\"\x00 data-src=\"https://www.clarity.ms/tag/k3xq9abcde\"></script>",
	"<script type=\"text/partytown\">!function(f,b,e,v,n,t,s){t=b.createElement(e);t.async=!0;\x00t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');</script>",
	"<script type=\"7d0fa10a4b6c1e2f93a85d11-text/javascript\" async src=\"https://www.googletagmanager.com/gtag/js?id=G-FUZZ12345\"\x00></script>",
	"<img src=\"/img/ph.svg\" data-lazy-src=\"https://px.ads.linkedin.com/collect/?pid=1234567&amp;fmt=gif\"\x00 alt=\"\">",
	"<img class=\"lazyload\" data-srcset=\"/img/a.png 1x,\x00 https://www.facebook.com/tr?id=1&amp;ev=PageView 2x\" alt=\"\">",
	"<div class=\"rocket-lazyload\" data-bg=\"url('https://www.facebook.com/tr?id=1&amp;ev=PageView')\"\x00>x</div>",
	"<div class=\"lozad\" data-background-image=\"https://www.facebook.com/tr?id=1&amp;ev=ViewContent\">\x00</div>",
	"<iframe class=\"lazyload\" data-src=\"https://www.googletagmanager.com/ns.html?id=GTM-FUZZ123\"\x00></iframe>",
}

// fetchable reports whether a browser would send a request for the item:
// inline scripts run, and URLs load over http(s) only. The independent table
// matches hosts whatever the scheme, so without this "a://facebook.com/tr"
// (an unknown scheme: the fetch fails without a request) would count as a
// Meta pixel. The rules' own verdict is still checked for every item.
func fetchable(it loadItem) bool {
	return it.script || strings.HasPrefix(it.abs, "https:") || strings.HasPrefix(it.abs, "http:")
}

// fuzzHeader is the layout of the input's first bytes; the rest is markup.
const (
	fzState = iota // granted categories: bit 0 functional, 1 analytics, 2 advertising
	fzElem         // tracker element, modulo len(fuzzTrackers)
	fzFlags        // bit 0 Defer mode, bit 1 splice the middle part inside the element
	fzChunk        // chunking seed and maximum chunk size
	fzCut1         // length of the part before the element (modulo)
	fzCut2         // length of the middle part (modulo)
	fzHeader
)

// fuzzSeed builds an input whose markup parts are exactly pre, mid and post.
func fuzzSeed(state, elem, flags, chunk byte, pre, mid, post string) []byte {
	if len(pre) > 255 || len(mid) > 255 {
		panic("seed part too long")
	}
	h := []byte{state, elem, flags, chunk, byte(len(pre)), byte(len(mid))}
	return append(h, pre+mid+post...)
}

// fuzzDoc splits data into the test's parameters and the document.
func fuzzDoc(data []byte) (granted [3]bool, mode htmlfilter.Mode, chunk byte, doc []byte, ok bool) {
	if len(data) < fzHeader {
		return granted, 0, 0, nil, false
	}
	for i := range granted {
		granted[i] = data[fzState]&(1<<i) != 0
	}
	if data[fzFlags]&1 != 0 {
		mode = htmlfilter.Defer
	}
	m := data[fzHeader:]
	c1 := int(data[fzCut1]) % (len(m) + 1)
	c2 := c1 + int(data[fzCut2])%(len(m)-c1+1)
	pre, mid, post := m[:c1], m[c1:c2], m[c2:]
	el := fuzzTrackers[int(data[fzElem])%len(fuzzTrackers)]
	before, after, _ := strings.Cut(el, "\x00")
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html><html><head><title>Fuzz</title></head><body>")
	b.Write(pre)
	if data[fzFlags]&2 != 0 {
		b.WriteString(before)
		b.Write(mid)
		b.WriteString(after)
	} else {
		b.Write(mid)
		b.WriteString(before)
		b.WriteString(after)
	}
	b.Write(post)
	b.WriteString(`<img src="/img/control.png" alt="control"></body></html>`)
	return granted, mode, data[fzChunk], b.Bytes(), true
}

// schemeBackslash finds "https:" followed by one or two backslashes and a
// letter in script source. The string value then holds at most one
// backslash there (in JS "\\c" is one backslash and "\c" is "c"), which
// WHATWG URL reads as a path relative to the page (relative slash state):
// nothing loads from the host named after it, while the table, which only
// looks for host substrings, would demand its removal (the rules remove it
// anyway: on an http: page the same value does load the host). Four
// backslashes (two in the value) load on any page, and are not excused.
var schemeBackslash = regexp.MustCompile(`(?i)https?:\\{1,2}[a-z]`)

func FuzzFilterRules(f *testing.F) {
	none, all := byte(0), byte(7)
	seeds := []struct {
		state, elem, flags byte
		pre, mid, post     string
	}{
		{none, 0, 0, "", "", ""},
		{none, 1, 2, "<p>", " data-x=1", "</p>"},
		{all, 2, 0, "<div>", "", "</div>"},
		{3, 3, 2, "", "<b>x</b>", ""},
		{none, 2, 0, "<svg><style>", "", "</style></svg>"},
		{none, 2, 0, "<math><mtext><mglyph><style>", "", "</style></mglyph></mtext></math>"},
		{none, 3, 0, "<svg><foreignObject><math><style>", "", "</style></math></foreignObject></svg>"},
		{none, 2, 0, "<![CDATA[>", "", "]]>"},
		{none, 5, 0, "<noscript><p title=\"", "\">", "</noscript>"},
		{none, 2, 0, "<noscript><!-- </noscript>", "", "--></noscript>"},
		{none, 0, 0, "<!-->", "", ""},
		{none, 1, 0, "<!--->", "", ""},
		{none, 9, 0, "<!-- x --!>", "", ""},
		{none, 2, 0, "<template shadowrootmode=\"open\">", "", "</template>"},
		{none, 1, 2, "", "/src=\"/js/a.js\"", ""},
		{none, 10, 2, "<script><!--<script>", "</script>", "--></script>"},
		{none, 10, 2, "", "/*</script><img src=https://www.facebook.com/tr?id=1>*/", ""},
		{none, 2, 2, "", "&#0000104", ""},
		{none, 2, 0, "<table>", "", "<tr><td>x</td></tr></table>"},
		{none, 14, 2, "", " target=_top", ""},
		{none, 16, 0, "<textarea>", "</textarea\n>", ""},
		{none, 6, 2, "", " rel=\" PRELOAD \"", ""},
		{none, 19, 0, "<ſcript>", "", "</ſcript>"},
		{none, 8, 2, "", "<style><img src=\"https://alb.reddit.com/snta?id=1\"></style>", ""},
		{5, 4, 3, "<select>", "", "</select>"},
		{none, 21, 2, "", "'+'", ""},
		{none, 11, 2, "<title>", "</title/>", ""},
		{6, 12, 1, "<object>", "", "</object>"},
		{none, 2, 0, "<select><style>", "</select>", "</style></select>"},
		{none, 3, 0, "<select><iframe>", "</select>", "</iframe>"},
		{2, 0, 2, "", "0><imgs rC\xe9\"A)))AlB.reddit.Com/0?0\">00", ""},
	}
	for i, s := range seeds {
		f.Add(fuzzSeed(s.state, s.elem, s.flags, byte(i*37+1), s.pre, s.mid, s.post))
	}
	rs := rules.Default()
	cat := func(id string) rules.Category {
		c, ok := rs.CategoryByID(id)
		if !ok {
			f.Fatalf("no category %q in the default rules", id)
		}
		return c
	}
	ids := [3]string{"functional", "analytics", "advertising"}
	cats := [3]rules.Category{cat(ids[0]), cat(ids[1]), cat(ids[2])}
	necessary := cat("necessary")

	f.Fuzz(func(t *testing.T, data []byte) {
		g, mode, chunk, doc, ok := fuzzDoc(data)
		if !ok {
			return
		}
		st := consentState{name: "fuzz", set: rules.Set(0).With(necessary), granted: map[string]bool{"necessary": true}}
		for i, on := range g {
			if on {
				st.set = st.set.With(cats[i])
				st.granted[ids[i]] = true
			}
		}
		out, err := runFilter(rs, st, mode, nil, doc)
		if err != nil {
			t.Fatalf("filter: %v", err)
		}
		rng := rand.New(rand.NewPCG(uint64(chunk), uint64(len(doc))))
		maxChunk := 1 + int(chunk)%64
		chunked, err := runFilter(rs, st, mode, func(int) int { return 1 + rng.IntN(maxChunk) }, doc)
		if err != nil {
			t.Fatalf("chunked filter: %v", err)
		}
		if !bytes.Equal(chunked, out) {
			d := firstDiff(out, chunked)
			t.Fatalf("chunked output differs at byte %d:\n one-shot: %q\n  chunked: %q\ninput: %q", d, around(out, d), around(chunked, d), doc)
		}
		again, err := runFilter(rs, st, mode, nil, out)
		if err != nil {
			t.Fatalf("refilter: %v", err)
		}
		if !bytes.Equal(again, out) {
			d := firstDiff(out, again)
			t.Fatalf("not idempotent at byte %d:\n   first: %q\n  second: %q\ninput: %q", d, around(out, d), around(again, d), doc)
		}
		// The output as parsed today, and with the earlier select parsing
		// of other browsers (selectLegacy).
		readings := [][]byte{out}
		if legacy := selectLegacy(out); legacy != nil {
			readings = append(readings, legacy)
		}
		for ri, read := range readings {
			for _, scripting := range []bool{true, false} {
				info, err := analyse(read, scripting)
				if err != nil {
					// x/net/html refuses trees deeper than 512 elements; such
					// inputs are TestHardening's limits cases.
					return
				}
				j := judge(rs, info, st, mode)
				for i, it := range info.items {
					if v := j.rulesBlk[i]; v.Block {
						t.Errorf("%s, reading %d, scripting %v: still loads %s: rules block it (vendor %q, category %q)\ninput:  %q\noutput: %q", mode, ri, scripting, it, v.Vendor, v.Category, doc, out)
					} else if r := j.required[i]; r != "" && fetchable(it) && !(it.script && schemeBackslash.MatchString(it.text)) {
						t.Errorf("%s, reading %d, scripting %v: still loads %s: independent table: %s\ninput:  %q\noutput: %q", mode, ri, scripting, it, r, doc, out)
					}
				}
			}
		}
	})
}
