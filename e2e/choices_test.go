package e2e

// The "Privacy choices" control in Chromium: withdrawing consent is as easy
// as giving it (GDPR Art. 7(3)). With JavaScript off, a visitor who
// accepted everything and holds Google Analytics' and the Meta pixel's
// cookies loads a page with both trackers (they load), clicks the page's
// "Privacy choices" control, then "Reject all" on the settings page, and
// is back on the page: two clicks, no tracker contacted on that load, the
// tracking cookies gone from the browser's jar. With JavaScript on, the
// control's accessibility basics: a named link, its contrast, a visible
// focus ring, small and in a corner.

import (
	"context"
	"strings"
	"testing"
)

// everything is the consent cookie of a visitor who accepted all the
// suite's categories; trackingCookies are cookies of Google Analytics and
// the Meta pixel, as their tags set them.
const everything = "functional.analytics.advertising"

var trackingCookies = map[string]string{"_ga": "GA1.1.1234567890.1764979200", "_fbp": "fb.1.1764979200000.1234567890"}

func TestBrowserChoices(t *testing.T) {
	e := needBrowser(t)
	sites := startToolsCaddy(t, e, map[string]string{
		"choices": `	consent {
		rules ` + e.root + `/testdata/browser/functional.rules
		endpoint /consent
		banner /privacy
	}
	reverse_proxy {upstream}`,
	})
	t.Run("nojs/withdraw-in-two-clicks", func(t *testing.T) { testWithdrawTwoClicks(t, e, sites["choices"]) })
	t.Run("js/control-a11y", func(t *testing.T) { testChoicesA11y(t, e, sites["choices"]) })
}

