package e2e

// The browser end-to-end suite: headless Chromium, driven over the
// DevTools protocol, loads pages through consentedge (served in-process by
// Caddy) and a host recorder on a loopback port the kernel picks notes every
// third-party host the browser tries to reach (recorder_test.go). The suite
// needs /usr/bin/chromium (or $CONSENTEDGE_CHROMIUM); no privileged port, no
// root. Without a browser it skips, unless CONSENTEDGE_E2E=require (set by
// .ci/run), where it fails.
//
// One browser serves the whole run; each page load gets a fresh browser
// context (its own cookies, cache and sockets) and loads run one at a time,
// so that the hosts recorded between two loads belong to exactly one of them.
// Parallel loads would need to know which context a connection came from. A
// proxy per context tells (Target.createBrowserContext proxyServer), but
// Chromium behaves differently behind a proxy (it drops cross-site
// speculation-rules prefetches, one of the bypass pages' tricks), and on two
// cores a load is mostly the browser's CPU (about half a CPU-second: a window,
// a renderer and a network context per browser context): tried, parallel
// loads gained little.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	// The in-process Caddy's modules: those of the consentedge command.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/consentedge/consentedge/caddymodule"
	"github.com/consentedge/consentedge/rules"
)

// e2eRequired reports whether a missing browser or npm package is a failure
// rather than a reason to skip (CI sets CONSENTEDGE_E2E=require).
func e2eRequired() bool { return os.Getenv("CONSENTEDGE_E2E") == "require" }

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	stopBrowserEnv()
	if envSkip != "" {
		// Said plainly, not only under -v: a green run without the browser
		// suite proves less than one with it.
		noteSkipped(envSkip)
	}
	os.Exit(code)
}

// browserEnv is what every browser test shares, set up on first use.
type browserEnv struct {
	root   string // the repository root
	rules  *rules.Rules
	rec    *recorder
	br     *browser
	origin *httptest.Server

	// Base URLs of the in-process Caddy servers in front of the origin.
	off      string // reverse_proxy alone: the page as the origin sends it
	strip    string // consent (strip) + reverse_proxy
	deferURL string // consent {mode defer} + reverse_proxy
	// consent {unclassified advertising} + reverse_proxy: third-party
	// loads no rule names count as advertising (realweb_test.go).
	unclassified string

	loadMu sync.Mutex // one load at a time (see load)

	// The consentedge command, built on first use (see command).
	binOnce sync.Once
	bin     string
	binDir  string
	binErr  error

	spares     chan spareTab // blank tabs made ahead (see spareTabs)
	sparesStop chan struct{}
	sparesDone chan struct{}

	obsMu sync.Mutex
	obs   map[string]*observation // see observe
}

var (
	envOnce sync.Once
	env     *browserEnv
	envErr  error
	envSkip string // set when the environment is missing something optional
)

// needBrowser returns the shared environment or ends the test: skipped when
// the browser is missing (failed with CONSENTEDGE_E2E=require).
func needBrowser(t *testing.T) *browserEnv {
	t.Helper()
	if testing.Short() && !e2eRequired() {
		t.Skip("browser suite skipped in -short mode")
	}
	envOnce.Do(func() { env, envSkip, envErr = startBrowserEnv() })
	switch {
	case envSkip != "" && e2eRequired():
		t.Fatalf("browser suite required (CONSENTEDGE_E2E=require) but cannot run: %s", envSkip)
	case envSkip != "":
		t.Skipf("browser suite skipped: %s (set CONSENTEDGE_E2E=require to make this a failure)", envSkip)
	case envErr != nil:
		t.Fatalf("browser suite setup: %v", envErr)
	}
	return env
}

