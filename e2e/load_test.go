package e2e

// One page load: a fresh browser context with the visitor's consent cookie,
// GPC header and script setting, a navigation, a wait for the load event and
// then for network quiet, and what the browser asked for: the URLs its page
// requested (DevTools Network events) and the hosts it connected to (the
// recorder, read once the context is gone).

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// quietPeriod is how long the network must be idle after the load event
// before a load counts as finished: loaders that wait for window.onload
// (Intercom's) start their requests within it.
const quietPeriod = 300 * time.Millisecond

// stuckPeriod ends the wait when requests stay open without any network
// event this long (a request the browser never finishes or fails): the load
// is taken as it is, and the open requests are reported.
const stuckPeriod = 3 * time.Second

// loadTimeout bounds one page load.
const loadTimeout = 30 * time.Second

type visitor struct {
	cookie string // value of the consent cookie; "" for none
	gpc    bool   // send Sec-GPC: 1
	noJS   bool   // JavaScript disabled
}

func (v visitor) String() string {
	s := "js"
	if v.noJS {
		s = "nojs"
	}
	if v.cookie != "" {
		s += " consent=" + v.cookie
	}
	if v.gpc {
		s += " gpc"
	}
	return s
}

// observation is what one load reached.
type observation struct {
	hosts map[string]string // host → how it was reached ("tls", "http"): the recorder
	urls  []string          // http(s) and ws(s) URLs the page requested, in order, without repeats
	stuck []string          // requests still open when the load was taken
}

// tab is one page in its own browser context.
type tab struct {
	e       *browserEnv
	ctxID   string
	s       *cdpSession
	url     string
	loaded  bool
	open    map[string]string // requestId → URL
	urls    []string
	seenURL map[string]bool
	navs    int  // main-frame navigations seen
	noJS    bool // JavaScript is off in this page
}

