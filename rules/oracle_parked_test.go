package rules_test

// The oracle's reading of parked loads: markup that loads nothing as the
// browser reads it, but that a page-speed tool's or a consent tool's runtime
// turns into a load (WP Rocket's type="rocketlazyloadscript" with
// data-rocket-src, LiteSpeed's type="litespeed/javascript", Flying Scripts'
// data-type="lazy" data-src, lazysizes' data-src and data-srcset, a consent
// tool's type="text/plain"). Written from the rules the filter is held to,
// not from its code:
//   - a <script> whose type is not JavaScript, JSON, a template, an import
//     map or speculation rules is parked: its src and its text (unless the
//     text is JSON) are what it loads once revived;
//   - a data-* attribute whose name (after "data-", at most 48 bytes in all)
//     holds src, href, url, bg, background, poster, original or lazy is a
//     parked URL: a srcset when the name holds srcset or bgset, CSS when the
//     value holds url(...);
//   - a data: URL of a JavaScript type that a script loads (Flying Scripts
//     and Perfmatters park inline scripts so) is read as script text.
//
// In Defer mode an element parked under Defer mode's own label for its
// category (type="text/plain" data-category=<category> first on a script,
// data-category=<category> first on any other element) waits for that
// consent: it may stay.

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// parkedURLWords are the words whose presence in a data-* name makes it a
// parked URL (data-src, data-lazy-srcset, data-rocket-src, data-bg,
// data-background-image, data-original, ...).
var parkedURLWords = []string{"src", "href", "url", "bg", "background", "poster", "original", "lazy"}

// parkedURLAttr reports whether an attribute name (lowercase, as the parser
// gives it) is a parked URL.
func parkedURLAttr(name string) bool {
	rest, ok := strings.CutPrefix(name, "data-")
	if !ok || rest == "" || len(name) > 48 {
		return false
	}
	for _, w := range parkedURLWords {
		if strings.Contains(rest, w) {
			return true
		}
	}
	return false
}

// parkedScript reports whether an HTML script is parked: HTML's "prepare the
// script element" runs nothing of it (executable), and its type is not one
// whose text client code reads as data or as a template.
func parkedScript(n *html.Node) bool {
	if run, _ := executable(n); run {
		return false
	}
	typ, ok := getAttr(n, "type")
	if !ok {
		return true // a language attribute that names no JavaScript
	}
	t := strings.ToLower(strings.Trim(typ, " \t\n\f\r"))
	if t == "importmap" || t == "speculationrules" {
		return false
	}
	essence, _, _ := strings.Cut(t, ";")
	essence = strings.Trim(essence, " \t\n\f\r")
	switch {
	case essence == "application/json", essence == "text/json", strings.HasSuffix(essence, "+json"):
		return false
	case essence == "text/html":
		return false
	}
	for _, w := range []string{"template", "tmpl", "handlebars", "mustache"} {
		if strings.Contains(t, w) {
			return false
		}
	}
	return true
}

// deferLabel returns the category an element is parked under in Defer
// mode's convention, or "". A script of any namespace takes the script
// form: a consent tool finds it by the selector script[data-category],
// which matches a MathML or SVG script too, and revives it as an HTML one.
func deferLabel(n *html.Node) string {
	a := n.Attr
	if n.Data == "script" {
		if len(a) < 2 || a[0].Key != "type" || a[0].Val != "text/plain" {
			return ""
		}
		a = a[1:]
	}
	if len(a) == 0 || a[0].Key != "data-category" {
		return ""
	}
	return a[0].Val
}

// readParked appends to info the parked loads of element n. addURL is
// analyse's: it appends one URL item.
func readParked(info *docInfo, n *html.Node, addURL func(n *html.Node, attr, val, raw string)) {
	script := n.Namespace == "" && n.Data == "script"
	scriptURL := func(attr, v string) {
		before := len(info.items)
		addURL(n, attr, v, v)
		if len(info.items) == before {
			return // an empty URL loads nothing
		}
		if text, ok := dataScript(info.items[before].abs); ok && strings.TrimSpace(text) != "" {
			info.items = append(info.items, loadItem{el: n, script: true, text: text})
		}
	}
	for _, a := range n.Attr {
		if a.Namespace != "" || !parkedURLAttr(a.Key) || strings.Trim(a.Val, " \t\n\f\r") == "" {
			continue
		}
		switch {
		case strings.Contains(a.Key, "srcset") || strings.Contains(a.Key, "bgset"):
			for _, u := range srcsetURLs(a.Val) {
				addURL(n, a.Key, a.Val, u)
			}
		case strings.Contains(a.Val, "(") && oracleCSSURL.MatchString(a.Val):
			for _, m := range oracleCSSURL.FindAllStringSubmatch(a.Val, -1) {
				addURL(n, a.Key, a.Val, m[1]+m[2]+m[3])
			}
		case script:
			scriptURL(a.Key, a.Val)
		default:
			addURL(n, a.Key, a.Val, a.Val)
		}
	}
	if !script {
		return
	}
	src, hasSrc := getAttr(n, "src")
	switch {
	case hasSrc && parkedScript(n):
		scriptURL("src", src)
	case hasSrc && strings.HasPrefix(strings.ToLower(strings.TrimSpace(src)), "data:"):
		// A running script's data: URL: analyse lists the URL, this
		// its text.
		if text, ok := dataScript(strings.TrimSpace(src)); ok && strings.TrimSpace(text) != "" {
			info.items = append(info.items, loadItem{el: n, script: true, text: text})
		}
	case !hasSrc && parkedScript(n):
		if t := textOf(n); strings.TrimSpace(t) != "" && !json.Valid([]byte(t)) {
			info.items = append(info.items, loadItem{el: n, script: true, text: t})
		}
	}
}

// dataScript decodes a data: URL whose type is JavaScript (or unset, which
// a script loads as JavaScript too): its body is the text the script runs.
func dataScript(u string) (string, bool) {
	rest, ok := cutPrefixFold(u, "data:")
	if !ok {
		return "", false
	}
	meta, body, ok := strings.Cut(rest, ",")
	if !ok {
		return "", false
	}
	params := strings.Split(strings.ToLower(meta), ";")
	if mime := strings.TrimSpace(params[0]); mime != "" && !jsMIME[mime] {
		return "", false
	}
	body, err := url.PathUnescape(body)
	if err != nil {
		return "", false
	}
	if strings.TrimSpace(params[len(params)-1]) == "base64" {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	return body, true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// waits reports whether a parked item, in Defer mode's output, is parked
// under the label of the category its load is denied for: Defer keeps it
// for the consent tool to revive on that consent.
func waits(it loadItem, category string) bool {
	return it.parked && category != "" && it.label == category
}
