package e2e

// The CSP backstop in Chromium against what the markup filter cannot see:
// a granted first-party script that, at run time, prefetches a denied
// tracker, plays audio and video from denied hosts, and starts a worker (and
// a blob: worker) that calls fetch() and importScripts() to denied hosts.
// Under csp enforce none of them reaches its host and each is counted at the
// report endpoint; through the same filter without the backstop each one
// does reach its host (so the check can fail). The site also has the banner
// and Consent Mode, which must look and work the same under the backstop:
// its policy lists their hashes, as csp_allow here has no 'unsafe-inline'.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cspBackstopPage injects the loads of cspBackstopLoads (csp-backstop.js).
const cspBackstopPage = "/browser/csp-backstop.html"

// cspBackstopLoads: each way the page reaches a denied host, the host, and
// the vendor whose report counter must rise.
var cspBackstopLoads = []struct{ how, host, vendor string }{
	{"<link rel=prefetch>", "static.hotjar.com", "hotjar"},
	{"<audio>", "www.clarity.ms", "clarity"},
	{"<video>", "bat.bing.com", "bing-ads"},
	{"importScripts() in a worker", "snap.licdn.com", "linkedin-insight"},
	{"fetch() in a worker", "analytics.tiktok.com", "tiktok-pixel"},
	{"fetch() in a blob: worker", "connect.facebook.net", "facebook"},
}

func TestBrowserCSPBackstop(t *testing.T) {
	e := needBrowser(t)
	rulesFile := filepath.Join(e.root, "testdata", "browser", "functional.rules")
	consent := `consent {
			rules ` + rulesFile + `
			endpoint /consent
			banner /privacy
			consent_mode basic
			%s
		}`
	sites := startToolsCaddy(t, e, map[string]string{
		"csp": `	handle /metrics {
		metrics
	}
	handle {
		` + fmt.Sprintf(consent, "csp enforce\n\t\t\tcsp_report /csp-report") + `
		reverse_proxy {upstream}
	}`,
		"nocsp": `	` + fmt.Sprintf(consent, "") + `
	reverse_proxy {upstream}`,
		// The origin's own strict policy, with a nonce the injected
		// elements do not carry: its hashes must let them through.
		"origincsp": `	header Content-Security-Policy "script-src 'nonce-r4nd0m' 'strict-dynamic'; style-src 'self' 'nonce-r4nd0m'"
	` + fmt.Sprintf(consent, "") + `
	reverse_proxy {upstream}`,
	})
	t.Run("loads", func(t *testing.T) { testCSPBackstopLoads(t, e, sites) })
	t.Run("banner", func(t *testing.T) { testCSPBanner(t, e, sites) })
}

// cspPageState is what csp-backstop.js reports from the page.
type cspPageState struct {
	Injected   bool     `json:"injected"`
	Violations []string `json:"violations"`
	Worker     struct {
		ImportScripts string `json:"importScripts"`
		Fetch         string `json:"fetch"`
		Error         string `json:"error"`
	} `json:"worker"`
	BlobWorker string `json:"blobWorker"`
}

// loadBackstopPage loads the page at base for a visitor without consent,
// waits until both workers have answered, and returns the hosts reached and
// the page's own account.
func loadBackstopPage(t *testing.T, e *browserEnv, base string) (map[string]string, cspPageState) {
	t.Helper()
	var st cspPageState
	o, err := e.loadThen(base+cspBackstopPage, visitor{}, func(tb *tab) error {
		ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
		defer cancel()
		if err := tb.waitFor(ctx, `window.__backstop && __backstop.injected && __backstop.worker && __backstop.blobWorker`); err != nil {
			return err
		}
		return tb.eval(ctx, `window.__backstop`, &st)
	})
	if err != nil {
		t.Fatal(err)
	}
	return o.hosts, st
}