// chromiumPath finds the browser: $CONSENTEDGE_CHROMIUM if set (and only
// it: a browser named but missing is a reason to skip, not to run another),
// else /usr/bin/chromium or chromium on PATH.
func chromiumPath() string {
	if p := os.Getenv("CONSENTEDGE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

func startBrowserEnv() (e *browserEnv, skip string, err error) {
	path := chromiumPath()
	if path == "" {
		if named := os.Getenv("CONSENTEDGE_CHROMIUM"); named != "" {
			return nil, "CONSENTEDGE_CHROMIUM names " + named + ", which does not exist", nil
		}
		return nil, "chromium not found (install the Debian package: apt-get install chromium)", nil
	}
	e = &browserEnv{obs: map[string]*observation{}}
	// The returns below set e to nil: undo what was set up through a copy.
	started := e
	defer func() {
		if err != nil || skip != "" {
			started.stop()
			e = nil
		}
	}()
	if e.root, err = filepath.Abs(".."); err != nil {
		return nil, "", err
	}
	if _, err = os.Stat(filepath.Join(e.root, "go.mod")); err != nil {
		return nil, "", fmt.Errorf("repository root not found from the test directory: %w", err)
	}
	rulesFile := filepath.Join(e.root, "testdata", "browser", "functional.rules")
	if e.rules, err = rules.Load(rulesFile); err != nil {
		return nil, "", err
	}
	if e.rec, err = startRecorder(); err != nil {
		return nil, "", err
	}
	// The origin: testdata as a plain static site (pages under /pages/ and
	// /browser/, the npm consent tools under /browser/node_modules/).
	e.origin = httptest.NewServer(http.FileServer(http.Dir(filepath.Join(e.root, "testdata"))))
	if err = e.startCaddy(rulesFile); err != nil {
		return nil, "", err
	}
	if e.br, err = startBrowser(path, e.rec.addr()); err != nil {
		return nil, "", err
	}
	e.startSpares()
	return e, "", nil
}

func stopBrowserEnv() {
	if env != nil {
		env.stop()
	}
}

func (e *browserEnv) stop() {
	if e.br != nil {
		e.stopSpares()
		e.br.close()
	}
	if e.off != "" {
		caddy.Stop()
	}
	if e.origin != nil {
		e.origin.Close()
	}
	if e.rec != nil {
		e.rec.close()
	}
	if e.binDir != "" {
		os.RemoveAll(e.binDir)
	}
}

// freePort asks the kernel for a free loopback port. Caddy needs a fixed
// address in its config; the port is free again for the moment between close
// and Caddy's listen, and nothing else here takes ports from that range.
func freePort() (string, error) {
	addrs, err := freePorts(1)
	if err != nil {
		return "", err
	}
	return addrs[0], nil
}

// freePorts is freePort for n servers of one config: the listeners stay
// open until all n are taken, so that the kernel cannot hand out one port
// twice (a port closed at once is free to be given again).
func freePorts(n int) ([]string, error) {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// startCaddy runs Caddy in this process with four servers in front of the
// origin: without consent, with consent (strip), with consent (defer) and
// with consent treating unnamed third parties as advertising.
// The admin endpoint is off, so this cannot collide with the caddytest
// integration tests (admin on localhost:2999) running in parallel, and the
// config is not persisted.
func (e *browserEnv) startCaddy(rulesFile string) error {
	upstream := strings.TrimPrefix(e.origin.URL, "http://")
	proxy := map[string]any{"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": upstream}}}
	servers := map[string]any{}
	addrs := map[string]string{}
	names := []string{"off", "strip", "defer", "unclassified"}
	ports, err := freePorts(len(names))
	if err != nil {
		return err
	}
	for i, name := range names {
		addr := ports[i]
		addrs[name] = addr
		handle := []any{proxy}
		switch name {
		case "strip":
			handle = []any{map[string]any{"handler": "consent", "rules": []string{rulesFile}}, proxy}
		case "defer":
			handle = []any{map[string]any{"handler": "consent", "mode": "defer", "rules": []string{rulesFile}}, proxy}
		case "unclassified":
			handle = []any{map[string]any{"handler": "consent", "unclassified": "advertising", "rules": []string{rulesFile}}, proxy}
		}
		servers[name] = map[string]any{
			"listen":          []string{addr},
			"routes":          []any{map[string]any{"handle": handle}},
			"automatic_https": map[string]any{"disable": true},
		}
	}
	cfg := map[string]any{
		"admin":   map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "ERROR"}}},
		"apps":    map[string]any{"http": map[string]any{"servers": servers}},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := caddy.Load(raw, true); err != nil {
		return fmt.Errorf("loading the caddy config: %w", err)
	}
	e.off, e.strip, e.deferURL = "http://"+addrs["off"], "http://"+addrs["strip"], "http://"+addrs["defer"]
	e.unclassified = "http://" + addrs["unclassified"]
	return nil
}

