package rules_test

import (
	"bytes"

	"golang.org/x/net/html"
)

// selectLegacy rewrites doc into what WebKit (every browser on iOS),
// Firefox ESR and Chromium before 135 parse, for the one difference that
// matters here: HTML's former "in select" insertion mode ignored the start
// tags of style, title, xmp, iframe, noembed, noframes and noscript (and
// left select at input, keygen and textarea), so their content was markup:
// "<select><style></select><img src>" loads the img there, while
// x/net/html, like Chromium 135 and later, reads a style element. Dropping
// those start tags inside an open select gives the earlier reading to a
// parser of the current one. The oracle checks both readings of the output.
func selectLegacy(doc []byte) []byte {
	if !bytes.Contains(bytes.ToLower(doc), []byte("<select")) {
		return nil
	}
	z := html.NewTokenizer(bytes.NewReader(doc))
	var out bytes.Buffer
	inSelect := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes()
		}
		raw := z.Raw()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "select":
				inSelect = true
			case "input", "keygen", "textarea":
				inSelect = false
			case "style", "title", "xmp", "iframe", "noembed", "noframes", "noscript":
				if inSelect {
					z.NextIsNotRawText()
					continue
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "select" {
				inSelect = false
			}
		}
		out.Write(raw)
	}
}
