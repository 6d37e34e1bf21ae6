package htmlfilter

import (
	"bytes"
	"strings"
	"testing"
)

// filterXML runs src through a filter with Options.XML, in chunks of n bytes
// (0: one write).
func filterXML(src string, n int) string {
	var out bytes.Buffer
	f := New(&out, &toy{}, Options{Mode: Defer, XML: true, MaxBuffer: 1 << 10})
	b := []byte(src)
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 {
		m := min(n, len(b))
		f.Write(b[:m])
		b = b[m:]
	}
	f.Close()
	return out.String()
}

// TestXMLReading: in an XML document a blocked element goes exactly as far
// as XML reads it, and nothing of the rest of the document with it.
func TestXMLReading(t *testing.T) {
	const xhtml = `<html xmlns="http://www.w3.org/1999/xhtml"><head>`
	for _, tc := range []struct{ name, in, want string }{
		{"entity that expands to a tracker URL",
			`<?xml version="1.0"?><!DOCTYPE html [<!ENTITY t "https://tracker.example/p">]>` + xhtml + `</head><body><img src="&t;"/></body></html>`,
			`<?xml version="1.0"?><!DOCTYPE html []>` + xhtml + `</head><body><img src="&t;"/></body></html>`},
		{"entity that expands to tracker markup, a '>' in its value",
			`<!DOCTYPE html [<!ENTITY p "<img src='https://tracker.example/p'/>"><!ENTITY c "&#169; Shop">]>` + xhtml + `</head><body><p>&p;&c;</p></body></html>`,
			`<!DOCTYPE html [<!ENTITY c "&#169; Shop">]>` + xhtml + `</head><body><p>&p;&c;</p></body></html>`},
		{"entity that expands to first-party markup",
			`<!DOCTYPE html [<!ENTITY p "<img src='/a.png'/>">]>` + xhtml + `</head><body><p>&p;</p></body></html>`,
			`<!DOCTYPE html [<!ENTITY p "<img src='/a.png'/>">]>` + xhtml + `</head><body><p>&p;</p></body></html>`},
		{"entity that expands to a tracker call in a script",
			`<!DOCTYPE html [<!ENTITY s "tracker()">]>` + xhtml + `<script>&s;</script></head></html>`,
			`<!DOCTYPE html []>` + xhtml + `<script>&s;</script></head></html>`},
		{"xml-stylesheet of a tracker",
			`<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href='https://tracker.example/s.xsl'?>` + xhtml + `</head></html>`,
			`<?xml version="1.0"?>` + xhtml + `</head></html>`},
		{"first-party xml-stylesheet and entity",
			`<?xml-stylesheet href="/s.css" type="text/css"?><!DOCTYPE html [<!ENTITY c "&#169; Shop">]>` + xhtml + `</head><body><p>&c;</p></body></html>`,
			`<?xml-stylesheet href="/s.css" type="text/css"?><!DOCTYPE html [<!ENTITY c "&#169; Shop">]>` + xhtml + `</head><body><p>&c;</p></body></html>`},
		{"self-closing tracker script",
			xhtml + `<script src="https://tracker.example/t.js"/><title>t</title></head><body><p>kept</p></body></html>`,
			xhtml + `<title>t</title></head><body><p>kept</p></body></html>`},
		{"self-closing img keeps its first-party candidates",
			xhtml + `</head><body><img src="/a.png" srcset="//tracker.example/c.png 2x, /b.png 3x"/><p>kept</p></body></html>`,
			xhtml + `</head><body><img src="/a.png" srcset="/b.png 3x"/><p>kept</p></body></html>`},
		{"self-closing benign script, then a tracker",
			xhtml + `<script src="/app.js"/><script src="https://tracker.example/t.js"/></head><body><p>kept</p></body></html>`,
			xhtml + `<script src="/app.js"/></head><body><p>kept</p></body></html>`},
		{"self-closing iframe",
			`<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://tracker.example/f"/><p>kept</p></foreignObject></svg>`,
			`<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>kept</p></foreignObject></svg>`},
		{"svg script with an end tag",
			`<svg xmlns="http://www.w3.org/2000/svg"><script href="https://tracker.example/t.js"></script><circle r="1"/></svg>`,
			`<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>`},
		{"inline script, its end tag in a CDATA section",
			xhtml + `<script><![CDATA[ tracker("</script>"); ]]></script><p>kept</p></head></html>`,
			xhtml + `<p>kept</p></head></html>`},
		{"inline script, its end tag in a comment",
			xhtml + `<script><!-- </script> -->tracker()</script><p>kept</p></head></html>`,
			xhtml + `<p>kept</p></head></html>`},
		{"benign inline script with CDATA",
			xhtml + `<script>//<![CDATA[
if (a < b) go("</script>");
//]]></script><p>kept</p></head></html>`,
			xhtml + `<script>//<![CDATA[
if (a < b) go("</script>");
//]]></script><p>kept</p></head></html>`},
		{"markup in a CDATA section is text",
			`<feed><content><![CDATA[<script src="https://tracker.example/t.js">]]></content><p>kept</p></feed>`,
			`<feed><content><![CDATA[<script src="https://tracker.example/t.js">]]></content><p>kept</p></feed>`},
		{"prefixed XHTML script",
			`<root xmlns:h="http://www.w3.org/1999/xhtml"><h:script src="https://tracker.example/t.js"></h:script><p>kept</p></root>`,
			`<root xmlns:h="http://www.w3.org/1999/xhtml"><p>kept</p></root>`},
		{"prefixed inline script ends at its prefixed end tag",
			`<root><h:script>tracker()</h:script><p>kept</p></root>`,
			`<root><p>kept</p></root>`},
		{"title content is markup",
			xhtml + `<title>t<img src="https://tracker.example/p.gif"/></title></head></html>`,
			xhtml + `<title>t</title></head></html>`},
		{"a blocked element goes with its end tag",
			`<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.gif"><desc>d</desc></image><circle r="1"/></svg>`,
			`<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>`},
		{"a name longer than the cap goes whole, up to its '>'",
			xhtml + `</head><body><p>a</p><` + strings.Repeat("h", 1100) + `:script src="/a.js"/>b</body></html>`,
			xhtml + `</head><body><p>a</p>b</body></html>`},
		{"nothing deferred",
			xhtml + `<script src="https://stats.example/s.js"></script></head></html>`,
			xhtml + `</head></html>`},
	} {
		for _, n := range []int{0, 1, 3, 7} {
			if got := filterXML(tc.in, n); got != tc.want {
				t.Errorf("%s (chunks of %d):\n got %s\nwant %s", tc.name, n, got, tc.want)
			}
		}
	}
}