// browser is the Chromium process and its DevTools pipe.
type browser struct {
	cmd    *exec.Cmd
	cdp    *cdpConn
	dir    string
	stderr *tailBuffer
	exited chan struct{}
}

// browserFlags: headless, no sandbox (root in a container), and nothing that
// talks to the network on its own (background networking, component updates,
// sync, QUIC), so that the recorder hears the pages only. Every host but
// the test's own servers goes to the recorder (see recorderRule). Site isolation is off so that every frame of a page
// lives in the page's renderer: the DevTools session of the page then sees
// the network requests and the script setting of all its frames.
func browserFlags(dir, recorder string) []string {
	return []string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-extensions",
		"--disable-component-extensions-with-background-pages",
		"--disable-default-apps",
		"--disable-client-side-phishing-detection",
		"--disable-domain-reliability",
		"--disable-breakpad",
		"--metrics-recording-only",
		"--no-pings",
		"--password-store=basic",
		"--use-mock-keychain",
		"--disable-dev-shm-usage",
		"--disable-site-isolation-trials",
		// AimEnabled: the omnibox's AI-mode eligibility fetch
		// (www.google.com/async/folae); PreconnectToSearch: a preconnect to
		// the default search engine (www.google.com). Chromium 148 makes
		// both at start, and pages reach www.google.com too.
		"--disable-features=IsolateOrigins,site-per-process,Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying,AutofillServerCommunication,AimEnabled,PreconnectToSearch",
		// Spare tabs wait in the background: their timers and renderers
		// must not be throttled when they become the page under test.
		"--disable-background-timer-throttling",
		"--disable-renderer-backgrounding",
		"--disable-backgrounding-occluded-windows",
		"--hide-scrollbars",
		"--mute-audio",
		"--host-resolver-rules=" + recorderRule(recorder),
		"--user-data-dir=" + dir,
		"--remote-debugging-pipe",
		"about:blank",
	}
}

func startBrowser(path, recorder string) (*browser, error) {
	dir, err := os.MkdirTemp("", "consentedge-chromium-")
	if err != nil {
		return nil, err
	}
	// fd 3: the browser reads commands; fd 4: it writes responses and events.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b := &browser{dir: dir, stderr: &tailBuffer{max: 16 << 10}, exited: make(chan struct{})}
	b.cmd = exec.Command(path, browserFlags(dir, recorder)...)
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stderr = b.stderr
	b.cmd.Stdout = b.stderr
	// Its own process group: the renderers and helpers go with it at the end.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting chromium: %w", err)
	}
	cmdR.Close()
	outW.Close()
	go func() {
		b.cmd.Wait()
		outR.Close()
		close(b.exited)
	}()
	b.cdp = newCDPConn(outR, cmdW)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var v struct {
		Product string `json:"product"`
	}
	if err := b.cdp.call(ctx, "", "Browser.getVersion", nil, &v); err != nil {
		b.close()
		return nil, fmt.Errorf("chromium did not answer on its devtools pipe: %w\n%s", err, b.stderr)
	}
	return b, nil
}

// close asks the browser to quit, then ends its process group if it has not.
func (b *browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	b.cdp.call(ctx, "", "Browser.close", nil, nil)
	cancel()
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
	}
	// The group of the process this test started (Setpgid above), by id.
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exited
	os.RemoveAll(b.dir)
}

// tailBuffer keeps the last max bytes written to it (the browser's stderr,
// for error messages).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
