package e2e

// The README demo, started the way the README says (the consentedge command
// with `run --config Caddyfile` from the repository root: the consent proxy
// in front of the demo origin), checked in the browser: without consent no
// tracker host is contacted, with consent=analytics.advertising the page's
// trackers are, and GPC takes the Meta pixel away again; the page's own list
// of the third parties that reached the visitor (testdata/demo/reached.js)
// says the same. With -update-screenshots it also writes the README's
// pictures of the page before and after consent.

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentedge/consentedge/rules"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"browser suite: write docs/demo-before.png and docs/demo-after.png from the demo test")

// startDemo runs the consentedge command on the repository's Caddyfile from
// the repository root, as the README does, until the test ends, and returns
// the demo's URL. The Caddyfile's ports (the proxy's 8080, the origin's 8081)
// are swapped for free ones, so that a demo left running, or another run of
// the suite, does not stand in the way; nothing else of it changes.
func startDemo(t *testing.T, e *browserEnv) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(e.root, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	cf := string(src)
	var proxy string
	for _, port := range []string{"8080", "8081"} {
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		_, free, _ := net.SplitHostPort(addr)
		if !strings.Contains(cf, ":"+port+" {") {
			t.Fatalf("the Caddyfile has no site on :%s: update startDemo", port)
		}
		cf = strings.ReplaceAll(cf, port, free)
		if proxy == "" {
			proxy = "http://localhost:" + free + "/"
		}
	}
	file := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(file, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.command(t), "run", "--config", file)
	cmd.Dir = e.root
	if logs, err := startServing(t, cmd, 60*time.Second); err != nil {
		t.Fatalf("the demo: %v\n%s\nCaddyfile:\n%s", err, logs, cf)
	}
	return proxy
}

// pageList reads the demo page's own list of the other sites it loaded
// (testdata/demo/reached.js), as hosts.
func pageList(ctx context.Context, tb *tab) ([]string, error) {
	if err := tb.waitFor(ctx, `document.getElementById('reached') !== null`); err != nil {
		return nil, fmt.Errorf("the page drew no list of the sites it loaded: %w", err)
	}
	var hosts []string
	err := tb.eval(ctx, `Array.from(document.querySelectorAll('#reached li[data-host]'), li => li.dataset.host)`, &hosts)
	return hosts, err
}

func TestBrowserDemo(t *testing.T) {
	e := needBrowser(t)
	demoURL := startDemo(t, e)
	r := e.rules
	// The demo's trackers (testdata/demo/index.html), by what loads them:
	// with JavaScript, the Google tag, Tag Manager, the Meta pixel and
	// Intercom's loader; without, Tag Manager's and the Meta pixel's
	// noscript iframe and image.
	type expect struct{ js, nojs []string }
	analytics := expect{
		js:   []string{"www.googletagmanager.com", "widget.intercom.io"},
		nojs: []string{"www.googletagmanager.com"},
	}
	advertising := expect{
		js:   []string{"connect.facebook.net"},
		nojs: []string{"www.facebook.com"},
	}
	necessary := expect{js: []string{"js.stripe.com", "www.google.com"}, nojs: nil}
	pick := func(x expect, noJS bool) []string {
		if noJS {
			return x.nojs
		}
		return x.js
	}
	shots := map[string][]byte{}
	for _, st := range []struct {
		name    string
		cookie  string
		gpc     bool
		granted []rules.Category
		shot    string
	}{
		{"no consent", "", false, nil, "demo-before.png"},
		{"consent=analytics.advertising", "analytics.advertising", false, []rules.Category{rules.Analytics, rules.Advertising}, "demo-after.png"},
		{"consent=analytics.advertising with GPC", "analytics.advertising", true, []rules.Category{rules.Analytics}, ""},
	} {
		granted := consentState{granted: st.granted}.set()
		for _, noJS := range []bool{false, true} {
			v := visitor{cookie: st.cookie, gpc: st.gpc, noJS: noJS}
			var listed []string
			var after func(*tab) error
			if !noJS {
				after = func(tb *tab) error {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					var err error
					if listed, err = pageList(ctx, tb); err != nil || st.shot == "" || !*updateScreenshots {
						return err
					}
					shots[st.shot], err = tb.screenshot(ctx)
					return err
				}
			}
			o, err := e.loadThen(demoURL, v, after)
			if err != nil {
				t.Fatalf("%s (%s): %v", st.name, v, err)
			}
			for _, l := range deniedReached(r, granted, o.hosts, o.urls) {
				t.Errorf("%s (%s): %s", st.name, v, l)
			}
			wantHosts := pick(necessary, noJS)
			if granted.Has(rules.Analytics) {
				wantHosts = append(wantHosts, pick(analytics, noJS)...)
			}
			if granted.Has(rules.Advertising) {
				wantHosts = append(wantHosts, pick(advertising, noJS)...)
			}
			for _, h := range wantHosts {
				if _, ok := o.hosts[h]; !ok {
					t.Errorf("%s (%s): %s not contacted; contacted %v", st.name, v, h, sortedKeys(o.hosts))
				}
			}
			// The page's own list names what the recorder heard, no more,
			// no less: what the screenshots show is what reached the visitor.
			if !noJS && !slices.Equal(listed, sortedKeys(o.hosts)) {
				t.Errorf("%s (%s): the page lists %v; contacted %v", st.name, v, listed, sortedKeys(o.hosts))
			}
			t.Logf("%s (%s): contacted %v", st.name, v, sortedKeys(o.hosts))
		}
	}
	if *updateScreenshots && !t.Failed() {
		for name, png := range shots {
			path := filepath.Join(e.root, "docs", name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", strings.TrimPrefix(path, e.root+"/"))
		}
	}
}

// screenshot returns a PNG of the viewport.
func (t *tab) screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := t.s.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}
