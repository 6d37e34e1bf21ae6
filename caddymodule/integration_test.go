package caddymodule

// Integration tests through a real Caddy (caddytest). caddytest's admin
// endpoint is fixed at localhost:2999, so every caddytest test of the
// project lives in this one file of this one package.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// snippet is one vendor's markup in the test page, shaped like the vendor's
// install docs (testdata/README.md names them).
type snippet struct {
	vendor   string
	category string   // per the default rules (and the custom rules file)
	html     string   // exactly as the origin serves it
	markers  []string // substrings that betray the vendor anywhere in a page
	loadURLs []string // URLs that a deferred script must keep in data-*
}

var trackerSnippets = []snippet{
	{
		vendor:   "google-analytics",
		category: "analytics",
		html: `<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST12345"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-TEST12345');
</script>
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-TEST123');</script>
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-TEST123"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>`,
		markers:  []string{"googletagmanager.com", "G-TEST12345", "GTM-TEST123"},
		loadURLs: []string{"https://www.googletagmanager.com/gtag/js?id=G-TEST12345"},
	},
	{
		vendor:   "facebook",
		category: "advertising",
		html: `<script>
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '1111222233334444');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=1111222233334444&ev=PageView&noscript=1"
/></noscript>`,
		markers: []string{"connect.facebook.net", "facebook.com/tr", "fbq("},
	},
	{
		vendor:   "intercom",
		category: "analytics",
		html: `<script>
  window.intercomSettings = { api_base: "https://api-iam.intercom.io", app_id: "test1234" };
</script>
<script>
(function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('reattach_activator');ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='https://widget.intercom.io/widget/test1234';var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s,x);};if(document.readyState==='complete'){l();}else if(w.attachEvent){w.attachEvent('onload',l);}else{w.addEventListener('load',l,false);}}})();
</script>`,
		markers: []string{"intercom.io", "intercomSettings"},
	},
	{
		// Defined by the operator's rules file written in the test.
		vendor:   "acme-heatmap",
		category: "functional",
		html: `<script src="https://heatmap.acme-widgets.example/h.js" defer></script>
<img src="https://heatmap.acme-widgets.example/p.gif" alt="" width="1" height="1">`,
		markers: []string{"acme-widgets.example"},
		// The pixel is stripped: cookieconsent (the default dialect)
		// revives scripts only.
		loadURLs: []string{"https://heatmap.acme-widgets.example/h.js"},
	},
}

const customRules = `# operator rules for the integration test
vendor acme-heatmap {
    name      "Acme heatmap (preferences)"
    category  functional
    host      heatmap.acme-widgets.example
    cookie    acme_hm_*
    retention 30d
}
`

// benignSnippets must come out untouched in every consent state: strictly
// necessary services, data that loads nothing, and plain links.
var benignSnippets = []string{
	`<script src="/static/app.js" defer></script>`,
	`<script>document.documentElement.className = 'js';</script>`,
	`<script src="https://js.stripe.com/v3/"></script>`,
	`<script src="https://www.google.com/recaptcha/api.js" async defer></script>`,
	`<script type="application/ld+json">
{"@context":"https://schema.org","@type":"Organization","name":"Acme Cookies Ltd",
 "url":"https://acme-cookies.example/","sameAs":["https://www.facebook.com/acme","https://www.instagram.com/acme"]}
</script>`,
	`<a href="https://www.facebook.com/acme">Acme on Facebook</a>`,
	`<img src="/static/logo.png" alt="Acme Cookies">`,
	`<link rel="stylesheet" href="/static/site.css">`,
}