// newTab creates a browser context and a blank page in it, attached, with its
// Network and Page events on. A blank page reaches no host, so tabs are made
// ahead of time (see spareTabs) while another page loads.
func (e *browserEnv) newTab(ctx context.Context) (*tab, error) {
	c := e.br.cdp
	var bc struct {
		BrowserContextID string `json:"browserContextId"`
	}
	if err := c.call(ctx, "", "Target.createBrowserContext", map[string]any{}, &bc); err != nil {
		return nil, err
	}
	t := &tab{e: e, ctxID: bc.BrowserContextID, open: map[string]string{}, seenURL: map[string]bool{}}
	fail := func(err error) (*tab, error) {
		t.close()
		return nil, err
	}
	var tg struct {
		TargetID string `json:"targetId"`
	}
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{
		"url": "about:blank", "browserContextId": t.ctxID}, &tg); err != nil {
		return fail(err)
	}
	var at struct {
		SessionID string `json:"sessionId"`
	}
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{
		"targetId": tg.TargetID, "flatten": true}, &at); err != nil {
		return fail(err)
	}
	t.s = c.session(at.SessionID)
	for _, cmd := range []struct {
		method string
		params any
	}{
		// The first command waits for the page's renderer to start: most
		// of what a tab costs.
		{"Network.enable", map[string]any{}},
		{"Page.enable", nil},
		// A fixed window size: screenshots and click positions do not
		// depend on the headless default.
		{"Emulation.setDeviceMetricsOverride", map[string]any{
			"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false}},
	} {
		if err := t.s.call(ctx, cmd.method, cmd.params, nil); err != nil {
			return fail(err)
		}
	}
	return t, nil
}

// visit sets the visitor's consent cookie, GPC header and script setting on
// a fresh tab and navigates it to pageURL.
func (t *tab) visit(ctx context.Context, pageURL string, v visitor) error {
	t.url, t.noJS = pageURL, v.noJS
	if v.cookie != "" {
		cookie := map[string]any{"name": "consent", "value": v.cookie, "url": pageURL}
		if err := t.e.br.cdp.call(ctx, "", "Storage.setCookies", map[string]any{
			"cookies": []any{cookie}, "browserContextId": t.ctxID}, nil); err != nil {
			return err
		}
	}
	if v.gpc {
		if err := t.s.call(ctx, "Network.setExtraHTTPHeaders", map[string]any{
			"headers": map[string]string{"Sec-GPC": "1"}}, nil); err != nil {
			return err
		}
	}
	if v.noJS {
		// Blink's "script enabled" setting for the page: scripts do not
		// run and the parser reads <noscript> content as markup (checked
		// by TestBrowserNoscriptProbe).
		if err := t.s.call(ctx, "Emulation.setScriptExecutionDisabled", map[string]any{"value": true}, nil); err != nil {
			return err
		}
	}
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := t.s.call(ctx, "Page.navigate", map[string]any{"url": pageURL}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigating to %s: %s", pageURL, nav.ErrorText)
	}
	return nil
}

// event updates the tab's view of the page from one DevTools event.
func (t *tab) event(m cdpMsg) {
	switch m.Method {
	case "Network.requestWillBeSent":
		var p struct {
			RequestID string `json:"requestId"`
			Request   struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(m.Params, &p) != nil {
			return
		}
		t.open[p.RequestID] = p.Request.URL // a redirect keeps its id
		u := p.Request.URL
		if i := strings.Index(u, ":"); i > 0 {
			switch strings.ToLower(u[:i]) {
			case "http", "https", "ws", "wss":
				if !t.seenURL[u] {
					t.seenURL[u] = true
					t.urls = append(t.urls, u)
				}
			}
		}
	case "Network.loadingFinished", "Network.loadingFailed":
		var p struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			delete(t.open, p.RequestID)
		}
	case "Page.loadEventFired":
		t.loaded = true
	case "Page.frameNavigated":
		var p struct {
			Frame struct {
				ID       string `json:"id"`
				ParentID string `json:"parentId"`
			} `json:"frame"`
		}
		if json.Unmarshal(m.Params, &p) == nil && p.Frame.ParentID == "" {
			t.navs++
		}
	}
}

// settle waits for the load event, then until the network has been quiet for
// quietPeriod. It returns the requests left open if it gave up waiting on
// them (stuckPeriod without any event).
func (t *tab) settle(ctx context.Context) ([]string, error) {
	last := time.Now()
	for {
		wait := quietPeriod
		if len(t.open) > 0 || !t.loaded {
			wait = stuckPeriod
		}
		wctx, cancel := context.WithTimeout(ctx, wait-time.Since(last))
		m, err := t.s.next(wctx)
		cancel()
		switch {
		case err == nil:
			t.event(m)
			if strings.HasPrefix(m.Method, "Network.") || strings.HasPrefix(m.Method, "Page.") {
				last = time.Now()
			}
			continue
		case ctx.Err() != nil:
			return nil, fmt.Errorf("page %s did not settle: %w", t.url, ctx.Err())
		case !errors.Is(err, context.DeadlineExceeded):
			return nil, err
		}
		if !t.loaded {
			last = time.Now() // no load event yet: wait on, up to ctx
			continue
		}
		if len(t.open) == 0 && !t.noJS {
			// Quiet on the network is not quiet in the renderer: a starved
			// CPU can hold back a task that will still start a request (a
			// javascript: URL's frame, a loader run on a timer). Wait until
			// the page's main thread has been idle, then for quiet again if
			// anything moved meanwhile.
			if err := t.idle(ctx); err != nil {
				return nil, err
			}
			moved := false
			for {
				m, err := t.s.next(expired)
				if err != nil {
					break
				}
				t.event(m)
				moved = true
			}
			if moved {
				last = time.Now()
				continue
			}
			return nil, nil
		}
		if len(t.open) == 0 {
			return nil, nil
		}
		var stuck []string
		for _, u := range t.open {
			stuck = append(stuck, u)
		}
		slices.Sort(stuck)
		return stuck, nil
	}
}

// expired is a context that has ended: s.next(expired) returns only what is
// already queued.
var expired = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// idle returns once the page's main thread has had nothing to run: an idle
// callback, then after one more task an idle callback again (each bounded
// by a second, as requestIdleCallback's timeout allows). Not with JavaScript
// off: the callbacks would never run, and neither does anything of the page
// that could start a late request.
func (t *tab) idle(ctx context.Context) error {
	return t.eval(ctx, `new Promise(r => requestIdleCallback(() => setTimeout(() =>
		requestIdleCallback(() => r(true), {timeout: 1000}), 0), {timeout: 1000}))`, nil)
}

// takeURLs returns the URLs requested since the last call.
func (t *tab) takeURLs() []string {
	u := t.urls
	t.urls = nil
	clear(t.seenURL)
	return u
}

// close disposes of the tab's browser context: its pages, cookies and
// sockets go, so nothing it started can reach the recorder after this.
func (t *tab) close() error {
	if t.s != nil {
		t.e.br.cdp.forget(t.s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.e.br.cdp.call(ctx, "", "Target.disposeBrowserContext", map[string]any{"browserContextId": t.ctxID}, nil)
}

// spareTabs is how many blank tabs are kept ready. Making one costs a
// renderer start (about half a second of CPU here), which then overlaps the
// quiet period of the load before.
const spareTabs = 2

type spareTab struct {
	t   *tab
	err error
}

// startSpares keeps e.spares filled in the background until stopSpares.
func (e *browserEnv) startSpares() {
	e.spares = make(chan spareTab, spareTabs)
	e.sparesStop = make(chan struct{})
	e.sparesDone = make(chan struct{})
	go func() {
		defer close(e.sparesDone)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
			t, err := e.newTab(ctx)
			cancel()
			select {
			case e.spares <- spareTab{t, err}:
				if err != nil {
					return
				}
			case <-e.sparesStop:
				if t != nil {
					t.close()
				}
				return
			}
		}
	}()
}

func (e *browserEnv) stopSpares() {
	if e.spares == nil {
		return
	}
	close(e.sparesStop)
	<-e.sparesDone
	for {
		select {
		case s := <-e.spares:
			if s.t != nil {
				s.t.close()
			}
		default:
			return
		}
	}
}

// openTab takes a spare tab and sends it to pageURL for the visitor.
func (e *browserEnv) openTab(ctx context.Context, pageURL string, v visitor) (*tab, error) {
	var s spareTab
	select {
	case s = <-e.spares:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.err != nil {
		return nil, s.err
	}
	if err := s.t.visit(ctx, pageURL, v); err != nil {
		s.t.close()
		return nil, err
	}
	return s.t, nil
}

// load opens pageURL for the visitor, waits for it to settle and returns what
// it reached. Loads run one at a time: the hosts the recorder holds between
// two loads are the one load's.
func (e *browserEnv) load(pageURL string, v visitor) (*observation, error) {
	return e.loadThen(pageURL, v, nil)
}

// loadThen is load with a step (a screenshot) run on the settled page
// before its context goes.
func (e *browserEnv) loadThen(pageURL string, v visitor, after func(*tab) error) (*observation, error) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	// What reached the recorder while no load ran (the browser's own
	// traffic) is nobody's.
	if _, err := e.rec.take(); err != nil {
		return nil, err
	}
	t, err := e.openTab(ctx, pageURL, v)
	if err != nil {
		return nil, err
	}
	stuck, err := t.settle(ctx)
	if err == nil && after != nil {
		err = after(t)
	}
	if cerr := t.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	hosts, err := e.pageHosts()
	if err != nil {
		return nil, err
	}
	return &observation{hosts: hosts, urls: t.takeURLs(), stuck: stuck}, nil
}

// loadReq is one load a test wants: a path on the server at base, for a
// visitor.
type loadReq struct {
	base, path string
	v          visitor
}

// observeAll loads every request and returns what each reached; a load of a document already loaded (same path, same bytes, same
// script setting) is not repeated. The browser's behaviour is a function of
// the document it gets (which hosts a page reaches does not depend on the
// cookie or header once the server has answered, and the test origin serves
// no first-party document the filter would change), so each document is
// fetched first, as the browser would fetch it. Consent states that change
// nothing on a page (functional where no functional vendor is, all versus
// the filter off) share one load: that is what makes the whole matrix fit
// in little time.
func (e *browserEnv) observeAll(t *testing.T, reqs []loadReq) map[loadReq]*observation {
	t.Helper()
	keys := make(map[loadReq]string, len(reqs))
	var todo []loadReq
	queued := map[string]bool{}
	for _, r := range reqs {
		if _, ok := keys[r]; ok {
			continue
		}
		key, err := e.docKey(r)
		if err != nil {
			t.Fatal(err)
		}
		keys[r] = key
		e.obsMu.Lock()
		_, done := e.obs[key]
		e.obsMu.Unlock()
		if !done && !queued[key] {
			queued[key] = true
			todo = append(todo, r)
		}
	}
	for _, r := range todo {
		o, err := e.load(r.base+r.path, r.v)
		if err != nil {
			t.Fatalf("loading %s (%s): %v", r.path, r.v, err)
		}
		e.obsMu.Lock()
		e.obs[keys[r]] = o
		e.obsMu.Unlock()
	}
	out := make(map[loadReq]*observation, len(reqs))
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	for _, r := range reqs {
		out[r] = e.obs[keys[r]]
		if o := out[r]; len(o.stuck) > 0 {
			t.Logf("%s (%s): requests never finished: %v", r.path, r.v, o.stuck)
		}
	}
	t.Logf("%d loads asked, %d documents loaded now", len(reqs), len(todo))
	return out
}

// docKey fetches the document the browser would get and names it by path,
// content and script setting.
func (e *browserEnv) docKey(r loadReq) (string, error) {
	req, err := http.NewRequest("GET", r.base+r.path, nil)
	if err != nil {
		return "", err
	}
	if r.v.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "consent", Value: r.v.cookie})
	}
	if r.v.gpc {
		req.Header.Set("Sec-GPC", "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", r.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", r.path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching %s: status %d", r.path, resp.StatusCode)
	}
	sum := sha256.Sum256(body)
	return fmt.Sprintf("%s %x %t", r.path, sum[:8], r.v.noJS), nil
}
