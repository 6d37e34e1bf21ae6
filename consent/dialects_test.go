package consent

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func deferWith(t *testing.T, tool string, m *NameMap, page string) string {
	t.Helper()
	r := defaultReader()
	dl, err := r.DeferDialect(tool, m)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	f := htmlfilter.New(&out, r.rules.NewClassifier("https://shop.example/", 0), htmlfilter.Options{Mode: htmlfilter.Defer, Dialect: dl})
	if _, err := f.Write([]byte(page)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestDeferDialects(t *testing.T) {
	const (
		gaSrc  = `<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`
		module = `<script type="module" src="https://connect.facebook.net/x.js"></script>`
		inline = `<script nonce="r4nd0m">fbq('init','1');</script>`
		frame  = `<iframe class="ad" src="https://td.doubleclick.net/td/x"></iframe>`
		pixel  = `<img src="https://www.facebook.com/tr?id=1">`
	)
	klaroMap, err := defaultReader().ParseNameMap(map[string]string{"GA4": "google-analytics", "stats": "analytics"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tool string
		m    *NameMap
		in   string
		want string
	}{
		{SourceCookieConsent, nil, gaSrc, `<script type="text/plain" data-category="analytics" async data-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
		{SourceCookieConsent, defaultReader().NewNameMap(map[string]rules.Category{"marketing": rules.Advertising}), inline, `<script type="text/plain" data-category="marketing" nonce="r4nd0m">fbq('init','1');</script>`},
		// cookieconsent revives scripts only: the rest is stripped.
		{SourceCookieConsent, nil, pixel, ``},
		{SourceCookieConsent, nil, frame, ``},
		{SourceOneTrust, nil, pixel, ``},
		{SourceCookieYes, nil, frame, ``},
		{SourceKlaro, nil, pixel, `<img data-name="facebook" data-src="https://www.facebook.com/tr?id=1">`},
		{SourceCookiebot, nil, pixel, `<img data-cookieconsent="marketing" data-cookieblock-src="https://www.facebook.com/tr?id=1">`},
		{SourceKlaro, nil, gaSrc, `<script type="text/plain" data-type="text/javascript" data-name="google-analytics" async data-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
		{SourceKlaro, nil, module, `<script type="text/plain" data-name="facebook" data-type="module" data-src="https://connect.facebook.net/x.js"></script>`},
		{SourceKlaro, nil, frame, `<iframe data-name="google-ads" class="ad" data-src="https://td.doubleclick.net/td/x"></iframe>`},
		// Klaro matches data-name case-sensitively: the operator's name as written.
		{SourceKlaro, klaroMap, gaSrc, `<script type="text/plain" data-type="text/javascript" data-name="GA4" async data-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
		{SourceCookiebot, nil, gaSrc, `<script type="text/plain" data-cookieconsent="statistics" async data-cookieblock-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
		{SourceCookiebot, nil, inline, `<script type="text/plain" data-cookieconsent="marketing" nonce="r4nd0m">fbq('init','1');</script>`},
		{SourceCookiebot, nil, frame, `<iframe data-cookieconsent="marketing" class="ad" data-cookieblock-src="https://td.doubleclick.net/td/x"></iframe>`},
		{SourceOneTrust, nil, gaSrc, `<script type="text/plain" class="optanon-category-C0002" async data-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
		{SourceOneTrust, defaultReader().NewNameMap(map[string]rules.Category{"C0005": rules.Advertising, "C0004": rules.Advertising}), inline, `<script type="text/plain" class="optanon-category-C0004" nonce="r4nd0m">fbq('init','1');</script>`},
		{SourceCookieYes, nil, inline, `<script type="text/plain" data-cookieyes="cookieyes-advertisement" nonce="r4nd0m">fbq('init','1');</script>`},
		{SourceCookieYes, nil, gaSrc, `<script type="text/plain" data-cookieyes="cookieyes-analytics" async data-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>`},
	} {
		got := deferWith(t, tt.tool, tt.m, tt.in)
		if got != tt.want {
			t.Errorf("%s: %s\n got %s\nwant %s", tt.tool, tt.in, got, tt.want)
		}
		// Inert as a browser reads it: no script of a runnable type, no
		// loading attribute.
		doc, err := html.Parse(strings.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			for _, a := range n.Attr {
				if a.Key == "src" || a.Key == "srcset" {
					t.Errorf("%s: %s still has %s", tt.tool, got, a.Key)
				}
				if n.Data == "script" && a.Key == "type" && a.Val != "text/plain" {
					t.Errorf("%s: %s runs as %s", tt.tool, got, a.Val)
				}
			}
		}
	}
	if _, err := defaultReader().DeferDialect("didomi", nil); err == nil {
		t.Error("unknown tool accepted")
	}
}

// TestDeferMixedPerTool: a script of two denied categories is deferred only
// for a tool that runs it once every label is granted (Cookiebot, listing
// them comma-separated); for the others it goes.
func TestDeferMixedPerTool(t *testing.T) {
	rs := rules.Default()
	const page = `<script>gtag('config','G-ABCDEF1234');var s=document.createElement('script');` +
		`s.src='https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234';document.head.appendChild(s);` +
		`new Image().src='https://www.facebook.com/tr?id=123456789012345&ev=PageView';</script><p>x</p>`
	none := rules.Set(0).With(rules.Necessary)
	for _, tt := range []struct{ tool, want string }{
		{SourceCookiebot, `<script type="text/plain" data-cookieconsent="statistics, marketing">gtag(`},
		{SourceCookieConsent, `<p>x</p>`},
		{SourceKlaro, `<p>x</p>`},
		{SourceOneTrust, `<p>x</p>`},
		{SourceCookieYes, `<p>x</p>`},
	} {
		d, err := NewReader(rs).DeferDialect(tt.tool, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		f := htmlfilter.New(&out, rs.NewClassifier("https://shop.example/dir/page.html", none), htmlfilter.Options{Mode: htmlfilter.Defer, Dialect: d})
		f.Write([]byte(page))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.String(), tt.want) {
			t.Errorf("%s: %s, want it to start %s", tt.tool, out.String(), tt.want)
		}
	}
}
