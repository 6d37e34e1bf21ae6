package e2e

// The operator-facing features in Chromium, configured the way an operator
// does it: a Caddyfile, run by the consentedge binary (the
// in-process Caddy of the suite is a singleton with its own config, so these
// sites get a process of their own, in front of the same test origin).
//
//   - csp: the CSP backstop stops what a granted script injects at run time
//     (a first-party tag manager injecting the Meta pixel while advertising
//     is denied), and its report endpoint counts the violation per vendor;
//     the same page through a site without the backstop reaches the pixel,
//     which proves the check can fail.
//   - klaro: mode defer klaro writes deferred trackers as Klaro's blocked
//     scripts, and Klaro (from npm) revives the one the visitor accepts in
//     its own modal, without a reload, and not the other.
//   - banner: the consent banner with JavaScript on and off: shown before a
//     decision with nothing denied contacted; "Reject all" posts, the 303
//     brings the page back without the banner and without trackers; ticking
//     analytics and "Save my choices" brings analytics back and not
//     advertising. With JavaScript on, its accessibility basics: labelled
//     checkboxes, focus order, contrast of its buttons.

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consentedge/consentedge/rules"
)

// toolSites are the Caddyfile sites of TestBrowserTools, by name.
type toolSites map[string]string

// startToolsCaddy runs the consentedge command (run --config) with a
// Caddyfile of the given site blocks (name → the directives inside the
// block), each on a free loopback port in front of the test origin, until
// the test ends. It returns each site's base URL.
func startToolsCaddy(t *testing.T, e *browserEnv, sites map[string]string) toolSites {
	t.Helper()
	dir := t.TempDir()
	bin := e.command(t)
	upstream := strings.TrimPrefix(e.origin.URL, "http://")
	var cf strings.Builder
	cf.WriteString("{\n\tauto_https off\n\tadmin off\n\tpersist_config off\n}\n")
	out := toolSites{}
	ports, err := freePorts(len(sites))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range sites {
		addr := ports[len(out)]
		out[name] = "http://" + addr
		body = strings.ReplaceAll(body, "{upstream}", upstream)
		fmt.Fprintf(&cf, "# %s\nhttp://%s {\n%s\n}\n", name, addr, body)
	}
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(cf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Dir = e.root
	if logs, err := startServing(t, cmd, 30*time.Second); err != nil {
		t.Fatalf("consentedge: %v\n%s\nCaddyfile:\n%s", err, logs, cf.String())
	}
	return out
}

func TestBrowserTools(t *testing.T) {
	e := needBrowser(t)
	rulesFile := filepath.Join(e.root, "testdata", "browser", "functional.rules")
	sites := startToolsCaddy(t, e, map[string]string{
		// The backstop, with the metrics of the config's registry (where
		// the report endpoint counts) served beside it.
		"csp": `	handle /metrics {
		metrics
	}
	handle {
		consent {
			rules ` + rulesFile + `
			csp enforce
			csp_allow 'unsafe-inline'
			csp_report /csp-report
		}
		reverse_proxy {upstream}
	}`,
		// The control: the same filter without the backstop.
		"nocsp": `	consent {
		rules ` + rulesFile + `
	}
	reverse_proxy {upstream}`,
		"klaro": `	consent {
		rules ` + rulesFile + `
		mode defer klaro
	}
	reverse_proxy {upstream}`,
		"banner": `	consent {
		rules ` + rulesFile + `
		endpoint /consent
		banner /privacy
	}
	reverse_proxy {upstream}`,
	})
	t.Run("csp", func(t *testing.T) { testCSPBackstop(t, e, sites) })
	t.Run("klaro", func(t *testing.T) { testDeferKlaro(t, e, sites) })
	t.Run("banner", func(t *testing.T) { testBanner(t, e, sites) })
}

// cspPage: Google Analytics as markup, and a first-party tag manager that
// injects the Meta pixel at run time from a host it decodes (no static
// reading names it).
const cspPage = "/browser/csp-tag-manager.html"

func testCSPBackstop(t *testing.T, e *browserEnv, sites toolSites) {
	const pixel, analytics = "connect.facebook.net", "www.googletagmanager.com"
	v := visitor{cookie: "analytics"} // advertising denied
	before, err := scrapeCounter(sites["csp"]+"/metrics", `consentedge_csp_reports_total{vendor="facebook"}`)
	if err != nil {
		t.Fatal(err)
	}
	ran := func(tb *tab) error {
		var ok bool
		if err := tb.eval(context.Background(), `window.__tagManagerRan === true`, &ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("the tag manager script did not run")
		}
		return nil
	}

	// The control: without the backstop the injected pixel is reached,
	// so the check below can fail.
	o, err := e.loadThen(sites["nocsp"]+cspPage, v, ran)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := o.hosts[pixel]; !ok {
		t.Fatalf("control (no csp): %s not contacted, so the test cannot see the injection; contacted %v", pixel, sortedKeys(o.hosts))
	}
	t.Logf("control (no csp), %s: contacted %v", v, sortedKeys(o.hosts))

	o, err = e.loadThen(sites["csp"]+cspPage, v, ran)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("csp enforce, %s: contacted %v", v, sortedKeys(o.hosts))
	if how, ok := o.hosts[pixel]; ok {
		t.Errorf("csp enforce, advertising denied: the injected Meta pixel reached %s (%s)", pixel, how)
	}
	// The policy lets granted vendors through.
	if _, ok := o.hosts[analytics]; !ok {
		t.Errorf("csp enforce, analytics granted: %s (Google Analytics) not contacted", analytics)
	}
	for _, l := range deniedReached(e.rules, consentState{granted: []rules.Category{rules.Analytics}}.set(), o.hosts, nil) {
		t.Errorf("csp enforce: %s", l)
	}

	// Chromium posts the violation to report-uri on its own schedule.
	deadline := time.Now().Add(5 * time.Second)
	for {
		after, err := scrapeCounter(sites["csp"]+"/metrics", `consentedge_csp_reports_total{vendor="facebook"}`)
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			t.Logf("consentedge_csp_reports_total{vendor=\"facebook\"}: %v → %v", before, after)
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("no CSP report counted for facebook within 5 s (counter %v)", after)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scrapeCounter reads one sample of a Prometheus text exposition; a series
// not (yet) there reads 0.
func scrapeCounter(url, series string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	return 0, sc.Err()
}

// bannerPage: Google Analytics and the Meta pixel, as scripts and as
// images (the images load with JavaScript off too), after two links of the
// page's own.
const bannerPage = "/browser/banner.html"

// The trackers of bannerPage by category, and the hosts that must come back
// when analytics is granted (the images' hosts; with JavaScript, the tag's).
var (
	bannerAnalytics   = []string{"www.google-analytics.com", "www.googletagmanager.com"}
	bannerAdvertising = []string{"www.facebook.com", "connect.facebook.net"}
)

func testBanner(t *testing.T, e *browserEnv, sites toolSites) {
	base := sites["banner"]
	necessary := consentState{}.set()
	withAnalytics := consentState{granted: []rules.Category{rules.Analytics}}.set()
	for _, noJS := range []bool{false, true} {
		js := "js"
		if noJS {
			js = "nojs"
		}
		t.Run(js+"/reject", func(t *testing.T) {
			bannerVisit(t, e, base, noJS, func(ctx context.Context, tb *tab) {
				if !noJS {
					checkBannerA11y(ctx, t, tb)
				}
				if err := clickNode(ctx, tb, `#ce-banner button[name="action"][value="reject_all"]`); err != nil {
					t.Fatal(err)
				}
			}, func(p bannerPhase) {
				for _, l := range deniedReached(e.rules, necessary, p.hosts, p.urls) {
					t.Errorf("after reject all: %s", l)
				}
				for _, h := range append(bannerAnalytics, bannerAdvertising...) {
					if _, ok := p.hosts[h]; ok {
						t.Errorf("after reject all: %s contacted", h)
					}
				}
				if p.cookie == "" || strings.Contains(p.cookie, "analytics") || strings.Contains(p.cookie, "advertising") {
					t.Errorf("after reject all: consent cookie %q; want one granting nothing but necessary", p.cookie)
				}
			})
		})
		t.Run(js+"/save-analytics", func(t *testing.T) {
			bannerVisit(t, e, base, noJS, func(ctx context.Context, tb *tab) {
				if err := clickNode(ctx, tb, `#ce-banner input[type="checkbox"][value="analytics"]`); err != nil {
					t.Fatal(err)
				}
				if err := clickNode(ctx, tb, `#ce-banner button[name="action"][value="save"]`); err != nil {
					t.Fatal(err)
				}
			}, func(p bannerPhase) {
				for _, l := range deniedReached(e.rules, withAnalytics, p.hosts, p.urls) {
					t.Errorf("after saving analytics: %s", l)
				}
				want := bannerAnalytics[:1]
				if !noJS {
					want = bannerAnalytics
				}
				for _, h := range want {
					if _, ok := p.hosts[h]; !ok {
						t.Errorf("after saving analytics: %s (analytics) not contacted; contacted %v", h, sortedKeys(p.hosts))
					}
				}
				for _, h := range bannerAdvertising {
					if _, ok := p.hosts[h]; ok {
						t.Errorf("after saving analytics: %s (advertising) contacted", h)
					}
				}
				if !strings.Contains(p.cookie, "analytics") || strings.Contains(p.cookie, "advertising") {
					t.Errorf("after saving analytics: consent cookie %q; want analytics granted, advertising not", p.cookie)
				}
			})
		})
	}
}

// bannerPhase is what one load of the banner visit reached and showed.
type bannerPhase struct {
	hosts  map[string]string
	urls   []string
	docURL string
	banner bool   // #ce-banner is in the document
	cookie string // the consent cookie's value
}

// bannerVisit opens bannerPage in a fresh context without a decision,
// checks the banner is there and nothing denied was reached, lets act
// decide through the banner (a form post), waits for the page the 303
// leads back to, checks the banner is gone and the page was the same one,
// and hands what that page reached to check.
func bannerVisit(t *testing.T, e *browserEnv, base string, noJS bool,
	act func(context.Context, *tab), check func(bannerPhase)) {
	t.Helper()
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*loadTimeout)
	defer cancel()
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	tb, err := e.openTab(ctx, base+bannerPage, visitor{noJS: noJS})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.close()
	phase := func(name string) bannerPhase {
		t.Helper()
		if _, err := tb.settle(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hosts, err := e.pageHosts()
		if err != nil {
			t.Fatal(err)
		}
		p := bannerPhase{hosts: hosts, urls: tb.takeURLs()}
		root, err := domRoot(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		p.docURL = root.DocumentURL
		n, err := domQuery(ctx, tb, root.NodeID, "#ce-banner")
		if err != nil {
			t.Fatal(err)
		}
		p.banner = n != 0
		if p.cookie, err = consentCookie(ctx, tb, base); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: url %s, banner %t, consent cookie %q, contacted %v", name, p.docURL, p.banner, p.cookie, sortedKeys(p.hosts))
		return p
	}
	first := phase("first load")
	if !first.banner {
		t.Fatal("first load, no decision yet: no banner (#ce-banner) on the page")
	}
	for _, l := range deniedReached(e.rules, consentState{}.set(), first.hosts, first.urls) {
		t.Errorf("first load, no decision yet: %s", l)
	}
	// The decision is a form post answered 303 and a new document: wait
	// for its load event.
	tb.loaded = false
	navs := tb.navs
	act(ctx, tb)
	after := phase("after the decision")
	if tb.navs == navs {
		t.Fatalf("the decision did not navigate (no form post)")
	}
	if after.docURL != base+bannerPage {
		t.Errorf("after the decision the browser is at %s; want the page again, %s", after.docURL, base+bannerPage)
	}
	if after.banner {
		t.Errorf("after the decision the banner is still there")
	}
	check(after)
}

// domNode is the part of a DOM.Node read here.
type domNode struct {
	NodeID      int    `json:"nodeId"`
	DocumentURL string `json:"documentURL"`
}

// domRoot returns the page's document node. The DOM domain works with
// JavaScript off, where Runtime.evaluate of the page's scripts does not.
func domRoot(ctx context.Context, tb *tab) (domNode, error) {
	var doc struct {
		Root domNode `json:"root"`
	}
	err := tb.s.call(ctx, "DOM.getDocument", map[string]any{"depth": 0}, &doc)
	return doc.Root, err
}

// domQuery returns the node id of the first match of selector under node, 0
// for none.
func domQuery(ctx context.Context, tb *tab, node int, selector string) (int, error) {
	var q struct {
		NodeID int `json:"nodeId"`
	}
	err := tb.s.call(ctx, "DOM.querySelector", map[string]any{"nodeId": node, "selector": selector}, &q)
	return q.NodeID, err
}

// clickNode clicks the middle of the first element matching selector with
// mouse events at its box, like tab.click but without its wait in the
// page's JavaScript, so that it works with JavaScript off too. The element
// is scrolled into view first; the banner is fixed, so its box is stable
// once the page has loaded.
func clickNode(ctx context.Context, tb *tab, selector string) error {
	root, err := domRoot(ctx, tb)
	if err != nil {
		return err
	}
	id, err := domQuery(ctx, tb, root.NodeID, selector)
	if err != nil {
		return err
	}
	if id == 0 {
		return fmt.Errorf("click: no element matches %s", selector)
	}
	if err := tb.s.call(ctx, "DOM.scrollIntoViewIfNeeded", map[string]any{"nodeId": id}, nil); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	var box struct {
		Model struct {
			Border []float64 `json:"border"`
		} `json:"model"`
	}
	if err := tb.s.call(ctx, "DOM.getBoxModel", map[string]any{"nodeId": id}, &box); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	quad := box.Model.Border
	if len(quad) != 8 {
		return fmt.Errorf("click %s: no box", selector)
	}
	x := (quad[0] + quad[2] + quad[4] + quad[6]) / 4
	y := (quad[1] + quad[3] + quad[5] + quad[7]) / 4
	// What a visitor would hit there must be the element (nothing covers
	// it).
	var hit struct {
		NodeID        int `json:"nodeId"`
		BackendNodeID int `json:"backendNodeId"`
	}
	if err := tb.s.call(ctx, "DOM.getNodeForLocation", map[string]any{"x": int(x), "y": int(y)}, &hit); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	var want struct {
		Node struct {
			BackendNodeID int `json:"backendNodeId"`
		} `json:"node"`
	}
	if err := tb.s.call(ctx, "DOM.describeNode", map[string]any{"nodeId": id}, &want); err != nil {
		return err
	}
	if hit.BackendNodeID != want.Node.BackendNodeID {
		return fmt.Errorf("click %s: another element covers its middle (%.0f,%.0f)", selector, x, y)
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p := map[string]any{"type": typ, "x": x, "y": y}
		if typ != "mouseMoved" {
			p["button"], p["clickCount"] = "left", 1
		}
		if err := tb.s.call(ctx, "Input.dispatchMouseEvent", p, nil); err != nil {
			return err
		}
	}
	return nil
}

// consentCookie returns the value of the consent cookie the browser holds
// for base, "" for none.
func consentCookie(ctx context.Context, tb *tab, base string) (string, error) {
	var r struct {
		Cookies []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"cookies"`
	}
	if err := tb.s.call(ctx, "Network.getCookies", map[string]any{"urls": []string{base + "/"}}, &r); err != nil {
		return "", err
	}
	for _, c := range r.Cookies {
		if c.Name == "consent" {
			return c.Value, nil
		}
	}
	return "", nil
}

// checkBannerA11y checks, with JavaScript on, that every checkbox of the
// banner has an accessible name from a label (the accessibility tree), that
// Tab from the top of the page walks the banner's controls before the
// page's own links, and that the text of its buttons and link has a
// contrast of at least 4.5:1 (WCAG AA) against what is behind it.
func checkBannerA11y(ctx context.Context, t *testing.T, tb *tab) {
	t.Helper()
	// Labels: the accessibility tree names every checkbox; each name
	// comes from a <label> (the DOM says which).
	nodes, err := tb.axTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var boxes []string
	for _, n := range nodes {
		if n.Role.Value == "checkbox" && !n.Ignored {
			if strings.TrimSpace(n.Name.Value) == "" {
				t.Errorf("a checkbox without an accessible name")
			}
			boxes = append(boxes, n.Name.Value)
		}
	}
	var unlabelled []string
	if err := tb.eval(ctx, `[...document.querySelectorAll('#ce-banner input[type=checkbox]')]
		.filter(i => i.labels.length === 0 || !i.labels[0].textContent.trim()).map(i => i.outerHTML)`, &unlabelled); err != nil {
		t.Fatal(err)
	}
	for _, u := range unlabelled {
		t.Errorf("a banner checkbox without a label: %s", u)
	}
	var inBanner int
	if err := tb.eval(ctx, `document.querySelectorAll('#ce-banner input[type=checkbox]').length`, &inBanner); err != nil {
		t.Fatal(err)
	}
	if len(boxes) != inBanner || inBanner < 4 {
		t.Errorf("accessibility tree: checkboxes %q; the banner has %d (want necessary, functional, analytics, advertising)", boxes, inBanner)
	}
	t.Logf("checkboxes in the accessibility tree: %q", boxes)

	// Focus order: Tab presses from the top of the document.
	var controls int
	if err := tb.eval(ctx, `[...document.querySelectorAll('#ce-banner a[href], #ce-banner input:not([type=hidden]):not([disabled]), #ce-banner button:not([disabled])')].length`, &controls); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.call(ctx, "Page.bringToFront", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := tb.s.call(ctx, "Emulation.setFocusEmulationEnabled", map[string]any{"enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	var order []string
	for range controls + 1 {
		for _, typ := range []string{"keyDown", "keyUp"} {
			if err := tb.s.call(ctx, "Input.dispatchKeyEvent", map[string]any{
				"type": typ, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9}, nil); err != nil {
				t.Fatal(err)
			}
		}
		var who string
		if err := tb.eval(ctx, `(() => { const a = document.activeElement;
			if (!a || a === document.body) return 'body';
			const where = a.closest('#ce-banner') ? 'banner' : 'page';
			return where + ' ' + a.tagName.toLowerCase() + (a.value ? '=' + a.value : '') + (a.id ? '#' + a.id : ''); })()`, &who); err != nil {
			t.Fatal(err)
		}
		order = append(order, who)
	}
	t.Logf("focus order: %q", order)
	for i, who := range order {
		switch {
		case i < controls && !strings.HasPrefix(who, "banner "):
			t.Errorf("Tab %d focuses %q; want the banner's %d controls first", i+1, who, controls)
		case i == controls && !strings.HasPrefix(who, "page a#page-link-1"):
			t.Errorf("Tab %d focuses %q; want the page's first link after the banner", i+1, who)
		}
	}

	// Contrast of the text of the buttons and of the policy link.
	var pairs []struct {
		What string    `json:"what"`
		FG   []float64 `json:"fg"`
		BG   []float64 `json:"bg"`
	}
	if err := tb.eval(ctx, `(() => {
		const rgba = s => { const m = s.match(/[\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
		// The background behind an element: its own, else its ancestors'
		// (composited over white where all are transparent).
		const bg = el => { const layers = [];
			for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) layers.push(c); if (c[3] === 1) break; }
			let out = [255, 255, 255];
			for (const c of layers.reverse()) out = out.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
			return out; };
		return [...document.querySelectorAll('#ce-banner button, #ce-banner a')].map(el => ({
			what: el.tagName.toLowerCase() + ' ' + el.textContent.trim(),
			fg: rgba(getComputedStyle(el).color), bg: bg(el)}));
	})()`, &pairs); err != nil {
		t.Fatal(err)
	}
	if len(pairs) < 4 {
		t.Errorf("contrast: %d buttons and links in the banner; want 3 buttons and the policy link", len(pairs))
	}
	for _, p := range pairs {
		if len(p.FG) < 3 || len(p.BG) < 3 {
			t.Errorf("contrast of %s: colours %v on %v unreadable", p.What, p.FG, p.BG)
			continue
		}
		fg := p.FG[:3]
		if len(p.FG) == 4 && p.FG[3] < 1 { // text colour with alpha, over its background
			for i := range fg {
				fg[i] = p.FG[i]*p.FG[3] + p.BG[i]*(1-p.FG[3])
			}
		}
		c := contrastRatio(fg, p.BG[:3])
		t.Logf("contrast of %q: rgb%v on rgb%v = %.2f:1", p.What, fg, p.BG[:3], c)
		if c < 4.5 {
			t.Errorf("contrast of %q: %.2f:1, under 4.5:1", p.What, c)
		}
	}
}

// contrastRatio is WCAG 2's contrast ratio of two sRGB colours (0–255).
func contrastRatio(a, b []float64) float64 {
	lum := func(c []float64) float64 {
		var l [3]float64
		for i, v := range c[:3] {
			v /= 255
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// klaroPage: Google Analytics and the Meta pixel, and Klaro with a service
// for each, named by consentedge's vendor ids.
const klaroPage = "/browser/defer-klaro.html"

// testDeferKlaro: consentedge (mode defer klaro) serves the page with both
// trackers inert, as Klaro's blocked scripts; the visitor opens Klaro's
// modal, switches Google Analytics on and accepts the selection (mouse
// clicks at the boxes); Klaro must bring Google Analytics back without a
// reload, and not the Meta pixel.
func testDeferKlaro(t *testing.T, e *browserEnv, sites toolSites) {
	if _, err := os.Stat(filepath.Join(e.root, "testdata", "browser", "node_modules", "klaro", "dist", "klaro.js")); err != nil {
		msg := "klaro is not installed: run npm ci in testdata/browser"
		if e2eRequired() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	const analytics, pixel = "www.googletagmanager.com", "connect.facebook.net"
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*loadTimeout)
	defer cancel()
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	tb, err := e.openTab(ctx, sites["klaro"]+klaroPage, visitor{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	phase := func(name string) deferPhase {
		t.Helper()
		if _, err := tb.settle(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hosts, err := e.pageHosts()
		must(err)
		t.Logf("%s: contacted %v", name, sortedKeys(hosts))
		return deferPhase{hosts: hosts, urls: tb.takeURLs()}
	}

	first := phase("first load")
	for _, l := range deniedReached(e.rules, consentState{}.set(), first.hosts, first.urls) {
		t.Errorf("first load, nothing accepted: %s", l)
	}
	var inert int
	must(tb.eval(ctx, `document.querySelectorAll('script[type="text/plain"][data-type="text/javascript"][data-name][data-src]').length`, &inert))
	if inert != 2 {
		t.Errorf("%d scripts deferred for Klaro; want 2 (google-analytics, facebook)", inert)
	}
	must(tb.eval(ctx, `window.__visit = Math.random()`, nil))
	var mark float64
	must(tb.eval(ctx, `window.__visit`, &mark))
	navs := tb.navs

	// Klaro's notice → its modal → the Google Analytics switch → "Accept
	// selected".
	must(tb.click(ctx, `#klaro .cn-learn-more`))
	must(tb.click(ctx, `#klaro label[for="service-item-google-analytics"]`))
	must(tb.waitFor(ctx, `document.getElementById('service-item-google-analytics').checked`))
	must(tb.click(ctx, `#klaro .cm-btn-accept`))
	must(tb.waitFor(ctx, `klaro.getManager().confirmed && klaro.getManager().getConsent('google-analytics')`))

	p := phase("google-analytics accepted in klaro")
	granted := consentState{granted: []rules.Category{rules.Analytics}}.set()
	for _, l := range deniedReached(e.rules, granted, p.hosts, p.urls) {
		t.Errorf("after accepting google-analytics: %s", l)
	}
	if _, ok := p.hosts[analytics]; !ok {
		t.Errorf("after accepting google-analytics: %s not contacted (Klaro did not revive the deferred tag)", analytics)
	}
	if _, ok := p.hosts[pixel]; ok {
		t.Errorf("after accepting google-analytics only: %s (facebook) contacted", pixel)
	}
	var now float64
	must(tb.eval(ctx, `window.__visit`, &now))
	if now != mark || tb.navs != navs {
		t.Errorf("after accepting google-analytics: the page was reloaded")
	}
}
