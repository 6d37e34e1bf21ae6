package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

// TestCachesOutliveCleanup: Cleanup while requests of the old config are
// still being served (a reload past its grace period) closes the caches
// only when the last of them is done; a request that arrives after
// Cleanup is served without them. Under -race, a close during a lookup
// shows as a race (or a send on a closed channel).
func TestCachesOutliveCleanup(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	c := h.caches
	const inFlight = 4
	reached := make(chan struct{}, inFlight)
	release := make(chan struct{})
	var wg sync.WaitGroup
	bodies := make([]string, inFlight)
	for i := range inFlight {
		wg.Go(func() {
			req := httptest.NewRequest("GET", "http://shop.example/p", nil)
			rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte(trackedDoc[:len(trackedDoc)/2]))
				reached <- struct{}{}
				<-release
				_, err := w.Write([]byte(trackedDoc[len(trackedDoc)/2:]))
				return err
			})
			if err != nil {
				t.Error(err)
			}
			bodies[i] = rec.Body.String()
		})
	}
	for range inFlight {
		<-reached
	}
	if err := h.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if c.closed.Load() {
		t.Fatal("cleanup closed the caches under requests still being served")
	}
	// A request after Cleanup: filtered all the same, with no cache.
	rec, err := serve(h, httptest.NewRequest("GET", "http://shop.example/p", nil), htmlOrigin(trackedDoc))
	if err != nil || strings.Contains(rec.Body.String(), pixelHost) || !strings.Contains(rec.Body.String(), benignHTML) {
		t.Fatalf("a request after cleanup: %v, %q", err, rec.Body.String())
	}
	if c.closed.Load() {
		t.Fatal("a request after cleanup closed the caches under requests still being served")
	}
	close(release)
	wg.Wait()
	if !c.closed.Load() {
		t.Error("the caches stay open after the last request of an unloaded config")
	}
	for i, b := range bodies {
		if strings.Contains(b, pixelHost) || !strings.Contains(b, benignHTML) {
			t.Errorf("request %d: %q", i, b)
		}
	}
}

// TestCachesGuard: the hold count closes the caches exactly once, at
// shutdown when nobody holds them, else at the last release.
func TestCachesGuard(t *testing.T) {
	idle, err := newCaches(rules.Default(), -1)
	if err != nil {
		t.Fatal(err)
	}
	idle.shutdown()
	if !idle.closed.Load() {
		t.Error("shutdown with no request left the caches open")
	}
	if got := idle.acquire(); got != noCaches {
		t.Error("acquire after close handed out closed caches")
	}

	busy, err := newCaches(rules.Default(), -1)
	if err != nil {
		t.Fatal(err)
	}
	a, b := busy.acquire(), busy.acquire()
	busy.shutdown()
	a.release()
	if busy.closed.Load() {
		t.Error("closed while a request still holds the caches")
	}
	b.release()
	if !busy.closed.Load() {
		t.Error("the last release left the caches open")
	}
}

// TestCachesGuardRace: requests that hold the caches while shutdown comes
// never find them closed, and the caches close once the last of them is
// done.
func TestCachesGuardRace(t *testing.T) {
	for round := range 20 {
		c, err := newCaches(rules.Default(), -1)
		if err != nil {
			t.Fatal(err)
		}
		var wg, started sync.WaitGroup
		var bad atomic.Int32
		for range 8 {
			started.Add(1)
			wg.Go(func() {
				for i := range 2000 {
					if i == 100 {
						started.Done()
					}
					held := c.acquire()
					if held != noCaches && held.closed.Load() {
						bad.Add(1)
					}
					held.release()
				}
			})
		}
		started.Wait()
		c.shutdown()
		wg.Wait()
		if bad.Load() != 0 {
			t.Fatalf("round %d: %d requests held closed caches", round, bad.Load())
		}
		if !c.closed.Load() {
			t.Fatalf("round %d: the caches stayed open after every request was done", round)
		}
	}
}