// openWithCookies opens pageURL in a fresh tab whose jar already holds a
// consent cookie granting everything and the tracking cookies, host-only
// at Path=/ as the endpoint and the tags would have set them.
func openWithCookies(ctx context.Context, e *browserEnv, pageURL string, noJS bool) (*tab, error) {
	var s spareTab
	select {
	case s = <-e.spares:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	cookies := []any{map[string]any{"name": "consent", "value": everything, "url": pageURL, "path": "/"}}
	for name, value := range trackingCookies {
		cookies = append(cookies, map[string]any{"name": name, "value": value, "url": pageURL, "path": "/"})
	}
	if err := e.br.cdp.call(ctx, "", "Storage.setCookies", map[string]any{
		"cookies": cookies, "browserContextId": s.t.ctxID}, nil); err != nil {
		s.t.close()
		return nil, err
	}
	if err := s.t.visit(ctx, pageURL, visitor{noJS: noJS}); err != nil {
		s.t.close()
		return nil, err
	}
	return s.t, nil
}

// jar returns the cookies the browser holds for base, name → value.
func jar(ctx context.Context, tb *tab, base string) (map[string]string, error) {
	var r struct {
		Cookies []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"cookies"`
	}
	if err := tb.s.call(ctx, "Network.getCookies", map[string]any{"urls": []string{base + "/"}}, &r); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range r.Cookies {
		out[c.Name] = c.Value
	}
	return out, nil
}

// choicesPhase is what one load of the withdrawal reached and showed.
type choicesPhase struct {
	hosts  map[string]string
	urls   []string
	docURL string
	jar    map[string]string
}

func testWithdrawTwoClicks(t *testing.T, e *browserEnv, base string) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*loadTimeout)
	defer cancel()
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	tb, err := openWithCookies(ctx, e, base+bannerPage, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.close()
	phase := func(name string) choicesPhase {
		t.Helper()
		if _, err := tb.settle(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := choicesPhase{urls: tb.takeURLs()}
		if p.hosts, err = e.pageHosts(); err != nil {
			t.Fatal(err)
		}
		root, err := domRoot(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		p.docURL = root.DocumentURL
		if p.jar, err = jar(ctx, tb, base); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: url %s, cookies %v, contacted %v", name, p.docURL, p.jar, sortedKeys(p.hosts))
		return p
	}
	has := func(selector string) bool {
		t.Helper()
		root, err := domRoot(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		n, err := domQuery(ctx, tb, root.NodeID, selector)
		if err != nil {
			t.Fatal(err)
		}
		return n != 0
	}
	clicks := 0
	click := func(selector string) {
		t.Helper()
		tb.loaded = false
		navs := tb.navs
		clicks++
		if err := clickNode(ctx, tb, selector); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.settle(ctx); err != nil {
			t.Fatal(err)
		}
		if tb.navs == navs {
			t.Fatalf("click %d (%s) did not navigate", clicks, selector)
		}
	}

	// Everything granted: the trackers load, and the page has the control
	// and no banner.
	first := phase("accepted everything")
	for _, h := range []string{"www.google-analytics.com", "www.facebook.com"} {
		if _, ok := first.hosts[h]; !ok {
			t.Fatalf("accepted everything: %s not contacted, so the test cannot see the withdrawal; contacted %v", h, sortedKeys(first.hosts))
		}
	}
	for name := range trackingCookies {
		if _, ok := first.jar[name]; !ok {
			t.Fatalf("the jar lacks %s before the withdrawal", name)
		}
	}
	if !has("a#ce-choices[href]") || has("#ce-banner") {
		t.Fatal("a decided visitor's page: want the #ce-choices link and no banner")
	}

	// Click 1: the control, to the settings page with every box ticked.
	click("#ce-choices")
	settings := phase("settings page")
	if !strings.HasPrefix(settings.docURL, base+"/consent?") {
		t.Fatalf("after clicking Privacy choices the browser is at %s; want the settings page", settings.docURL)
	}
	for _, c := range []string{"functional", "analytics", "advertising"} {
		if !has(`input[type="checkbox"][name="grant"][value="` + c + `"][checked]`) {
			t.Errorf("settings page: %s is not ticked, though the visitor granted it", c)
		}
	}
	for _, l := range deniedReached(e.rules, consentState{}.set(), settings.hosts, settings.urls) {
		t.Errorf("settings page: %s", l)
	}

	// Click 2: "Reject all", back on the page.
	click(`button[name="action"][value="reject_all"]`)
	after := phase("after reject all")
	if clicks != 2 {
		t.Errorf("%d clicks; withdrawing takes two", clicks)
	}
	if after.docURL != base+bannerPage {
		t.Errorf("after reject all the browser is at %s; want the page again, %s", after.docURL, base+bannerPage)
	}
	for _, h := range append(bannerAnalytics, bannerAdvertising...) {
		if how, ok := after.hosts[h]; ok {
			t.Errorf("after reject all: %s contacted (%s)", h, how)
		}
	}
	for _, l := range deniedReached(e.rules, consentState{}.set(), after.hosts, after.urls) {
		t.Errorf("after reject all: %s", l)
	}
	for name := range trackingCookies {
		if v, ok := after.jar[name]; ok {
			t.Errorf("after reject all: the jar still holds %s=%s", name, v)
		}
	}
	if c := after.jar["consent"]; c == "" || strings.Contains(c, "analytics") || strings.Contains(c, "advertising") || strings.Contains(c, "functional") {
		t.Errorf("after reject all: consent cookie %q; want one granting nothing but necessary", c)
	}
	if !has("a#ce-choices[href]") {
		t.Error("after reject all: the control is gone; the visitor must be able to change the choice again")
	}
}

// testChoicesA11y checks, with JavaScript on, that the control is a link
// named in the accessibility tree, that its text has a contrast of at
// least 4.5:1 (WCAG AA), that keyboard focus draws a ring, and that it is
// small and in the bottom-left corner, over no more of the page.
func testChoicesA11y(t *testing.T, e *browserEnv, base string) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*loadTimeout)
	defer cancel()
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	tb, err := openWithCookies(ctx, e, base+bannerPage, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.close()
	if _, err := tb.settle(ctx); err != nil {
		t.Fatal(err)
	}
	nodes, err := tb.axTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, n := range nodes {
		named = named || n.Role.Value == "link" && n.Name.Value == "Privacy choices"
	}
	if !named {
		t.Error(`no link named "Privacy choices" in the accessibility tree`)
	}
	var m struct {
		FG, BG              []float64
		Left, Bottom        float64
		Width, Height       float64
		ViewW, ViewH        float64
		Outline, OutlineCol string
	}
	if err := tb.eval(ctx, `(() => {
		const a = document.getElementById('ce-choices');
		const rgb = s => s.match(/[\d.]+/g).slice(0, 3).map(Number);
		const cs = getComputedStyle(a), r = a.getBoundingClientRect();
		return {FG: rgb(cs.color), BG: rgb(cs.backgroundColor), Left: r.left, Bottom: innerHeight - r.bottom,
			Width: r.width, Height: r.height, ViewW: innerWidth, ViewH: innerHeight};
	})()`, &m); err != nil {
		t.Fatal(err)
	}
	c := contrastRatio(m.FG, m.BG)
	t.Logf("control: rgb%v on rgb%v = %.2f:1; %.0fx%.0f px at %.0f px from the left, %.0f px from the bottom of %.0fx%.0f",
		m.FG, m.BG, c, m.Width, m.Height, m.Left, m.Bottom, m.ViewW, m.ViewH)
	if c < 4.5 {
		t.Errorf("control contrast %.2f:1, under 4.5:1", c)
	}
	if m.Height < 24 || m.Height > 48 || m.Width > 250 || m.Left > 20 || m.Bottom > 20 || m.Bottom < 0 {
		t.Errorf("control %.0fx%.0f at left %.0f, bottom %.0f; want a pill of 24-48 px high in the bottom-left corner", m.Width, m.Height, m.Left, m.Bottom)
	}

	// Keyboard focus: the control comes first in the body, so the first
	// Tab reaches it, and it draws an outline.
	if err := tb.s.call(ctx, "Page.bringToFront", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.call(ctx, "Emulation.setFocusEmulationEnabled", map[string]any{"enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"keyDown", "keyUp"} {
		if err := tb.s.call(ctx, "Input.dispatchKeyEvent", map[string]any{
			"type": typ, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var focus struct {
		ID, Style string
		Width     float64
	}
	if err := tb.eval(ctx, `(() => { const a = document.activeElement, cs = getComputedStyle(a);
		return {ID: a.id, Style: cs.outlineStyle, Width: parseFloat(cs.outlineWidth)}; })()`, &focus); err != nil {
		t.Fatal(err)
	}
	if focus.ID != "ce-choices" || focus.Style == "none" || focus.Width < 2 {
		t.Errorf("first Tab: focus on #%s, outline %s %.0f px; want the control with a visible ring", focus.ID, focus.Style, focus.Width)
	}
}