// TestXMLOffByDefault: without XML the same bytes are read as HTML, where
// "/>" closes nothing.
func TestXMLOffByDefault(t *testing.T) {
	got, _ := filter(`<script src="https://tracker.example/t.js"/><p>in the script</p></script><p>after</p>`, Strip, 0)
	if strings.Contains(got, "in the script") || !strings.Contains(got, "after") {
		t.Errorf("HTML reading changed: %s", got)
	}
}

// FuzzXMLChunks: the XML reading never panics and reads a document the
// same in any chunking.
func FuzzXMLChunks(f *testing.F) {
	f.Add(`<svg xmlns="http://www.w3.org/2000/svg"><script href="https://tracker.example/t.js"/><circle r="1"/></svg>`, 3)
	f.Add(`<h:script><![CDATA[ tracker("</h:script>") ]]><!-- </script> --></h:script><p>x</p>`, 2)
	f.Add(`<iframe src="https://tracker.example/f"><iframe/></iframe><x/>`, 5)
	f.Fuzz(func(t *testing.T, doc string, n int) {
		n = 1 + abs(n)%16
		if whole, chunked := filterXML(doc, 0), filterXML(doc, n); whole != chunked {
			t.Errorf("chunks of %d differ:\n%q\n%q", n, whole, chunked)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