// testPage is what the origin serves.
func testPage() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Acme Cookies</title>\n")
	b.WriteString(benignSnippets[7] + "\n" + benignSnippets[1] + "\n")
	for _, s := range trackerSnippets[:2] {
		b.WriteString(s.html + "\n")
	}
	b.WriteString(benignSnippets[4] + "\n" + benignSnippets[2] + "\n" + benignSnippets[3] + "\n" + benignSnippets[0] + "\n")
	b.WriteString("</head>\n<body>\n<h1>Biscuits</h1>\n" + benignSnippets[6] + "\n<p>Follow us: " + benignSnippets[5] + "</p>\n")
	for _, s := range trackerSnippets[2:] {
		b.WriteString(s.html + "\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

// consentStates are the visitor's choices: the request headers and the
// categories they grant (necessary always).
var consentStates = []struct {
	name    string
	cookie  string
	gpc     bool
	granted map[string]bool
}{
	{"none", "", false, map[string]bool{}},
	{"functional", "functional", false, map[string]bool{"functional": true}},
	{"analytics", "analytics", false, map[string]bool{"analytics": true}},
	{"advertising", "advertising", false, map[string]bool{"advertising": true}},
	{"all", "functional.analytics.advertising", false, map[string]bool{"functional": true, "analytics": true, "advertising": true}},
	// GPC is an opt-out of sale and sharing: advertising goes.
	{"all+gpc", "functional.analytics.advertising", true, map[string]bool{"functional": true, "analytics": true}},
}

func TestIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	page := testPage()
	streamRelease := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"page-v1"`)
			// An upstream that honours conditionals (RFC 9110 §13.1.2).
			if r.Header.Get("If-None-Match") == `"page-v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			ae := r.Header.Get("Accept-Encoding")
			w.Header().Set("X-Got-Accept-Encoding", ae)
			if ae == "gzip" {
				// The only offer that may reach us: Go's transport adds it
				// when the request has none and decodes the answer itself.
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				_, _ = io.WriteString(zw, page)
				_ = zw.Close()
				return
			}
			_, _ = io.WriteString(w, page)
		case "/br.html":
			// An upstream that ignores Accept-Encoding.
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "br")
			_, _ = io.WriteString(w, "\x1b\x00\x00"+page)
		case "/stream":
			// Streams: the first chunk must reach the client through
			// reverse_proxy and the filter while this handler still waits.
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, streamedHead+"<p>first chunk</p>"+pixelTag+"\n")
			http.NewResponseController(w).Flush()
			select {
			case <-streamRelease:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, "<p>second chunk</p>\n")
		case "/data.json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"fb":"<script src=\"https://connect.facebook.net/x.js\"></script>"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer origin.Close()

	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "extra.rules")
	if err := os.WriteFile(rulesFile, []byte(customRules), 0o600); err != nil {
		t.Fatal(err)
	}
	upstream := strings.TrimPrefix(origin.URL, "http://")

	tester := caddytest.NewTester(t)
	initCaddy(tester, caddytestGlobal+fmt.Sprintf(`
	http://localhost:9080 {
		consent {
			rules %[1]s
		}
		reverse_proxy %[2]s
	}
	http://localhost:9081 {
		consent {
			mode defer
			rules %[1]s
		}
		reverse_proxy %[2]s
	}
	`, rulesFile, upstream))

	get := func(t *testing.T, url, cookie string, gpc bool) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
		req.Header.Set("Accept-Encoding", "br, zstd")
		if cookie != "" {
			req.Header.Set("Cookie", "consent="+cookie)
		}
		if gpc {
			req.Header.Set("Sec-GPC", "1")
		}
		resp, err := tester.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		return resp, string(body)
	}

	for _, st := range consentStates {
		t.Run("strip/"+st.name, func(t *testing.T) {
			resp, body := get(t, "http://localhost:9080/", st.cookie, st.gpc)
			checkHeaders(t, resp)
			checkBenign(t, body)
			for _, s := range trackerSnippets {
				if st.granted[s.category] {
					if !strings.Contains(body, s.html) {
						t.Errorf("granted %s (%s) not served intact", s.vendor, s.category)
					}
					continue
				}
				for _, m := range s.markers {
					if containsFold(body, m) {
						t.Errorf("denied %s (%s) still present: %q", s.vendor, s.category, m)
					}
				}
			}
			if len(st.granted) == 3 && body != page {
				t.Errorf("every category granted, yet the body differs from the origin's:\n%s", body)
			}
		})
		t.Run("defer/"+st.name, func(t *testing.T) {
			resp, body := get(t, "http://localhost:9081/", st.cookie, st.gpc)
			checkHeaders(t, resp)
			checkBenign(t, body)
			for _, s := range trackerSnippets {
				if st.granted[s.category] {
					if !strings.Contains(body, s.html) {
						t.Errorf("granted %s (%s) not served intact", s.vendor, s.category)
					}
					continue
				}
				checkInert(t, body, s)
			}
			if len(st.granted) == 3 && body != page {
				t.Errorf("every category granted, yet the body differs from the origin's:\n%s", body)
			}
		})
	}

	t.Run("non-html untouched", func(t *testing.T) {
		tester.AssertGetResponse("http://localhost:9080/data.json", 200,
			`{"fb":"<script src=\"https://connect.facebook.net/x.js\"></script>"}`)
	})

	t.Run("streaming through reverse_proxy", func(t *testing.T) {
		// In a goroutine: without streaming even the headers would wait for
		// the upstream, and the test must fail, not hang.
		type first struct {
			resp *http.Response
			br   *bufio.Reader
			line string
			err  error
		}
		got := make(chan first, 1)
		go func() {
			resp, err := tester.Client.Get("http://localhost:9080/stream")
			if err != nil {
				got <- first{err: err}
				return
			}
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			got <- first{resp, br, line, err}
		}()
		var f first
		select {
		case f = <-got:
			close(streamRelease)
			if f.err != nil {
				t.Fatal(f.err)
			}
			if !strings.Contains(f.line, "first chunk") || strings.Contains(f.line, pixelHost) {
				t.Errorf("first line %q", f.line)
			}
		case <-time.After(10 * time.Second):
			close(streamRelease)
			t.Fatal("first chunk held back until the upstream finished")
		}
		br := f.br
		defer f.resp.Body.Close()
		rest, _ := io.ReadAll(br)
		if !strings.Contains(string(rest), "second chunk") {
			t.Errorf("rest %q", rest)
		}
	})

	t.Run("encoded html refused", func(t *testing.T) {
		resp, err := tester.Client.Get("http://localhost:9080/br.html")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "facebook") {
			t.Errorf("br html: %d %q", resp.StatusCode, body)
		}
	})

	t.Run("conditional per variant", func(t *testing.T) {
		resp, _ := get(t, "http://localhost:9080/", "", false)
		etag := resp.Header.Get("Etag")
		if etag == `"page-v1"` || !strings.HasPrefix(etag, `"page-v1-`) {
			t.Fatalf("ETag %q not variant-specific", etag)
		}
		// The client's codings reach upstream, restricted to those the
		// filter decodes (the client offered "br, zstd").
		if ae := resp.Header.Get("X-Got-Accept-Encoding"); ae != "br, zstd" {
			t.Errorf("upstream was offered %q", ae)
		}
		// Same variant: 304.
		req, _ := http.NewRequest("GET", "http://localhost:9080/", nil)
		req.Header.Set("If-None-Match", etag)
		res := tester.AssertResponseCode(req, http.StatusNotModified)
		if res.Header.Get("Etag") != etag {
			t.Errorf("304 ETag %q, want %q", res.Header.Get("Etag"), etag)
		}
		// Another variant (consent changed): the full page, never a 304.
		req, _ = http.NewRequest("GET", "http://localhost:9080/", nil)
		req.Header.Set("If-None-Match", etag)
		req.Header.Set("Cookie", "consent=analytics")
		tester.AssertResponseCode(req, http.StatusOK)
	})

	t.Run("reload picks up a changed rules file", func(t *testing.T) {
		file := filepath.Join(dir, "reload.rules")
		write := func(host string) {
			t.Helper()
			src := "vendor reloaded {\n    category advertising\n    host " + host + "\n}\n"
			if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg := fmt.Sprintf("{\n\tadmin localhost:2999\n\thttp_port 9080\n}\nhttp://localhost:9080 {\n\tconsent {\n\t\trules %s\n\t}\n\theader Content-Type text/html\n\trespond `<p>x</p><script src=\"https://one.example/t.js\"></script>`\n}\n", file)
		load := func() {
			t.Helper()
			req, _ := http.NewRequest("POST", "http://localhost:2999/load", strings.NewReader(cfg))
			req.Header.Set("Content-Type", "text/caddyfile")
			// The Caddyfile text is the same each time: force the reload,
			// as `caddy reload --force` does.
			req.Header.Set("Cache-Control", "must-revalidate")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("load: %d %s", resp.StatusCode, msg)
			}
		}
		page := func() string {
			t.Helper()
			// A fresh connection: a reload closes the old config's idle
			// ones, and a request sent on one as it closes reads EOF.
			req, _ := http.NewRequest("GET", "http://localhost:9080/", nil)
			req.Close = true
			resp, err := tester.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		write("one.example")
		load()
		if got := page(); strings.Contains(got, "one.example") {
			t.Fatalf("vendor of the rules file not applied: %s", got)
		}
		write("two.example")
		load()
		if got := page(); !strings.Contains(got, "one.example") {
			t.Fatalf("reload did not pick up the changed rules file: %s", got)
		}
	})

	t.Run("bad rules file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.rules")
		if err := os.WriteFile(bad, []byte("vendor broken {\n    name \"Broken\"\n    category nosuchcategory\n    host broken.example\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("{\n\tadmin localhost:2999\n\thttp_port 9080\n}\nhttp://localhost:9080 {\n\tconsent {\n\t\trules %s\n\t}\n\trespond ok\n}\n", bad)
		req, _ := http.NewRequest("POST", "http://localhost:2999/load", strings.NewReader(cfg))
		req.Header.Set("Content-Type", "text/caddyfile")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("config with a bad rules file loaded")
		}
		if !strings.Contains(string(msg), bad+":3") || !strings.Contains(string(msg), "loading consent rules") {
			t.Errorf("error does not name file and line (%s:3): %s", bad, msg)
		}
	})
}