func testCSPBackstopLoads(t *testing.T, e *browserEnv, sites toolSites) {
	// The control: without the backstop every load reaches its host, so
	// the checks below can fail.
	hosts, st := loadBackstopPage(t, e, sites["nocsp"])
	t.Logf("control (no csp): contacted %v; page %+v", sortedKeys(hosts), st)
	for _, l := range cspBackstopLoads {
		if _, ok := hosts[l.host]; !ok {
			t.Fatalf("control (no csp): %s (%s) not contacted, so the test cannot see it stopped; contacted %v", l.host, l.how, sortedKeys(hosts))
		}
	}

	before := map[string]float64{}
	for _, l := range cspBackstopLoads {
		n, err := scrapeCounter(sites["csp"]+"/metrics", cspReportSeries(l.vendor))
		if err != nil {
			t.Fatal(err)
		}
		before[l.vendor] = n
	}
	hosts, st = loadBackstopPage(t, e, sites["csp"])
	t.Logf("csp enforce, no consent: contacted %v; page %+v", sortedKeys(hosts), st)
	for _, l := range cspBackstopLoads {
		if how, ok := hosts[l.host]; ok {
			t.Errorf("csp enforce, no consent: %s reached %s (%s)", l.how, l.host, how)
		}
	}
	for _, l := range deniedReached(e.rules, consentState{}.set(), hosts, nil) {
		t.Errorf("csp enforce, no consent: %s", l)
	}
	if st.Worker.Error != "" {
		t.Errorf("the first-party worker did not run: %s", st.Worker.Error)
	}

	// Chromium posts each violation to report-uri (the worker's to the one
	// its own policy names) on its own schedule, after the load.
	var counts []string
	missing := func() []string {
		var out []string
		counts = counts[:0]
		for _, l := range cspBackstopLoads {
			n, err := scrapeCounter(sites["csp"]+"/metrics", cspReportSeries(l.vendor))
			if err != nil {
				t.Fatal(err)
			}
			counts = append(counts, fmt.Sprintf("%s %v → %v", l.vendor, before[l.vendor], n))
			if n <= before[l.vendor] {
				out = append(out, fmt.Sprintf("%s (%s)", l.vendor, l.how))
			}
		}
		return out
	}
	m := pollUntilEmpty(10*time.Second, missing)
	t.Logf("consentedge_csp_reports_total: %s", strings.Join(counts, ", "))
	if len(m) > 0 {
		t.Errorf("no CSP report counted within 10 s for %s", strings.Join(m, ", "))
	}
}

func cspReportSeries(vendor string) string {
	return `consentedge_csp_reports_total{vendor="` + vendor + `"}`
}

// pollUntilEmpty calls check until it returns nothing or d has passed, and
// returns its last answer: for what the browser does on its own schedule
// after a load (violation reports).
func pollUntilEmpty(d time.Duration, check func() []string) []string {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for {
		left := check()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-deadline:
			return check()
		case <-tick.C:
		}
	}
}

// cspBannerStyle reads what a visitor sees of the banner: the computed
// style of its root, its title and a button, and whether Consent Mode's
// defaults reached the dataLayer.
const cspBannerStyle = `(() => {
	const props = ['position', 'bottom', 'z-index', 'background-color', 'color', 'border-top', 'padding', 'font-family',
		'font-size', 'line-height', 'max-height', 'overflow-y', 'margin', 'border-radius', 'cursor', 'outline'];
	const style = sel => { const el = document.querySelector(sel); if (!el) return null;
		const cs = getComputedStyle(el); return Object.fromEntries(props.map(p => [p, cs.getPropertyValue(p)])); };
	return {
		root: style('#ce-banner'), title: style('#ce-banner h2'), button: style('#ce-banner button[value="accept_all"]'),
		save: style('#ce-banner button.ce-save'),
		consentDefault: (window.dataLayer || []).some(a => a[0] === 'consent' && a[1] === 'default' && a[2].ad_storage === 'denied'),
	};
})()`

// testCSPBanner: under csp enforce (no 'unsafe-inline'), and under an
// origin's policy of nonces, the banner's style applies as without a
// policy, and the Consent Mode defaults script runs.
func testCSPBanner(t *testing.T, e *browserEnv, sites toolSites) {
	read := func(base string) map[string]any {
		var got map[string]any
		_, err := e.loadThen(base+cspBackstopPage, visitor{}, func(tb *tab) error {
			return tb.eval(context.Background(), cspBannerStyle, &got)
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := read(sites["nocsp"])
	t.Logf("without csp: %v", want)
	if root, _ := want["root"].(map[string]any); root == nil || root["position"] != "fixed" {
		t.Fatalf("without csp: the banner is not styled (%v), so the comparison proves nothing", want["root"])
	}
	if want["consentDefault"] != true {
		t.Fatalf("without csp: no gtag('consent','default') in the dataLayer")
	}
	for _, site := range []string{"csp", "origincsp"} {
		got := read(sites[site])
		t.Logf("%s: %v", site, got)
		for _, part := range []string{"root", "title", "button", "save"} {
			if fmt.Sprint(got[part]) != fmt.Sprint(want[part]) {
				t.Errorf("%s: the banner's %s looks different:\n got %v\nwant %v", site, part, got[part], want[part])
			}
		}
		if got["consentDefault"] != true {
			t.Errorf("%s: the Consent Mode defaults script did not run (no gtag('consent','default') in the dataLayer)", site)
		}
	}
}
