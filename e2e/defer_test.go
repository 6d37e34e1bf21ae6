package e2e

// mode defer with a real client consent tool: vanilla-cookieconsent v3, from
// npm, on testdata/browser/defer-cookieconsent.html. consentedge serves the
// page with every tracker inert; the visitor accepts one category in the
// tool's own dialog (real mouse clicks at the buttons' boxes); the tool must
// bring back that category's trackers, without a reload, and nothing else.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

const deferPage = "/browser/defer-cookieconsent.html"

// deferKnownGap lists, per category accepted, trackers that the filter defers
// and the consent tool cannot bring back, with why. Each listed tracker is
// still checked: one that starts loading fails the test, so the entry goes.
var deferKnownGap = map[string]string{
	// cookieconsent v3 revives <script> elements only (its manageScriptTags
	// walks script[data-category]), so `mode defer` strips the other
	// elements for it (consent.Reader.DeferDialect): they come back with the next
	// page view, not without a reload.
	"advertising px.ads.linkedin.com": "an img pixel: stripped, as cookieconsent v3 revives scripts only",
}

// deferPhase is what one step of the visitor's visit reached.
type deferPhase struct {
	hosts map[string]string
	urls  []string
}

func TestBrowserDeferCookieconsent(t *testing.T) {
	e := needBrowser(t)
	if _, err := os.Stat(filepath.Join(e.root, "testdata", "browser", "node_modules", "vanilla-cookieconsent", "dist", "cookieconsent.umd.js")); err != nil {
		msg := "vanilla-cookieconsent is not installed: run npm ci in testdata/browser"
		if e2eRequired() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	r := e.rules

	// What each category's trackers are on this page: the page with the
	// filter off requests all of them at once (by URL, which says the
	// category where a host is shared: www.googletagmanager.com serves
	// Analytics and Ads tags).
	base := e.observeAll(t, []loadReq{{e.off, deferPage, visitor{}}})[loadReq{e.off, deferPage, visitor{}}]
	want := map[rules.Category]map[string]bool{}
	for _, u := range base.urls {
		if v := r.Classify(u); v != nil && v.Category != rules.Necessary {
			if want[v.Category] == nil {
				want[v.Category] = map[string]bool{}
			}
			want[v.Category][urlHost(u)] = true
		}
	}
	for _, c := range []rules.Category{rules.Functional, rules.Analytics, rules.Advertising} {
		if len(want[c]) == 0 {
			t.Fatalf("the page reaches no %s tracker even with the filter off: %v", r.CategoryID(c), sortedKeys(base.hosts))
		}
	}

	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*loadTimeout)
	defer cancel()
	if _, err := e.rec.take(); err != nil {
		t.Fatal(err)
	}
	tb, err := e.openTab(ctx, e.deferURL+deferPage, visitor{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.close()
	phase := func(name string) deferPhase {
		t.Helper()
		if _, err := tb.settle(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hosts, err := e.pageHosts()
		if err != nil {
			t.Fatal(err)
		}
		return deferPhase{hosts: hosts, urls: tb.takeURLs()}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// 1. First visit: nothing but strictly necessary services.
	start := phase("first load")
	for _, l := range deniedReached(r, rules.Set(0).With(rules.Necessary), start.hosts, start.urls) {
		t.Errorf("first load, nothing accepted: %s", l)
	}
	var inert int
	must(tb.eval(ctx, `document.querySelectorAll('script[type="text/plain"][data-category]').length`, &inert))
	if inert < 5 {
		t.Errorf("%d deferred scripts on the page; want the 5 tracker scripts inert", inert)
	}
	// A mark the page keeps until it is reloaded.
	must(tb.eval(ctx, `window.__visit = Math.random()`, nil))
	var mark float64
	must(tb.eval(ctx, `window.__visit`, &mark))
	navs := tb.navs

	accept := func(cat rules.Category, open string) {
		t.Helper()
		id := r.CategoryID(cat)
		must(tb.waitFor(ctx, `document.querySelector('`+open+`')`))
		must(tb.click(ctx, open))
		must(tb.waitFor(ctx, `document.documentElement.classList.contains('show--preferences')`))
		toggle := `#cc-main .pm input.section__toggle[value="` + id + `"]`
		must(tb.click(ctx, toggle))
		must(tb.waitFor(ctx, `document.querySelector('`+toggle+`').checked`))
		must(tb.click(ctx, `#cc-main .pm button[data-role="save"]`))
		must(tb.waitFor(ctx, `CookieConsent.acceptedCategory('`+id+`')`))
	}
	check := func(p deferPhase, accepted rules.Category, granted rules.Set) {
		t.Helper()
		id := r.CategoryID(accepted)
		for _, l := range deniedReached(r, granted, p.hosts, p.urls) {
			t.Errorf("after accepting %s: %s", id, l)
		}
		for _, h := range sortedKeys(want[accepted]) {
			_, ok := p.hosts[h]
			why, gap := deferKnownGap[id+" "+h]
			switch {
			case gap && ok:
				t.Errorf("deferKnownGap %q loads now: delete its entry (%s)", id+" "+h, why)
			case gap:
				t.Logf("known gap: %s not revived after accepting %s (%s)", h, id, why)
			case !ok:
				t.Errorf("after accepting %s: %s not contacted; the page reaches it with the filter off", id, h)
			}
		}
		var now float64
		must(tb.eval(ctx, `window.__visit`, &now))
		if now != mark || tb.navs != navs {
			t.Errorf("after accepting %s: the page was reloaded", id)
		}
	}

	// 2. The visitor opens the preferences from the consent dialog and
	// accepts analytics only.
	must(tb.waitFor(ctx, `document.documentElement.classList.contains('show--consent')`))
	accept(rules.Analytics, `#cc-main .cm button[data-role="show"]`)
	granted := rules.Set(0).With(rules.Necessary).With(rules.Analytics)
	check(phase("analytics accepted"), rules.Analytics, granted)

	// 3. Later, from the page's "Cookie settings" button, advertising too.
	accept(rules.Advertising, `#settings`)
	granted = granted.With(rules.Advertising)
	p := phase("advertising accepted")
	check(p, rules.Advertising, granted)
	for h := range want[rules.Analytics] {
		if _, ok := p.hosts[h]; ok {
			// Not a leak (analytics is granted), but the tool should run
			// a revived script once.
			t.Logf("after accepting advertising: %s contacted again", h)
		}
	}
	if t.Failed() {
		var html string
		if tb.eval(ctx, `document.documentElement.outerHTML`, &html) == nil {
			t.Logf("page now:\n%s", trimLines(html, 80))
		}
	}
}

// trimLines keeps the first n lines of s.
func trimLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