func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	if !hasToken(resp.Header["Vary"], "Cookie") || !hasToken(resp.Header["Vary"], "Sec-GPC") {
		t.Errorf("Vary %q", resp.Header["Vary"])
	}
	if resp.Header.Get("Content-Length") != "" {
		t.Errorf("Content-Length %q on a filtered response", resp.Header.Get("Content-Length"))
	}
}

func checkBenign(t *testing.T, body string) {
	t.Helper()
	for _, b := range benignSnippets {
		if !strings.Contains(body, b) {
			t.Errorf("benign content changed or gone: %q", b)
		}
	}
}

var (
	scriptRE = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	tagRE    = regexp.MustCompile(`(?is)<[a-z][^>]*>`)
	liveRE   = regexp.MustCompile(`(?i)\s(src|href|srcset|data)\s*=`)
)

// checkInert asserts that in defer mode nothing of s can load: its scripts
// carry type="text/plain" and data-category, no element keeps a live URL
// attribute, and its markers appear nowhere else (noscript content, which
// no client tool revives, is stripped).
func checkInert(t *testing.T, body string, s snippet) {
	t.Helper()
	mentions := func(x string) bool {
		for _, m := range s.markers {
			if containsFold(x, m) {
				return true
			}
		}
		return false
	}
	cat := `data-category="` + s.category + `"`
	rest := scriptRE.ReplaceAllStringFunc(body, func(el string) string {
		if !mentions(el) {
			return el
		}
		m := scriptRE.FindStringSubmatch(el)
		if !strings.Contains(m[1], `type="text/plain"`) || !strings.Contains(m[1], cat) || liveRE.MatchString(m[1]) {
			t.Errorf("denied %s script not inert: %.200s", s.vendor, el)
		}
		return ""
	})
	rest = tagRE.ReplaceAllStringFunc(rest, func(tag string) string {
		if !mentions(tag) {
			return tag
		}
		if !strings.Contains(tag, cat) || liveRE.MatchString(tag) {
			t.Errorf("denied %s element not inert: %s", s.vendor, tag)
		}
		return ""
	})
	if mentions(rest) {
		t.Errorf("denied %s present outside inert elements", s.vendor)
	}
	for _, u := range s.loadURLs {
		if !strings.Contains(body, `data-src="`+u+`"`) {
			t.Errorf("deferred %s lost its URL %s", s.vendor, u)
		}
	}
}

