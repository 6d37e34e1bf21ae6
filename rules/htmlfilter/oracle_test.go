package htmlfilter

import (
	"fmt"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// leaks parses doc as a browser would, with scripting on and off, and lists
// every element that would load or run something the toy policy blocks.
// It is the scanner's oracle: an independent, spec-complete parser.
func leaks(doc string) []string {
	var found []string
	for _, scripting := range []bool{true, false} {
		root, err := html.ParseWithOptions(strings.NewReader(doc), html.ParseOptionEnableScripting(scripting))
		if err != nil {
			return []string{"parse error: " + err.Error()}
		}
		base := ""
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				for _, u := range loadingURLs(n, &base) {
					if v := (&toy{base: base}).URL([]byte(u)); v.Block {
						found = append(found, fmt.Sprintf("scripting=%v <%s> %q", scripting, n.Data, u))
					}
				}
				if text, ok := inlineScript(n); ok {
					if v := classify(strings.ToLower(text)); v.Block {
						found = append(found, fmt.Sprintf("scripting=%v inline <%s> %q", scripting, n.Data, text))
					}
				}
				if n.DataAtom == atom.Iframe {
					if doc, ok := getAttr(n, "srcdoc"); ok {
						for _, l := range leaks(doc) {
							found = append(found, "srcdoc: "+l)
						}
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(root)
	}
	return found
}

func getAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" || a.Namespace != "" && a.Namespace+":"+a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// loadingURLs lists the URLs element n fetches.
func loadingURLs(n *html.Node, base *string) []string {
	var names []string
	switch n.Data {
	case "script":
		if n.Namespace == "svg" {
			names = []string{"href", "xlink:href"}
		} else if exec, _ := isExecScript(n); exec {
			names = []string{"src"}
		}
	case "img":
		names = []string{"src", "srcset"}
	case "image":
		names = []string{"href", "xlink:href"}
	case "source":
		names = []string{"src", "srcset"}
	case "video":
		names = []string{"src", "poster"}
	case "audio", "track", "embed", "input":
		names = []string{"src"}
	case "object":
		names = []string{"data"}
	case "iframe", "frame":
		names = []string{"src"}
	case "link":
		names = []string{"href", "imagesrcset"}
	case "base":
		if *base == "" {
			if h, ok := getAttr(n, "href"); ok {
				*base = strings.ToLower(h)
			}
		}
	}
	var urls []string
	for _, name := range names {
		v, ok := getAttr(n, name)
		if !ok {
			continue
		}
		if name == "srcset" || name == "imagesrcset" {
			for _, c := range strings.Split(v, ",") {
				if fs := strings.Fields(c); len(fs) > 0 {
					urls = append(urls, fs[0])
				}
			}
			continue
		}
		urls = append(urls, v)
	}
	return urls
}

func isExecScript(n *html.Node) (exec, data bool) {
	t, ok := getAttr(n, "type")
	if !ok {
		if l, ok := getAttr(n, "language"); ok && l != "" {
			return strings.Contains(strings.ToLower(l), "script"), false
		}
		return true, false
	}
	t = strings.ToLower(strings.Trim(t, " \t\n\f\r"))
	switch {
	case t == "", t == "module", strings.Contains(t, "javascript"), strings.Contains(t, "ecmascript"),
		t == "text/jscript", t == "text/livescript":
		return true, false
	case t == "importmap", t == "speculationrules":
		return false, true
	}
	return false, false
}

// inlineScript returns the text an element runs: an executable HTML script
// without src, or an SVG script.
func inlineScript(n *html.Node) (string, bool) {
	if n.Data != "script" {
		return "", false
	}
	exec, data := isExecScript(n)
	if n.Namespace == "" {
		if _, src := getAttr(n, "src"); src || !exec && !data {
			return "", false
		}
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String(), true
}
