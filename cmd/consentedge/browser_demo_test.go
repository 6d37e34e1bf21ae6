package main

// The README demo, started the way the README says (the consentedge command
// with `run --config Caddyfile` from the repository root: the proxy on
// 127.0.0.1:8080 in front of the demo origin on :8081), checked in the
// browser: without consent no tracker host is contacted, with
// consent=analytics.advertising the page's trackers are, and GPC takes the
// Meta pixel away again. With -update-screenshots it also writes the README's
// pictures of the page before and after consent.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/consentedge/consentedge/rules"
)

var updateScreenshots = flag.Bool("update-screenshots", false,
	"browser suite: write docs/demo-before.png and docs/demo-after.png from the demo test")

// demoURL is the address the README gives for the demo.
const demoURL = "http://localhost:8080/"

// startDemo builds cmd/consentedge and runs it as the README does, from the
// repository root, until the test ends.
func startDemo(t *testing.T, root string) {
	t.Helper()
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:8081"} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			msg := addr + " is taken (is the demo already running?): the README demo needs it"
			if e2eRequired() {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	// A freshly built binary rather than `go run`: go run leaves its child
	// running when it is killed. The build shares this test's build cache.
	bin := filepath.Join(t.TempDir(), "consentedge")
	build := exec.Command("go", "build", "-o", bin, "./cmd/consentedge")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/consentedge: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "--config", "Caddyfile")
	cmd.Dir = root
	if logs, err := startServing(t, cmd, 60*time.Second); err != nil {
		t.Fatalf("the demo: %v\n%s", err, logs)
	}
}

// startServing starts cmd (a consentedge run) and waits until Caddy serves
// its configuration; when the test ends it stops the process: SIGINT, which
// Caddy takes gracefully, then its whole group by force after ten seconds.
// It returns what the process wrote, for failure messages.
func startServing(t *testing.T, cmd *exec.Cmd, wait time.Duration) (*watchWriter, error) {
	logs := &watchWriter{want: []byte("serving initial configuration"), found: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return logs, fmt.Errorf("starting it: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	select {
	case <-logs.found:
		return logs, nil
	case <-exited:
		return logs, errors.New("it exited")
	case <-time.After(wait):
		return logs, fmt.Errorf("it did not start within %v", wait)
	}
}

// annotate adds a panel to the bottom of the page (in the empty space below
// the demo's footer) naming the state and the third-party hosts the page has
// requested, with their vendor and category: the two demo pages look alike,
// and what differs is what the browser reached.
func annotate(ctx context.Context, tb *tab, r *rules.Rules, state string) error {
	seen := map[string]bool{}
	var lines []string
	for _, u := range tb.urls {
		h := urlHost(u)
		if h == "localhost" || h == "127.0.0.1" || seen[h] {
			continue
		}
		seen[h] = true
		what := "no vendor"
		if v := r.Classify(u); v != nil {
			what = v.Name + ", " + r.CategoryID(v.Category)
		}
		lines = append(lines, h+"  ("+what+")")
	}
	if len(lines) == 0 {
		lines = []string{"none"}
	}
	text, err := json.Marshal("Browser test, " + state + ". Third-party hosts this page requested:\n  " + strings.Join(lines, "\n  "))
	if err != nil {
		return err
	}
	return tb.eval(ctx, `(() => {
		const d = document.createElement('pre');
		d.textContent = `+string(text)+`;
		d.style.cssText = 'position:fixed;left:24px;right:24px;bottom:16px;margin:0;padding:10px 14px;' +
			'background:#fff;border:2px dashed #6b3e1f;border-radius:6px;font:13px/1.45 monospace;color:#3b2412;z-index:9';
		document.body.appendChild(d);
	})()`, nil)
}

// watchWriter keeps what a process writes and closes found when want shows up.
type watchWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  []byte
	found chan struct{}
	seen  bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 1<<20 {
		w.buf.Write(p)
	}
	if !w.seen && bytes.Contains(w.buf.Bytes(), w.want) {
		w.seen = true
		close(w.found)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestBrowserDemo(t *testing.T) {
	e := needBrowser(t)
	startDemo(t, e.root)
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
			var after func(*tab) error
			if st.shot != "" && !noJS && *updateScreenshots {
				after = func(tb *tab) error {
					ctx := context.Background()
					if err := annotate(ctx, tb, r, st.name); err != nil {
						return err
					}
					png, err := tb.screenshot(ctx)
					shots[st.shot] = png
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