// initCaddy loads config, a Caddyfile, into caddytest's instance. Caddy's
// reload returns once the old servers have begun to shut down, and an old
// server on the same port can still accept a connection in that moment,
// then cut it (grace_period 1ns): the pause lets it close its listener
// first.
func initCaddy(tester *caddytest.Tester, config string) {
	tester.InitServer(config, "caddyfile")
	time.Sleep(100 * time.Millisecond)
}

// caddytestGlobal is the global options block of the caddytest servers on
// port 9080: caddytest's fixed admin port, no trust store, no grace period.
const caddytestGlobal = `
	{
		skip_install_trust
		admin localhost:2999
		http_port 9080
		https_port 9443
		grace_period 1ns
	}
`

// rawOrigin is an HTTP/1.1 origin written by hand, for the failures a real
// server does not make: each request path names a response, written as
// bytes, then the connection is closed (reset for "/reset").
func rawOrigin(t *testing.T, responses map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				_, _ = io.WriteString(c, responses[req.URL.Path])
				if req.URL.Path == "/reset" {
					// SO_LINGER 0: close sends RST, not FIN.
					_ = c.(*net.TCPConn).SetLinger(0)
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestIntegrationProxy runs compressed, broken, streaming, upgraded and
// large responses through encode + consent + reverse_proxy.

func TestIntegrationProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	page := testPage()
	const bigSize = 64 << 20
	sseRelease := make(chan struct{})
	// tailRelease lets /slow-stream.html's and /slow-declared.html's
	// origin send the rest of the page.
	tailRelease := map[string]chan struct{}{"/slow-stream.html": make(chan struct{}), "/slow-declared.html": make(chan struct{})}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gz.html", "/br.html", "/zstd.html":
			ce := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".html")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", map[string]string{"gz": "gzip"}[ce]+strings.TrimPrefix(ce, "gz"))
			_, _ = w.Write(encodeBody(t, map[string]string{"gz": "gzip"}[ce]+strings.TrimPrefix(ce, "gz"), page))
		case "/sse":
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: <script src=\"https://connect.facebook.net/x.js\"></script>\n\n")
			http.NewResponseController(w).Flush()
			select {
			case <-sseRelease:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, "data: two\n\n")
		case "/ws":
			if r.Header.Get("Upgrade") != "websocket" {
				http.Error(w, "no upgrade", http.StatusBadRequest)
				return
			}
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
			// Echo: the "frames" are opaque bytes to every proxy hop.
			buf := make([]byte, 64)
			for {
				n, err := brw.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		case "/early.html":
			// A page whose <head> reaches the proxy before the rest: a
			// first upstream read under encode's minimum_length. With a
			// Content-Length, reverse_proxy does not flush after it (an
			// unknown length makes it flush each write, and then the
			// head goes out at once, uncompressed, as without consent).
			head := "<!DOCTYPE html><html><head><title>early</title></head>"
			body := "<body>" + strings.Repeat("<p>benign</p>\n", 1000) + "<script>fbq('init', '1');</script></body></html>"
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Length", fmt.Sprint(len(head)+len(body)))
			io.WriteString(w, head)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
			io.WriteString(w, body)
		case "/slow-stream.html", "/slow-declared.html":
			// The head at once, the rest of the page once the test has
			// read the first bytes: a stream, or a page of declared length.
			head := "<!DOCTYPE html><html><head><title>slow tail</title></head><body>" + strings.Repeat("<p>first</p>\n", 100)
			tail := strings.Repeat("<p>later</p>\n", 2000) + "</body></html>"
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if r.URL.Path == "/slow-declared.html" {
				w.Header().Set("Content-Length", fmt.Sprint(len(head)+len(tail)))
			}
			io.WriteString(w, head)
			w.(http.Flusher).Flush()
			select {
			case <-tailRelease[r.URL.Path]:
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, tail)
		case "/static.html":
			// A static page, as file_server serves it: a strong ETag.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Etag", `"static-1"`)
			// Longer than the output gathered whole, which goes out with
			// its length however it was made.
			http.ServeContent(w, r, "", time.Time{}, strings.NewReader(page+strings.Repeat("<p>static</p>\n", 5000)))
		case "/big.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(bigSize))
			_, _ = io.Copy(w, io.LimitReader(rand.NewChaCha8([32]byte{1}), bigSize))
		default:
			http.NotFound(w, r)
		}
	}))
	defer origin.Close()

	// Raw responses: an inline tracker cut in half by each failure.
	const half = "<p>ok</p><script>fbq('init'"
	gzPage := encodeBody(t, "gzip", strings.Repeat("<p>benign</p>\n", 1000)+"<script>fbq('init', '1');</script>")
	raw := rawOrigin(t, map[string]string{
		"/reset": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n" + half,
		"/short": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n" + half,
		// Nothing filtered out yet when the upstream fails: a 502.
		"/held-short":  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<script>fbq('init'",
		"/empty-short": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n",
		"/badchunk":    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\n" + half + "\r\nzz\r\n';</script>\r\n0\r\n\r\n",
		"/gz-cut": fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(gzPage)) +
			string(gzPage[:len(gzPage)-30]),
		"/gz-short": fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n", len(gzPage)/2) +
			string(gzPage[:len(gzPage)/2]),
		"/gz-tiny": "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n" + string(gzPage[:12]),
	})

	tester := caddytest.NewTester(t)
	initCaddy(tester, caddytestGlobal+fmt.Sprintf(`
	http://localhost:9080 {
		encode gzip
		consent
		reverse_proxy %s
	}
	http://localhost:9082 {
		consent
		reverse_proxy %s
	}
	http://localhost:9083 {
		consent
		reverse_proxy %[1]s {
			flush_interval -1
		}
	}
	`, strings.TrimPrefix(origin.URL, "http://"), raw))
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}

	for _, path := range []string{"/gz.html", "/br.html", "/zstd.html"} {
		t.Run("decoded "+path, func(t *testing.T) {
			// Identity to the client, then gzip through encode.
			for _, ae := range []string{"identity", "gzip"} {
				req, _ := http.NewRequest("GET", "http://localhost:9080"+path, nil)
				req.Header.Set("Accept-Encoding", ae)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var r io.Reader = resp.Body
				if ce := resp.Header.Get("Content-Encoding"); ce != map[string]string{"identity": ""}[ae]+strings.TrimPrefix(ae, "identity") {
					t.Errorf("%s: Content-Encoding %q", ae, ce)
				} else if ce == "gzip" {
					if r, err = gzip.NewReader(resp.Body); err != nil {
						t.Fatal(err)
					}
				}
				b, err := io.ReadAll(r)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: %d %v", ae, resp.StatusCode, err)
				}
				checkBenign(t, string(b))
				for _, m := range []string{"googletagmanager.com", "connect.facebook.net", "intercom.io"} {
					if strings.Contains(string(b), m) {
						t.Errorf("%s: %s survived", ae, m)
					}
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "private" {
					t.Errorf("%s: Cache-Control %q", ae, cc)
				}
			}
		})
	}

	// The origin sends the rest only once the first bytes are here: first
	// bytes that waited for it never come (the client's timeout fails the
	// test). A page of declared length, which its origin had whole before
	// it sent it, waits for its rest, unless reverse_proxy flushes every
	// write.
	for _, tc := range []struct{ name, url string }{
		{"a stream", "http://localhost:9080/slow-stream.html"},
		{"a declared length, flush_interval -1", "http://localhost:9083/slow-declared.html"},
	} {
		t.Run("the first filtered bytes do not wait for the rest of the page: "+tc.name, func(t *testing.T) {
			resp, err := client.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			first := make([]byte, 64)
			_, err = io.ReadFull(resp.Body, first)
			close(tailRelease[resp.Request.URL.Path])
			if err != nil {
				t.Fatalf("first bytes: %v (they waited for the rest of the page)", err)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil || !strings.HasSuffix(string(b), "</body></html>") {
				t.Errorf("%v: body ends %q", err, b[max(0, len(b)-20):])
			}
		})
	}

	// getEarly asks for the page whose head comes ahead of its rest.
	getEarly := func(t *testing.T, acceptEncoding string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://localhost:9080/early.html", nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("a short first upstream write keeps the page compressed", func(t *testing.T) {
		resp := getEarly(t, "gzip")
		defer resp.Body.Close()
		if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Fatalf("Content-Encoding %q: encode saw a first write under its minimum length", ce)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil || !strings.Contains(string(b), "<title>early</title>") || strings.Contains(string(b), "fbq") {
			t.Errorf("%v: body %.80q ... %q", err, b, b[max(0, len(b)-60):])
		}
	})

	t.Run("a page gathered whole goes out with its length", func(t *testing.T) {
		resp := getEarly(t, "identity")
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || strings.Contains(string(b), "fbq") || !strings.HasSuffix(string(b), "</html>") {
			t.Fatalf("%v: body %.80q ... %q", err, b, b[max(0, len(b)-60):])
		}
		if resp.ContentLength != int64(len(b)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("Content-Length %d, Transfer-Encoding %v, for %d bytes", resp.ContentLength, resp.TransferEncoding, len(b))
		}
	})

	for _, path := range []string{"/reset", "/short", "/held-short", "/empty-short", "/badchunk", "/gz-cut", "/gz-short", "/gz-tiny"} {
		t.Run("broken upstream "+path, func(t *testing.T) {
			// With an Accept-Encoding of the client's, Go's transport in
			// reverse_proxy leaves gzip to us (without one it would add
			// its own and decode transparently).
			req, _ := http.NewRequest("GET", "http://localhost:9082"+path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				// The connection closed before any response: broken, and
				// nothing of the tracker went out.
				t.Logf("no response: %v", err)
				return
			}
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("status %d, %d bytes, read error %v", resp.StatusCode, len(b), rerr)
			if resp.StatusCode != http.StatusBadGateway && rerr == nil {
				t.Errorf("status %d with a complete-looking body %q", resp.StatusCode, b)
			}
			if (path == "/gz-tiny" || path == "/held-short" || path == "/empty-short") && resp.StatusCode != http.StatusBadGateway {
				// The upstream failed (or its stream was unreadable)
				// before a byte was filtered: a 502.
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			if strings.Contains(string(b), "fbq") || strings.Contains(string(b), "<script") {
				t.Errorf("held element leaked: %q", b[max(0, len(b)-80):])
			}
		})
	}

	t.Run("server-sent events stream", func(t *testing.T) {
		got := make(chan string, 1)
		go func() {
			resp, err := client.Get("http://localhost:9080/sse")
			if err != nil {
				got <- err.Error()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			l1, _ := br.ReadString('\n')
			l2, _ := br.ReadString('\n')
			got <- resp.Header.Get("Content-Type") + "|" + l1 + l2
		}()
		select {
		case s := <-got:
			close(sseRelease)
			// Untouched: the tracker-looking data is not HTML.
			if s != "text/event-stream|data: <script src=\"https://connect.facebook.net/x.js\"></script>\n\n" {
				t.Errorf("first event %q", s)
			}
		case <-time.After(10 * time.Second):
			close(sseRelease)
			t.Fatal("first event held back")
		}
	})

	t.Run("websocket upgrade", func(t *testing.T) {
		c, err := net.Dial("tcp", "localhost:9080")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: localhost:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip\r\n\r\n")
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d", resp.StatusCode)
		}
		msg := "\x81\x05hello <script src=https://connect.facebook.net/x.js></script>"
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		echo := make([]byte, len(msg))
		if _, err := io.ReadFull(br, echo); err != nil || string(echo) != msg {
			t.Errorf("echo %q %v", echo, err)
		}
	})

	t.Run("a static page replayed with its length", func(t *testing.T) {
		// Seen, recorded, then replayed with its length. The cache
		// inserts in the background: ask until the length comes (a
		// bounded number of times), not after a sleep.
		var first []byte
		replayedAt := -1
		for i := 0; i < 200 && replayedAt < 0; i++ {
			resp, err := client.Get("http://localhost:9080/static.html") // no Accept-Encoding: encode passes it on
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("request %d: %d, %v", i, resp.StatusCode, err)
			}
			if i == 0 {
				first = body
				if bytes.Contains(body, []byte("connect.facebook.net")) {
					t.Fatalf("tracker in the filtered page:\n%s", body)
				}
			} else if !bytes.Equal(body, first) {
				t.Fatalf("request %d: body differs from the first", i)
			}
			if resp.ContentLength >= 0 {
				if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
					t.Fatalf("request %d: Content-Length %d, Transfer-Encoding %v, for %d bytes", i, resp.ContentLength, resp.TransferEncoding, len(body))
				}
				replayedAt = i
			}
		}
		if replayedAt < 2 {
			t.Errorf("replayed with its length at request %d, want from the third on", replayedAt)
		}
	})
	t.Run("large download untouched and unbuffered", func(t *testing.T) {
		want := sha256.New()
		if _, err := io.Copy(want, io.LimitReader(rand.NewChaCha8([32]byte{1}), bigSize)); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		resp, err := client.Get("http://localhost:9080/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		n, err := io.Copy(got, resp.Body)
		resp.Body.Close()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d bytes, %.1f MiB allocated by origin, proxy and client together", n, float64(alloc)/(1<<20))
		if err != nil || n != bigSize || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Errorf("download: %d bytes, %v, hash differs: %v", n, err, !bytes.Equal(got.Sum(nil), want.Sum(nil)))
		}
		if alloc > 32<<20 {
			t.Errorf("%d MiB allocated for a %d MiB download: buffered?", alloc>>20, bigSize>>20)
		}
	})
}
