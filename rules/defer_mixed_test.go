package rules_test

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestDeferLabelCoversEveryCategory: Defer mode parks a blocked script
// under one data-category, and the consent tool revives it when that one
// category is granted. A script that loads trackers of two categories
// (Hotjar, analytics, beside a Meta pixel URL, advertising) must then not
// be revived by either consent alone: whatever label it gets, granting
// that category alone must leave nothing of the script blocked.
// FuzzFilterRules found it: the script is labelled "advertising" and
// loads Hotjar once a visitor accepts advertising only.
func TestDeferLabelCoversEveryCategory(t *testing.T) {
	rs := rules.Default()
	const page = `<script>(function(h,o,t,j,a,r){h._hjSettings={hjid:3456789,hjsv:6};a=o.getElementsByTagName('head')[0];` +
		`r=o.createElement('script');r.async=1;r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);` +
		`new Image().src='https://www.facebook.com/tr?id=123456789012345&ev=PageView';` +
		`})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');</script><p>x</p>`
	none := rules.Set(0).With(rules.Necessary)
	var out bytes.Buffer
	f := htmlfilter.New(&out, rs.NewClassifier(oraclePageURL, none), htmlfilter.Options{Mode: htmlfilter.Defer})
	f.Write([]byte(page))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			if id := deferLabel(n); id != "" {
				c, ok := rs.CategoryByID(id)
				if !ok {
					t.Errorf("label %q names no category", id)
					return
				}
				text := textOf(n)
				if v := rs.NewClassifier(oraclePageURL, none.With(c)).Script([]byte(text)); v.Block {
					t.Errorf("parked under %q, revived on that consent alone it still loads %s (%s): %.80s",
						id, v.Vendor, v.Category, strings.TrimSpace(text))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
}
