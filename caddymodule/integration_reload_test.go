package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestIntegrationReload: a config reload frees what the handlers of the old
// config held. Fifty loads of two sites with a rules file, each serving a
// page, leave the goroutines and the heap (after GC) where they were; a
// handler whose caches were never closed costs four goroutines and a few
// MiB of counters per load and per site.
func TestIntegrationReload(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, testPage())
	}))
	defer origin.Close()
	rulesFile := filepath.Join(t.TempDir(), "extra.rules")
	if err := os.WriteFile(rulesFile, []byte(customRules), 0o600); err != nil {
		t.Fatal(err)
	}
	upstream := strings.TrimPrefix(origin.URL, "http://")
	client := &http.Client{Timeout: 10 * time.Second}
	tester := caddytest.NewTester(t)
	load := func(i int) {
		// Each config differs (Caddy skips loading an unchanged one).
		// No keep-alive to the origin: Caddy's proxy would keep an idle
		// connection (three goroutines) of each old config, with or
		// without this module, and hide what the module leaves.
		tester.InitServer(caddytestGlobal+fmt.Sprintf(`
		http://localhost:9080 {
			consent {
				rules %[1]s
				consent_max_age %[3]dh
			}
			reverse_proxy %[2]s {
				transport http {
					keepalive off
				}
			}
		}
		http://localhost:9081 {
			consent {
				mode defer
				rules %[1]s
				consent_max_age %[3]dh
			}
			reverse_proxy %[2]s {
				transport http {
					keepalive off
				}
			}
		}
		`, rulesFile, upstream, i+1), "caddyfile")
		awaitServing(t, client, "http://localhost:9080/", "http://localhost:9081/")
		for _, port := range []string{"9080", "9081"} {
			resp, err := client.Get("http://localhost:" + port + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			stripped := port == "9080" && strings.Contains(string(body), "connect.facebook.net")
			if stripped || !strings.Contains(string(body), "js.stripe.com") {
				t.Fatalf("load %d, port %s: the page was not filtered", i, port)
			}
		}
		client.CloseIdleConnections()
	}
	for i := range 5 { // what the first loads set up for good
		load(i)
	}
	goroutines, heap := settled(0, 0)
	for i := range 50 {
		load(5 + i)
	}
	g, h := settled(goroutines, heap)
	t.Logf("after 50 loads: goroutines %d → %d, heap %d → %d KiB", goroutines, g, heap>>10, h>>10)
	if g > goroutines+8 {
		t.Errorf("50 reloads left %d goroutines more", g-goroutines)
	}
	// Fifty leaked loads would hold over 200 MiB.
	if h > heap+16<<20 {
		t.Errorf("50 reloads left %d KiB more heap", (h-heap)>>10)
	}
}

// settled returns the goroutine count and the live heap once the old
// config's goroutines have ended (at most a few seconds after the load):
// once both are back under the wanted figures, or at the deadline.
func settled(wantGoroutines int, wantHeap uint64) (int, uint64) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		runtime.GC() // sync.Pool keeps objects through one GC
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g := runtime.NumGoroutine()
		done := wantGoroutines == 0 || g <= wantGoroutines && ms.HeapAlloc <= wantHeap
		if done || time.Now().After(deadline) {
			return g, ms.HeapAlloc
		}
		time.Sleep(50 * time.Millisecond)
	}
}
