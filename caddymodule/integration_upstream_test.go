package caddymodule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestIntegrationUpstream runs what clients and origins can do to a
// response through a real Caddy with reverse_proxy: bombs for clients that
// offer any coding or none, byte ranges of a page asked for by clients that
// do not ask for a page, and origins that fail within a page's first
// bytes. The server's own log (the module's lines and Caddy's) is written
// to a file and read after each request.
func TestIntegrationUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	page := testPage()
	zeros := strings.Repeat("\x00", 16<<20)
	bombs := map[string][]byte{"br": encodeBody(t, "br", zeros), "zstd": encodeBody(t, "zstd", zeros)}
	var gz bytes.Buffer
	if err := gzipBomb(t, &gz, 1<<10); err != nil { // 1 GiB of zeros
		t.Fatal(err)
	}
	bombs["gzip"] = gz.Bytes()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/bomb."):
			// An origin that encodes whatever it is asked for.
			coding := strings.TrimPrefix(r.URL.Path, "/bomb.")
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", coding)
			_, _ = w.Write(bombs[coding])
		case r.URL.Path == "/page.html":
			// Ranges honoured, as file_server does.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, "", time.Time{}, strings.NewReader(page))
		case r.URL.Path == "/video.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(make([]byte, 1<<20)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer origin.Close()
	// Bodies of unknown length that end in a failure: reverse_proxy
	// flushes after each write of such a body, then aborts.
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
	raw := rawOrigin(t, map[string]string{
		"/cut-early":       head + chunk("<!DOCTYPE html><html><head><title>t</title>"),
		"/cut-early-reset": head + chunk("<!DOCTYPE html><p>kept</p>") + chunk(`<script src="https://connect.facebook.net/`),
		"/cut-late":        head + chunk(streamedHead) + chunk("<body><p>more</p>"),
	})

	logFile := filepath.Join(t.TempDir(), "server.log")
	tester := caddytest.NewTester(t)
	tester.InitServer(fmt.Sprintf(`
	{
		skip_install_trust
		admin localhost:2999
		http_port 9080
		https_port 9443
		grace_period 1ns
		log {
			output file %s
			level INFO
		}
	}
	http://localhost:9080 {
		consent
		reverse_proxy %s
	}
	http://localhost:9082 {
		consent
		reverse_proxy %s
	}
	`, logFile, strings.TrimPrefix(origin.URL, "http://"), raw), "caddyfile")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 60 * time.Second}
	awaitServing(t, client, "http://localhost:9080/page.html", "http://localhost:9082/none")
	logged := newLogReader(t, logFile)

	for _, coding := range []string{"gzip", "br", "zstd"} {
		for _, ae := range []string{"", "deflate", "gzip"} {
			t.Run(fmt.Sprintf("%s bomb, Accept-Encoding %q", coding, ae), func(t *testing.T) {
				req, _ := http.NewRequest("GET", "http://localhost:9080/bomb."+coding, nil)
				req.Header.Set("Accept-Encoding", ae)
				if ae == "" {
					delete(req.Header, "Accept-Encoding")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				n, rerr := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				t.Logf("status %d, %d bytes, read error %v", resp.StatusCode, n, rerr)
				if resp.StatusCode != http.StatusBadGateway && rerr == nil {
					t.Errorf("status %d with a complete body of %d bytes", resp.StatusCode, n)
				}
				if n > 4<<20 {
					t.Errorf("%d bytes went out: the caps did not hold", n)
				}
				if got := logged.count("decoding upstream html"); got != 1 {
					t.Errorf("decoding error logged %d times, want once", got)
				}
			})
		}
	}

	t.Run("a range of a page, for a client that does not ask for a page", func(t *testing.T) {
		for _, rng := range []string{"bytes=0-99", "bytes=100-", "bytes=0-9,50-59", "bytes=-20"} {
			req, _ := http.NewRequest("GET", "http://localhost:9080/page.html", nil)
			req.Header.Set("Range", rng)
			req.Header.Set("Accept", "*/*")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || rerr != nil {
				t.Errorf("%s: status %d, %v: want the whole page", rng, resp.StatusCode, rerr)
			}
			if !strings.HasSuffix(strings.TrimSpace(string(body)), "</html>") || !strings.Contains(string(body), "js.stripe.com") {
				t.Errorf("%s: not the whole page: %d bytes", rng, len(body))
			}
			if strings.Contains(string(body), "connect.facebook.net") || resp.Header.Get("Content-Range") != "" {
				t.Errorf("%s: unfiltered or partial: Content-Range %q", rng, resp.Header.Get("Content-Range"))
			}
		}
		// Not a page: the range is served as asked.
		req, _ := http.NewRequest("GET", "http://localhost:9080/video.bin", nil)
		req.Header.Set("Range", "bytes=0-99")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || len(body) != 100 {
			t.Errorf("a range of a video: status %d, %d bytes", resp.StatusCode, len(body))
		}
		if lines := logged.levels("error"); len(lines) > 0 {
			t.Errorf("a client's range was logged as an error: %q", lines)
		}
	})

	for _, tc := range []struct {
		path string
		want int // 0: a broken transfer after the status
	}{
		{"/cut-early", http.StatusBadGateway},
		{"/cut-early-reset", http.StatusBadGateway},
		{"/cut-late", 0},
	} {
		t.Run("upstream failing "+tc.path, func(t *testing.T) {
			resp, err := client.Get("http://localhost:9082" + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("status %d, %d bytes, read error %v", resp.StatusCode, len(body), rerr)
			switch {
			case tc.want != 0 && resp.StatusCode != tc.want:
				t.Errorf("status %d, want %d: the status left with the first bytes", resp.StatusCode, tc.want)
			case tc.want == 0 && rerr == nil:
				t.Errorf("status %d and a complete body of %d bytes for a page cut short", resp.StatusCode, len(body))
			}
			if strings.Contains(string(body), "facebook") {
				t.Error("part of a tracker element went out")
			}
		})
	}
}

// awaitServing asks each URL until it is answered. Right after a config
// load, the old config's server can still take a connection from the
// listener it shares with the new one, and reset it as it stops; what is
// tested comes after that.
func awaitServing(t *testing.T, client *http.Client, urls ...string) {
	t.Helper()
	for _, u := range urls {
		var err error
		for range 50 {
			var resp *http.Response
			if resp, err = client.Get(u); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	client.CloseIdleConnections()
}

// logReader reads the lines a JSON log file gains.
type logReader struct {
	t    *testing.T
	f    *os.File
	r    *bufio.Reader
	name string
}

func newLogReader(t *testing.T, name string) *logReader {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	lr := &logReader{t: t, f: f, r: bufio.NewReader(f), name: name}
	lr.take() // what the config load wrote
	return lr
}

// take returns the entries written since the last take.
func (lr *logReader) take() []map[string]any {
	var out []map[string]any
	for {
		line, err := lr.r.ReadBytes('\n')
		if len(line) > 0 {
			var e map[string]any
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				lr.t.Fatalf("log line %q: %v", line, jerr)
			}
			out = append(out, e)
		}
		if err != nil {
			return out
		}
	}
}

// count takes the new entries and counts those with the message msg.
func (lr *logReader) count(msg string) int {
	n := 0
	for _, e := range lr.take() {
		if e["msg"] == msg {
			n++
		}
	}
	return n
}

// levels takes the new entries and returns the messages of those at level.
func (lr *logReader) levels(level string) []string {
	var out []string
	for _, e := range lr.take() {
		if e["level"] == level {
			out = append(out, fmt.Sprint(e["msg"]))
		}
	}
	return out
}
