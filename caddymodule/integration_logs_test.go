package caddymodule

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/consentedge/consentedge/privacylog"
)

// The client addresses of TestIntegrationLogs: none of them may appear in
// any line the server writes. Documentation ranges (RFC 5737, RFC 3849)
// besides the loopback connections.
var logTestClients = []string{
	"127.0.0.1",            // a real IPv4 connection (a trusted proxy)
	"::1",                  // a real IPv6 connection (a trusted proxy)
	"203.0.113.77",         // IPv4 behind the proxy
	"2001:db8:abcd:12::77", // IPv6 behind the proxy
	"198.51.100.99",        // sent IPv4-mapped, ::ffff:198.51.100.99
	"2002:c000:221::1",     // 6to4, embedding 192.0.2.33
	"192.0.2.33",           // the 6to4 address's IPv4
}

// TestIntegrationLogs is the privacy log's acceptance run: a site with consent and
// `log { format privacy }`, plus the one global option that puts the
// server's other logs (error log, the module's log, reverse_proxy, admin)
// through the same encoder, both written to files. Clients at known
// addresses, over real IPv4 and IPv6 loopback connections and behind a
// trusted proxy with X-Forwarded-For and Forwarded chains and CDNs' own
// address headers, browse (with e-mail addresses, path parameters and
// credentials in paths, Referers, an absolute-form request URI and
// headers), consent, and hit a dead upstream (502, an error log line);
// then the metrics are scraped from the admin endpoint, and every line
// both files hold is searched for the clients' addresses, cookies,
// credentials, click ids and e-mail addresses.
//
// Lines written before the config is active (caddytest's own POST /load,
// logged by the previous config's logger) are not the site's and are not
// collected.
func TestIntegrationLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	freshMetrics(t) // the counts below are this test's
	// Upstreams listen on 127.0.0.2 (loopback on Linux): upstream addresses
	// stay in error lines ("dial tcp 127.0.0.2:…" is what an SRE needs),
	// and must not be confused with the client 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 loopback here: %v", err)
	}
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Add("Set-Cookie", "app_session=s3cr3t-session; Path=/; HttpOnly")
		w.Header().Add("Set-Cookie", "_fbp=fb.1.1700000000.43; Path=/; Max-Age=7776000")
		io.WriteString(w, trackedDoc)
	}))
	origin.Listener.Close()
	origin.Listener = ln
	origin.Start()
	defer origin.Close()
	dead, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there now: connection refused

	// CONSENTEDGE_LOGS_DIR keeps the files (docs/logs.md's samples come
	// from such a run).
	dir := os.Getenv("CONSENTEDGE_LOGS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	accessLog := filepath.Join(dir, "access.log")
	serverLog := filepath.Join(dir, "server.log")
	tester := caddytest.NewTester(t)
	initCaddy(tester, fmt.Sprintf(`
	{
		skip_install_trust
		admin localhost:2999
		http_port 9180
		https_port 9543
		grace_period 1ns
		servers {
			trusted_proxies static 127.0.0.0/8 ::1/128
		}
		log {
			output file %s
			format privacy
			level DEBUG
		}
	}
	http://localhost:9180 {
		log {
			output file %s
			format privacy
		}
		consent {
			endpoint /consent
			csp report_only
			csp_report /csp-report
		}
		handle /down* {
			reverse_proxy %s
		}
		reverse_proxy %s
	}
	`, serverLog, accessLog, deadAddr, strings.TrimPrefix(origin.URL, "http://")))

	// Clients that connect from a given loopback address whatever the URL
	// says (the URL's host is the site's name).
	client := func(from string) *http.Client {
		return &http.Client{
			Timeout: 30 * time.Second,
			Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(from, "9180"))
			}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	v4 := client("127.0.0.1")
	v6 := client("::1")
	if c, err := net.Dial("tcp", "[::1]:9180"); err != nil {
		t.Logf("no IPv6 loopback (%v): the [::1] clients connect over IPv4", err)
		v6 = v4
	} else {
		c.Close()
	}

	type request struct {
		c       *http.Client
		method  string
		path    string
		headers []string
		body    string
		status  int
	}
	requests := []request{
		// Real connections, no proxy headers.
		{c: v4, path: "/", status: 200},
		{c: v6, path: "/?gclid=EAIaIQobChMI&mail=jane.doe%40example.org&q=1", status: 200, headers: []string{
			"Cookie", "consent=analytics; _ga=GA1.1.42.1700000000; _fbp=fb.1.1700000000.42",
			"Authorization", "Basic amFuZTpzZWNyZXQ=",
		}},
		// Behind the trusted proxy.
		{c: v4, path: "/", status: 200, headers: []string{
			"X-Forwarded-For", "203.0.113.77",
			"Cookie", "consent=analytics.advertising",
			"Sec-GPC", "1",
		}},
		{c: v4, path: "/a", status: 200, headers: []string{
			"X-Forwarded-For", "2001:db8:abcd:12::77, 127.0.0.1",
			"Forwarded", `for="[2001:db8:abcd:12::77]:4711";proto=http, for=127.0.0.1`,
		}},
		{c: v6, path: "/b", status: 200, headers: []string{
			"X-Forwarded-For", "::ffff:198.51.100.99",
			"X-Real-IP", "::ffff:198.51.100.99",
			"CF-Connecting-IP", "198.51.100.99",
		}},
		{c: v4, path: "/c", status: 200, headers: []string{
			"X-Forwarded-For", "2002:c000:221::1, [2001:db8:abcd:12::77]:4711, ::1",
			"True-Client-IP", "2002:c000:221::1",
			"Referer", "http://news.example/?fbclid=IwAR0xyz&email=jane%40example.org",
		}},
		// E-mail addresses and session parameters in paths, credentials in
		// a Referer.
		{c: v4, path: "/users/alice@example.com/profile", status: 200, headers: []string{
			"Referer", "https://bob:pw@news.example/to/jane.doe@example.org;jsessionid=ABC123XYZ?id=1",
		}},
		{c: v6, path: "/users/alice%40example.com/profile;jsessionid=ABC123XYZ?q=1", status: 200},
		{c: v4, path: "/cart;jsessionid=ABC123XYZ", status: 200},
		// CDNs' own client-address headers, one the encoder lists by no
		// name (DO-Connecting-IP), and credentials in headers.
		{c: v4, path: "/cdn", status: 200, headers: []string{
			"CloudFront-Viewer-Address", "2001:db8:abcd:12::77:46532",
			"Fly-Client-IP", "203.0.113.77",
			"X-Azure-ClientIP", "198.51.100.99",
			"X-Azure-SocketIP", "192.0.2.33",
			"X-Vercel-Forwarded-For", "203.0.113.77",
			"DO-Connecting-IP", "::ffff:198.51.100.99",
			"X-Api-Key", "k3y-0f-th3-s1te",
			"X-Auth-Token", "t0k3n-s3cr3t",
			"X-Forwarded-Email", "jane.doe@example.org",
		}},
		// A dead upstream: 502 and an error log line.
		{c: v4, path: "/down?fbclid=IwAR0xyz", status: 502, headers: []string{
			"X-Forwarded-For", "203.0.113.77",
			"Cookie", "consent=analytics",
		}},
		{c: v6, path: "/down", status: 502, headers: []string{
			"X-Forwarded-For", "2002:c000:221::1",
		}},
		// A consent decision: a receipt in the module's log.
		{c: v6, method: "POST", path: "/consent", body: "grant=analytics", status: 303, headers: []string{
			"X-Forwarded-For", "2001:db8:abcd:12::77",
			"Origin", "http://localhost:9180",
			"Content-Type", "application/x-www-form-urlencoded",
		}},
		// A CSP violation report, counted per vendor.
		{c: v4, method: "POST", path: "/csp-report", status: 204, body: `{"csp-report":{"blocked-uri":"https://connect.facebook.net/en_US/fbevents.js"}}`, headers: []string{
			"X-Forwarded-For", "203.0.113.77",
			"Content-Type", "application/csp-report",
		}},
	}
	for i, rq := range requests {
		method := rq.method
		if method == "" {
			method = "GET"
		}
		req, err := http.NewRequest(method, "http://localhost:9180"+rq.path, strings.NewReader(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j+1 < len(rq.headers); j += 2 {
			req.Header.Set(rq.headers[j], rq.headers[j+1])
		}
		resp, err := rq.c.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != rq.status {
			t.Errorf("request %d %s: status %d, want %d", i, rq.path, resp.StatusCode, rq.status)
		}
		if rq.status == 200 && strings.Contains(string(body), pixelHost) {
			t.Errorf("request %d: tracker kept", i)
		}
	}

	absoluteFormRequest(t, "GET http://alice:S3CRETPW@localhost:9180/abs;jsessionid=ABC123XYZ HTTP/1.1")

	// The metrics moved: scraped from the admin endpoint, which serves the
	// config's registry.
	resp, err := http.Get("http://localhost:2999/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []struct {
		series string
		min    float64
	}{
		{`consentedge_responses_filtered_total`, 6},
		{`consentedge_consent_states_total{granted="necessary"}`, 3},
		{`consentedge_consent_states_total{granted="necessary.analytics"}`, 2},
		{`consentedge_elements_removed_total{category="advertising",vendor="facebook"}`, 5},
		{`consentedge_filtered_bytes_total{direction="in"}`, float64(6 * len(trackedDoc))},
		{`consentedge_filtered_bytes_total{direction="out"}`, 1},
		{`consentedge_filter_duration_seconds_count`, 6},
		{`consentedge_csp_reports_total{vendor="facebook"}`, 1},
		{`consentedge_csp_reports_total{vendor="unknown"}`, 0},
	} {
		v, ok := scrapedValue(string(scrape), want.series)
		if !ok || v < want.min {
			t.Errorf("metric %s = %v (present %v), want at least %v", want.series, v, ok, want.min)
		}
	}
	if v, _ := scrapedValue(string(scrape), `consentedge_csp_reports_total{vendor="google-analytics"}`); v != 0 {
		t.Errorf("csp reports counted %v for a vendor nobody reported", v)
	}

	access := readLogLines(t, accessLog)
	server := readLogLines(t, serverLog)
	if len(access) < len(requests) {
		t.Fatalf("%d access log lines for %d requests", len(access), len(requests))
	}

	// What each file must hold.
	has := func(lines []logLine, what string, pred func(logLine) bool) {
		t.Helper()
		for _, l := range lines {
			if pred(l) {
				return
			}
		}
		t.Errorf("no line with %s", what)
	}
	has(access, "consent fields", func(l logLine) bool {
		// GPC took advertising away from what the cookie granted.
		return l.m["consent_granted"] == "necessary.analytics" && l.m["consent_signal"] == "consent+gpc" && l.m["consent_gpc"] == true
	})
	has(access, "consent_removed of a filtered page", func(l logLine) bool {
		rm, _ := l.m["consent_removed"].(map[string]any)
		return rm["facebook"] == float64(1)
	})
	has(access, "what the request filter removed", func(l logLine) bool {
		// _fbp and gclid: advertising was not granted.
		return l.m["consent_cookies_removed"] == float64(1) && l.m["consent_params_removed"] == float64(1) &&
			l.m["consent_set_cookies_removed"] == float64(1)
	})
	has(access, "a signal-less request", func(l logLine) bool {
		return l.m["consent_signal"] == "none" && l.m["consent_granted"] == "necessary"
	})
	has(access, "the 502", func(l logLine) bool { return l.m["status"] == float64(502) })
	has(access, "a truncated client_ip behind the proxy", func(l logLine) bool {
		return strings.Contains(l.raw, `"client_ip":"203.0.113.0"`)
	})
	has(access, "6to4 truncated", func(l logLine) bool { return strings.Contains(l.raw, "2002:c000:200::") })
	has(access, "an e-mail address in a path redacted", func(l logLine) bool {
		return strings.Contains(l.raw, `"uri":"/users/redacted/profile"`)
	})
	has(access, "a Referer without userinfo, address and path parameters", func(l logLine) bool {
		return strings.Contains(l.raw, `"Referer":["https://news.example/to/redacted?id=1"]`)
	})
	has(access, "an absolute-form URI without userinfo", func(l logLine) bool {
		return strings.Contains(l.raw, `"uri":"http://localhost:9180/abs"`)
	})
	has(access, "CloudFront-Viewer-Address truncated", func(l logLine) bool {
		return strings.Contains(l.raw, `"Cloudfront-Viewer-Address":["2001:db8:abcd::"]`)
	})
	has(access, "an unlisted address header truncated", func(l logLine) bool {
		return strings.Contains(l.raw, `"Do-Connecting-Ip":["198.51.100.0"]`)
	})
	has(server, "the module's path field redacted", func(l logLine) bool {
		return l.m["msg"] == "filtered" && l.m["path"] == "/users/redacted/profile"
	})
	has(server, "the error log line of the dead upstream", func(l logLine) bool {
		return strings.HasPrefix(fmt.Sprint(l.m["logger"]), "http.log.error") &&
			strings.Contains(fmt.Sprint(l.m["msg"]), "dial tcp "+deadAddr) &&
			strings.Contains(l.raw, `"client_ip":"203.0.113.0"`)
	})
	has(server, "the module's filtered line", func(l logLine) bool { return l.m["msg"] == "filtered" })
	has(server, "the consent receipt", func(l logLine) bool {
		return l.m["msg"] == "consent recorded" && l.m["client_ip"] == "2001:db8:abcd::"
	})
	has(server, "reverse_proxy's debug lines with the upstream request", func(l logLine) bool {
		return l.m["msg"] == "upstream roundtrip" && strings.Contains(l.raw, `"X-Forwarded-For"`)
	})
	has(server, "the admin API's request line", func(l logLine) bool {
		return l.m["logger"] == "admin.api" && l.m["remote_ip"] == "127.0.0.0"
	})

	// And what no line may hold.
	forbidden := map[netip.Addr]bool{}
	for _, c := range logTestClients {
		forbidden[netip.MustParseAddr(c)] = true
	}
	secrets := []string{"jane", "GA1.1.42", "EAIaIQobChMI", "IwAR0xyz", "s3cr3t-session", "amFuZTpzZWNyZXQ=",
		`"Cookie":`, `"Set-Cookie":`, `"Authorization":`, "remote_port", "198.51.100.99", "192.0.2.33", "203.0.113.77",
		"2001:db8:abcd:12::77", "2002:c000:221::1", "2002:c000:0221::1",
		"alice", "S3CRETPW", "bob:", "example.com", "example.org", "jsessionid", "ABC123XYZ", "46532",
		"k3y-0f-th3-s1te", "t0k3n-s3cr3t", "X-Api-Key", "X-Auth-Token", "X-Forwarded-Email"}
	for _, file := range [][]logLine{access, server} {
		for _, l := range file {
			for _, tok := range addrTokens(l.raw) {
				ip, ok := privacylog.ParseIP(tok)
				if !ok || serverAddr(tok) {
					continue
				}
				if forbidden[ip.Unmap()] {
					t.Errorf("%s: client address %s in: %s", l.file, tok, l.raw)
				}
				if b := ip.As16(); ip.Is6() && b[0] == 0x20 && b[1] == 0x02 && b[5] != 0 {
					t.Errorf("%s: 6to4 address %s keeps its IPv4's host part: %s", l.file, tok, l.raw)
				}
			}
			for _, s := range secrets {
				if strings.Contains(l.raw, s) {
					t.Errorf("%s: %q in: %s", l.file, s, l.raw)
				}
			}
		}
	}
	t.Logf("%d access lines, %d server lines searched", len(access), len(server))
}

// absoluteFormRequest sends one request in absolute form (RFC 9112 §3.2.2),
// which Go's client never writes, over its own connection, and expects a
// 200.
func absoluteFormRequest(t *testing.T, requestLine string) {
	t.Helper()
	conn, err := net.Dial("tcp", "127.0.0.1:9180")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, requestLine+"\r\nHost: localhost:9180\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("%s: status %d, want 200", requestLine, resp.StatusCode)
	}
}

// logLine is one JSON line of a log file.
type logLine struct {
	file string
	raw  string
	m    map[string]any
}

func readLogLines(t *testing.T, path string) []logLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := logLine{file: filepath.Base(path), raw: sc.Text()}
		if err := json.Unmarshal(sc.Bytes(), &l.m); err != nil {
			t.Errorf("%s: not JSON: %v: %s", l.file, err, l.raw)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// addrToken finds anything that could be an address: runs of hex digits,
// dots, colons, brackets and zones; privacylog.ParseIP decides.
var addrToken = regexp.MustCompile(`[0-9A-Fa-f:.\[\]%]*[:.][0-9A-Fa-f:.\[\]%]*`)

// addrTokens returns the candidate addresses of a line, also with a
// trailing ':' or '.' cut (a port or a sentence may follow).
func addrTokens(s string) []string {
	var out []string
	for _, tok := range addrToken.FindAllString(s, -1) {
		out = append(out, tok, strings.TrimRight(tok, ":."), strings.Trim(tok, "[]:."))
	}
	return out
}

// serverAddr reports whether tok is one of the server's own listening
// addresses (the admin endpoint's startup line lists "//127.0.0.1:2999" as
// an allowed origin): a client's address never has the server's port.
func serverAddr(tok string) bool {
	_, port, err := net.SplitHostPort(strings.TrimRight(tok, "."))
	return err == nil && (port == "2999" || port == "9180" || port == "9543")
}

// scrapedValue reads one series from a Prometheus text exposition.
func scrapedValue(scrape, series string) (float64, bool) {
	for line := range strings.SplitSeq(scrape, "\n") {
		rest, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}
