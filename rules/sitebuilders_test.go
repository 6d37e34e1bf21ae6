package rules

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestSiteBuilderAssetsNotUnclassified: a site built on a site builder
// loads the platform's own scripts from the platform's CDN, another site
// than the page's. With `unclassified advertising` and nothing granted,
// those stay (43-site-builders.rules names them necessary), while an
// unnamed tracker beside them goes.
func TestSiteBuilderAssetsNotUnclassified(t *testing.T) {
	page := `<!DOCTYPE html><html><head>
<script defer src="https://static1.squarespace.com/static/vta/5c5a519771c10ba3470d8101/scripts/site-bundle.7b1f0e2d3c4b5a69.js"></script>
<script src="https://cdn.unknown-tracker.example/t.js"></script>
</head><body>
<img src="https://static.wixstatic.com/media/8f7e6d_0a1b2c3d~mv2.jpg/v1/fill/w_980,h_551/loaves.jpg" width="1" height="1" alt="">
</body></html>`
	var out bytes.Buffer
	p := Default().NewClassifier("https://www.clayandkiln.example/", 0)
	p.Unclassify(Advertising)
	f := htmlfilter.New(&out, p, htmlfilter.Options{})
	f.Write([]byte(page))
	f.Close()
	for _, h := range []string{"static1.squarespace.com", "static.wixstatic.com"} {
		if !strings.Contains(out.String(), h) {
			t.Errorf("the site builder's asset host %s went as unclassified", h)
		}
	}
	if strings.Contains(out.String(), "cdn.unknown-tracker.example") {
		t.Error("the unnamed tracker stayed: the test does not unclassify")
	}
}
