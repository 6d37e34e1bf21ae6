package e2e

// Consent semantics in Chromium, with the real consent tools from npm
// running in the page and Caddyfile sites run by the consentedge command:
//
//   - gpc: `mode defer`, a visitor whose cc_cookie (written by
//     vanilla-cookieconsent's own "Accept all") grants every category, and
//     Sec-GPC: 1. The Meta pixel is stripped, not labelled: the tool, which
//     cannot see the header, would revive a label at once. Without the
//     header the pixel loads (the control).
//   - tool-cookie: `mode defer` on a site whose consent is its own cookie,
//     the same cc_cookie beside it: advertising granted by the tool's
//     cookie alone is stripped; the site's cookie granting it loads it.
//   - mixed: `mode defer`, one inline script loading GA4 and the Meta pixel;
//     the visitor accepts advertising only in cookieconsent's dialog. GA4
//     is never contacted, neither at once nor on the next page view. With
//     the filter off the same page reaches GA4 (the control).
//   - klaro: Klaro with three analytics services; the visitor accepts
//     googleAnalytics and clarity in Klaro's modal and leaves heatmaps
//     (Hotjar, through `map heatmaps hotjar`) off. Hotjar is not contacted,
//     GA and Clarity are, at once (the map
//     lines name the deferred tags as Klaro does); a cookie accepting
//     heatmaps too reaches Hotjar.
//   - tcf: a TC string with every purpose and vendors 1-10 and 755 (Google
//     Ads) consented, not 91 (Criteo). Criteo is not contacted, Google Ads
//     is; the same string with vendor 91 consented reaches Criteo.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

// The pages of TestBrowserSemantics, under testdata/browser.
const (
	semGPCPage   = "/browser/semantics-gpc.html"
	semMixedPage = "/browser/semantics-mixed.html"
	semKlaroPage = "/browser/semantics-klaro.html"
	semTCFPage   = "/browser/semantics-tcf.html"
)

// TC strings (core segment), written by IAB's reference encoder
// (@iabtcf/core): CMP 10, vendor list 150, policy version 4, every purpose
// consented. tcfNo91 consents vendors 1-10 and 755 (Google Ads), not 91
// (Criteo); tcfWith91 is the same string with vendor 91 consented too.
const (
	tcfNo91   = "CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA"
	tcfWith91 = "CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wA4AAgAUAFsBeYAAAAAAAA"
)

// Hosts of each tracker as the recorder sees them (a host or a parent
// domain).
var (
	semPixelHosts   = []string{"connect.facebook.net", "www.facebook.com"}
	semGA4Hosts     = []string{"www.googletagmanager.com", "google-analytics.com", "analytics.google.com"}
	semHotjarHosts  = []string{"hotjar.com", "hotjar.io"}
	semClarityHosts = []string{"clarity.ms"}
	semCriteoHosts  = []string{"criteo.net", "criteo.com"}
)

