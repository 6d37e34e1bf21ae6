package rules_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// inlineScripts returns the text of every inline script of doc that runs
// (defer mode's text/plain ones do not), in order.
func inlineScripts(t *testing.T, doc []byte) []string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			typ, _ := getAttr(n, "type")
			if _, src := getAttr(n, "src"); !src && (typ == "" || typ == "module") {
				out = append(out, textOf(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return out
}

// flightPush reads a Next.js flight push, self.__next_f.push([1,"rows"]),
// as the framework does: its argument is a JSON array whose string holds
// rows "id:payload\n"; each payload that is not an import or a hint (I, HL)
// is JSON. It returns the row ids.
func flightPush(t *testing.T, s string) []string {
	t.Helper()
	arg, ok := strings.CutPrefix(s, "self.__next_f.push(")
	if !ok {
		return nil
	}
	var push []any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(arg, ")")), &push); err != nil {
		t.Fatalf("flight push does not parse: %v\n%s", err, s)
	}
	if len(push) != 2 {
		return nil
	}
	var ids []string
	for row := range strings.SplitSeq(strings.TrimSuffix(push[1].(string), "\n"), "\n") {
		id, payload, _ := strings.Cut(row, ":")
		ids = append(ids, id)
		if strings.HasPrefix(payload, "I[") || strings.HasPrefix(payload, "HL[") || strings.HasPrefix(payload, `"$S`) {
			continue
		}
		if !json.Valid([]byte(payload)) {
			t.Errorf("flight row %s does not parse: %s", id, payload)
		}
	}
	return ids
}

var remixContext = regexp.MustCompile(`^window\.__remixContext = (.*);$`)

// TestFrameworkPages: the hydration payloads of a Next.js, a Nuxt and a
// Remix page, whose articles quote tracker URLs and calls, come through for
// a visitor who granted nothing, still readable as the framework reads them;
// the one flight row that makes the client load the Google tag goes.
func TestFrameworkPages(t *testing.T) {
	rs := rules.Default()
	nec, _ := rs.CategoryByID("necessary")
	st := consentState{name: "none", set: rules.Set(0).With(nec), granted: map[string]bool{"necessary": true}}
	for _, name := range []string{"framework-nextjs", "framework-nuxt", "framework-remix"} {
		in, err := os.ReadFile(filepath.Join("..", "testdata", "pages", name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []htmlfilter.Mode{htmlfilter.Strip, htmlfilter.Defer} {
			out, err := runFilter(rs, st, mode, nil, in)
			if err != nil {
				t.Fatal(err)
			}
			before, after := inlineScripts(t, in), inlineScripts(t, out)
			var kept []string
			for _, s := range before {
				switch {
				case strings.Contains(s, "googletagmanager.com/gtag/js?id=G-ABC123XYZ"):
					// The <Script src> row: it goes.
				default:
					kept = append(kept, s)
				}
			}
			if strings.Join(after, "\x00") != strings.Join(kept, "\x00") {
				t.Errorf("%s, %v: inline scripts\n got %q\nwant %q", name, mode, after, kept)
				continue
			}
			var rows []string
			for _, s := range after {
				rows = append(rows, flightPush(t, s)...)
				if m := remixContext.FindStringSubmatch(s); m != nil && !json.Valid([]byte(m[1])) {
					t.Errorf("%s: window.__remixContext does not parse", name)
				}
			}
			if name == "framework-nextjs" && strings.Join(rows, ",") != "1,2,3,5,7,a,c,e,,0,8,b" {
				t.Errorf("%s, %v: flight rows %v", name, mode, rows)
			}
		}
	}
}