func TestBrowserSemantics(t *testing.T) {
	e := needBrowser(t)
	for _, f := range []string{"vanilla-cookieconsent/dist/cookieconsent.umd.js", "klaro/dist/klaro.js"} {
		if _, err := os.Stat(filepath.Join(e.root, "testdata", "browser", "node_modules", f)); err != nil {
			msg := f + " is not installed: run npm ci in testdata/browser"
			if e2eRequired() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	rulesFile := filepath.Join(e.root, "testdata", "browser", "functional.rules")
	site := func(directives string) string {
		return "\tconsent {\n\t\trules " + rulesFile + "\n" + directives + "\t}\n\treverse_proxy {upstream}"
	}
	sites := startToolsCaddy(t, e, map[string]string{
		"cookieconsent": site("\t\tmode defer\n\t\tsource cookieconsent\n"),
		// The site's consent is its own cookie; cookieconsent runs beside.
		"native": site("\t\tmode defer\n"),
		"klaro":  site("\t\tmode defer klaro\n\t\tsource klaro\n\t\tmap heatmaps hotjar\n\t\tmap googleAnalytics google-analytics\n"),
		"tcf":    site("\t\tsource tcf\n"),
	})
	var acceptAll string // cc_cookie as cookieconsent writes it on "Accept all"
	t.Run("gpc", func(t *testing.T) { acceptAll = testSemanticsGPC(t, e, sites["cookieconsent"]) })
	t.Run("tool-cookie", func(t *testing.T) { testSemanticsToolCookie(t, e, sites["native"], acceptAll) })
	t.Run("mixed", func(t *testing.T) { testSemanticsMixed(t, e, sites["cookieconsent"]) })
	t.Run("klaro", func(t *testing.T) { testSemanticsKlaro(t, e, sites["klaro"]) })
	t.Run("tcf", func(t *testing.T) { testSemanticsTCF(t, e, sites["tcf"]) })
}

func testSemanticsGPC(t *testing.T, e *browserEnv, base string) string {
	// The visitor's first visit: cookieconsent's dialog, "Accept all".
	s := openSemTab(t, e, base+semGPCPage, nil, false)
	s.phase("first visit")
	s.must(s.tb.click(s.ctx, `#cc-main .cm button[data-role="all"]`))
	s.must(s.tb.waitFor(s.ctx, `CookieConsent.acceptedCategory('advertising') && CookieConsent.acceptedCategory('analytics')`))
	s.phase("accept all clicked")
	cc := s.cookie(base, "cc_cookie")
	s.close()
	if cc == "" {
		t.Fatal("cookieconsent wrote no cc_cookie after accept all")
	}
	t.Logf("cc_cookie as the tool wrote it: %s", cc)
	cookies := map[string]string{"cc_cookie": cc}

	// The control: the same visitor without Sec-GPC reaches the pixel.
	o := semLoad(t, e, base+semGPCPage, cookies, false, nil)
	if len(reachedHosts(o, semPixelHosts)) == 0 {
		t.Fatalf("control (no Sec-GPC): the Meta pixel not contacted, so the check below cannot fail; contacted %v", sortedKeys(o.hosts))
	}

	o = semLoad(t, e, base+semGPCPage, cookies, true, func(s *semTab) {
		var got struct {
			Title       string `json:"title"`
			Text        string `json:"text"`
			Advertising bool   `json:"advertising"`
		}
		s.must(s.tb.eval(s.ctx, `({title: document.querySelector('h1')?.textContent ?? '',
			text: document.getElementById('product-text')?.textContent ?? '',
			advertising: CookieConsent.acceptedCategory('advertising')})`, &got))
		if got.Title != "Wool blanket, oatmeal" || !strings.Contains(got.Text, "recycled wool") {
			t.Errorf("Sec-GPC: the page's own content is missing: h1 %q, text %q", got.Title, got.Text)
		}
		// The tool believes advertising granted: a label would be revived.
		if !got.Advertising {
			t.Errorf("Sec-GPC: cookieconsent does not hold advertising accepted; the check proves nothing")
		}
	})
	for _, h := range reachedHosts(o, semPixelHosts) {
		t.Errorf("Sec-GPC with a stored accept-all: the Meta pixel reached %s", h)
	}
	for _, u := range vendorURLs(e.rules, "facebook", o.urls) {
		t.Errorf("Sec-GPC with a stored accept-all: requested %s", u)
	}
	return cc
}

// testSemanticsToolCookie: a site whose consent is its own cookie, with
// cookieconsent in the page. The visitor's cc_cookie grants advertising,
// which the site's consent does not: the pixel is stripped, as
// cookieconsent would revive its label at once.
func testSemanticsToolCookie(t *testing.T, e *browserEnv, base, cc string) {
	if cc == "" {
		t.Skip("no cc_cookie: the gpc subtest did not get one")
	}
	o := semLoad(t, e, base+semGPCPage, map[string]string{"cc_cookie": cc}, false, nil)
	for _, h := range reachedHosts(o, semPixelHosts) {
		t.Errorf("advertising granted by the tool's cookie only: the Meta pixel reached %s", h)
	}
	for _, u := range vendorURLs(e.rules, "facebook", o.urls) {
		t.Errorf("advertising granted by the tool's cookie only: requested %s", u)
	}
	// The control: the site's own cookie granting advertising.
	o = semLoad(t, e, base+semGPCPage, map[string]string{"cc_cookie": cc, "consent": "advertising"}, false, nil)
	if len(reachedHosts(o, semPixelHosts)) == 0 {
		t.Errorf("control (consent=advertising): the Meta pixel not contacted, so the check above cannot fail; contacted %v", sortedKeys(o.hosts))
	}
}

func testSemanticsMixed(t *testing.T, e *browserEnv, base string) {
	// The control: without the filter the page reaches GA4 and the pixel.
	o := semLoad(t, e, e.off+semMixedPage, nil, false, nil)
	if len(reachedHosts(o, semGA4Hosts)) == 0 || len(reachedHosts(o, semPixelHosts)) == 0 {
		t.Fatalf("control (filter off): GA4 or the Meta pixel not contacted; contacted %v", sortedKeys(o.hosts))
	}

	s := openSemTab(t, e, base+semMixedPage, nil, false)
	first := s.phase("first visit")
	noGA4(t, e.rules, "first visit, nothing accepted", first)
	var parked int
	s.must(s.tb.eval(s.ctx, `[...document.scripts].filter(s => s.text.includes('G-MIXED12345')).length`, &parked))
	if parked != 0 {
		t.Errorf("first visit: the GA4 + Meta script is on the page (%d), labelled for one category", parked)
	}
	// "Manage preferences", advertising on, "Save preferences".
	s.must(s.tb.waitFor(s.ctx, `document.documentElement.classList.contains('show--consent')`))
	s.must(s.tb.click(s.ctx, `#cc-main .cm button[data-role="show"]`))
	s.must(s.tb.waitFor(s.ctx, `document.documentElement.classList.contains('show--preferences')`))
	toggle := `#cc-main .pm input.section__toggle[value="advertising"]`
	s.must(s.tb.click(s.ctx, toggle))
	s.must(s.tb.waitFor(s.ctx, `document.querySelector('`+toggle+`').checked`))
	s.must(s.tb.click(s.ctx, `#cc-main .pm button[data-role="save"]`))
	s.must(s.tb.waitFor(s.ctx, `CookieConsent.acceptedCategory('advertising') && !CookieConsent.acceptedCategory('analytics')`))
	noGA4(t, e.rules, "advertising accepted in the dialog", s.phase("advertising accepted"))
	cc := s.cookie(base, "cc_cookie")
	s.close()
	if cc == "" {
		t.Fatal("cookieconsent wrote no cc_cookie after saving")
	}
	t.Logf("cc_cookie as the tool wrote it: %s", cc)

	// The next page view, with the tool's cookie granting advertising only.
	o = semLoad(t, e, base+semMixedPage, map[string]string{"cc_cookie": cc}, false, nil)
	noGA4(t, e.rules, "next page view, advertising only", o)
}

// noGA4 reports any GA4 host or Google Analytics URL the load reached.
func noGA4(t *testing.T, r *rules.Rules, when string, o *observation) {
	t.Helper()
	for _, h := range reachedHosts(o, semGA4Hosts) {
		t.Errorf("%s: GA4 reached %s", when, h)
	}
	for _, u := range vendorURLs(r, "google-analytics", o.urls) {
		t.Errorf("%s: requested %s", when, u)
	}
}

func testSemanticsKlaro(t *testing.T, e *browserEnv, base string) {
	// The first visit: Klaro's notice → its modal → googleAnalytics and
	// clarity on, heatmaps left off → "Accept selected".
	s := openSemTab(t, e, base+semKlaroPage, nil, false)
	first := s.phase("first visit")
	for _, hosts := range [][]string{semGA4Hosts, semHotjarHosts, semClarityHosts} {
		for _, h := range reachedHosts(first, hosts) {
			t.Errorf("first visit, nothing accepted: reached %s", h)
		}
	}
	s.must(s.tb.click(s.ctx, `#klaro .cn-learn-more`))
	for _, svc := range []string{"googleAnalytics", "clarity"} {
		s.must(s.tb.click(s.ctx, `#klaro label[for="service-item-`+svc+`"]`))
		s.must(s.tb.waitFor(s.ctx, `document.getElementById('service-item-`+svc+`').checked`))
	}
	s.must(s.tb.click(s.ctx, `#klaro .cm-btn-accept`))
	s.must(s.tb.waitFor(s.ctx, `klaro.getManager().confirmed && !klaro.getManager().getConsent('heatmaps')`))
	chosen := s.phase("googleAnalytics and clarity accepted in klaro")
	for _, h := range reachedHosts(chosen, semHotjarHosts) {
		t.Errorf("heatmaps refused in Klaro's modal: Hotjar reached %s", h)
	}
	// Klaro revives, without a reload, what consentedge labelled with the
	// name of one of its services (clarity is a vendor id as well).
	if len(reachedHosts(chosen, semClarityHosts)) == 0 {
		t.Errorf("clarity accepted in Klaro's modal: Clarity not revived; contacted %v", sortedKeys(chosen.hosts))
	}
	// The site's Klaro names Google Analytics googleAnalytics, and the
	// operator's map line makes the deferred tags carry that name (Klaro
	// matches it case-sensitively), so Klaro revives them at once too.
	if len(vendorURLs(e.rules, "google-analytics", chosen.urls)) == 0 {
		t.Errorf("googleAnalytics accepted in Klaro's modal: Google Analytics not revived; requested %v", chosen.urls)
	}
	kc := s.cookie(base, "klaro")
	s.close()
	if kc == "" {
		t.Fatal("klaro wrote no klaro cookie")
	}
	t.Logf("klaro cookie as the tool wrote it: %s", kc)

	o := semLoad(t, e, base+semKlaroPage, map[string]string{"klaro": kc}, false, nil)
	for _, h := range reachedHosts(o, semHotjarHosts) {
		t.Errorf("heatmaps refused: Hotjar reached %s", h)
	}
	for _, u := range vendorURLs(e.rules, "hotjar", o.urls) {
		t.Errorf("heatmaps refused: requested %s", u)
	}
	if len(vendorURLs(e.rules, "google-analytics", o.urls)) == 0 {
		t.Errorf("googleAnalytics accepted: Google Analytics not requested; requested %v", o.urls)
	}
	if len(reachedHosts(o, semClarityHosts)) == 0 {
		t.Errorf("clarity accepted: Clarity not contacted; contacted %v", sortedKeys(o.hosts))
	}

	// The control: the same cookie with heatmaps accepted reaches Hotjar.
	all, err := klaroWith(kc, "heatmaps", true)
	if err != nil {
		t.Fatal(err)
	}
	o = semLoad(t, e, base+semKlaroPage, map[string]string{"klaro": all}, false, nil)
	if len(reachedHosts(o, semHotjarHosts)) == 0 {
		t.Errorf("control (heatmaps accepted): Hotjar not contacted, so the check above cannot fail; contacted %v", sortedKeys(o.hosts))
	}
}

// klaroWith returns Klaro's cookie value (encodeURIComponent of its JSON
// consents) with service set to on.
func klaroWith(value, service string, on bool) (string, error) {
	raw, err := url.PathUnescape(value)
	if err != nil {
		return "", err
	}
	var consents map[string]bool
	if err := json.Unmarshal([]byte(raw), &consents); err != nil {
		return "", fmt.Errorf("klaro cookie %q: %w", value, err)
	}
	if _, ok := consents[service]; !ok {
		return "", fmt.Errorf("klaro cookie %q has no service %s", value, service)
	}
	consents[service] = on
	b, err := json.Marshal(consents)
	if err != nil {
		return "", err
	}
	return url.PathEscape(string(b)), nil
}

func testSemanticsTCF(t *testing.T, e *browserEnv, base string) {
	o := semLoad(t, e, base+semTCFPage, map[string]string{"euconsent-v2": tcfNo91}, false, nil)
	for _, h := range reachedHosts(o, semCriteoHosts) {
		t.Errorf("TC string without vendor 91: Criteo reached %s", h)
	}
	for _, u := range vendorURLs(e.rules, "criteo", o.urls) {
		t.Errorf("TC string without vendor 91: requested %s", u)
	}
	if len(vendorURLs(e.rules, "google-ads", o.urls)) == 0 || len(reachedHosts(o, []string{"www.googletagmanager.com"})) == 0 {
		t.Errorf("TC string with vendor 755: the Google Ads tag not loaded; requested %v", o.urls)
	}

	// The control: vendor 91 consented reaches Criteo.
	o = semLoad(t, e, base+semTCFPage, map[string]string{"euconsent-v2": tcfWith91}, false, nil)
	if len(reachedHosts(o, semCriteoHosts)) == 0 {
		t.Errorf("control (vendor 91 consented): Criteo not contacted, so the check above cannot fail; contacted %v", sortedKeys(o.hosts))
	}
}

// reachedHosts lists the hosts of the load that are one of domains or
// under one.
func reachedHosts(o *observation, domains []string) []string {
	var out []string
	for _, h := range sortedKeys(o.hosts) {
		if slices.ContainsFunc(domains, func(d string) bool { return h == d || strings.HasSuffix(h, "."+d) }) {
			out = append(out, h)
		}
	}
	return out
}

// vendorURLs lists the URLs the rules classify as vendor id's.
func vendorURLs(r *rules.Rules, id string, urls []string) []string {
	var out []string
	for _, u := range urls {
		if v := r.Classify(u); v != nil && v.ID == id {
			out = append(out, u)
		}
	}
	return out
}

// semTab is one visit of a page in its own browser context, step by step
// (the defer test's phases): it holds the suite's load lock from open to
// close, so the hosts recorded meanwhile are the visit's.
type semTab struct {
	t      *testing.T
	e      *browserEnv
	ctx    context.Context
	cancel context.CancelFunc
	tb     *tab
	last   *observation // the last phase; close adds late hosts to it
	done   bool
}

// openSemTab opens pageURL in a fresh context holding cookies (name →
// value, set for the page's URL as the browser would have stored them)
// and sending Sec-GPC: 1 with gpc.
func openSemTab(t *testing.T, e *browserEnv, pageURL string, cookies map[string]string, gpc bool) *semTab {
	t.Helper()
	e.loadMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*loadTimeout)
	s := &semTab{t: t, e: e, ctx: ctx, cancel: cancel}
	t.Cleanup(s.close)
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	var spare spareTab
	select {
	case spare = <-e.spares:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if spare.err != nil {
		t.Fatal(spare.err)
	}
	s.tb = spare.t
	var list []any
	for _, name := range sortedKeys(cookies) {
		list = append(list, map[string]any{"name": name, "value": cookies[name], "url": pageURL})
	}
	if len(list) > 0 {
		s.must(e.br.cdp.call(ctx, "", "Storage.setCookies", map[string]any{
			"cookies": list, "browserContextId": s.tb.ctxID}, nil))
	}
	s.must(s.tb.visit(ctx, pageURL, visitor{gpc: gpc}))
	return s
}

func (s *semTab) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

// phase waits for the page to settle and returns what it reached since the
// last phase.
func (s *semTab) phase(name string) *observation {
	s.t.Helper()
	stuck, err := s.tb.settle(s.ctx)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	hosts, err := s.e.pageHosts()
	s.must(err)
	s.last = &observation{hosts: hosts, urls: s.tb.takeURLs(), stuck: stuck}
	s.t.Logf("%s: contacted %v", name, sortedKeys(hosts))
	return s.last
}

// cookie returns the value of the cookie name the browser holds for base,
// "" for none.
func (s *semTab) cookie(base, name string) string {
	s.t.Helper()
	var r struct {
		Cookies []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"cookies"`
	}
	s.must(s.tb.s.call(s.ctx, "Network.getCookies", map[string]any{"urls": []string{base + "/"}}, &r))
	for _, c := range r.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// close disposes of the context, adds what reached the recorder since the
// last phase to that phase (nothing of the page can connect any more), and
// releases the load lock. It may be called again.
func (s *semTab) close() {
	if s.done {
		return
	}
	s.done = true
	defer s.e.loadMu.Unlock()
	defer s.cancel()
	if s.tb == nil {
		return
	}
	if err := s.tb.close(); err != nil {
		s.t.Error(err)
	}
	hosts, err := s.e.pageHosts()
	if err != nil {
		s.t.Error(err)
		return
	}
	if s.last != nil {
		for h, how := range hosts {
			if _, ok := s.last.hosts[h]; !ok {
				s.t.Logf("after the last phase: contacted %s", h)
				s.last.hosts[h] = how
			}
		}
	}
}

// semLoad loads pageURL once in a fresh context (cookies and gpc as for
// openSemTab), runs check on the settled page, and returns what the load
// reached.
func semLoad(t *testing.T, e *browserEnv, pageURL string, cookies map[string]string, gpc bool, check func(*semTab)) *observation {
	t.Helper()
	s := openSemTab(t, e, pageURL, cookies, gpc)
	o := s.phase(fmt.Sprintf("%s %v gpc=%t", pageURL, sortedKeys(cookies), gpc))
	if check != nil {
		check(s)
	}
	s.close()
	return o
}
