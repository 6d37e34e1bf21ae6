package main

import "testing"

// A sample goes to what its stack spends the time on: a system call of a
// write to the client, wherever the write comes from; else the innermost
// frame that has an owner, so that reverse_proxy's work under the consent
// handler is Caddy's, gzip's under encode is compression's, and a runtime
// or shared helper is its caller's.
func TestTraceCosts(t *testing.T) {
	const traces = `File: consentedge
Type: cpu
-----------+-------------------------------------------------------
      10ms   indexbytebody
             bytes.IndexByte (inline)
             github.com/consentedge/consentedge/rules/htmlfilter.(*Filter).run
             github.com/consentedge/consentedge/caddymodule.(*Handler).ServeHTTP
-----------+-------------------------------------------------------
      20ms   internal/runtime/syscall/linux.Syscall6
             internal/poll.(*FD).Write
             net/http.(*response).write
             github.com/consentedge/consentedge/pagecache.(*output).Write
             github.com/consentedge/consentedge/rules/htmlfilter.(*Filter).flushOut
-----------+-------------------------------------------------------
     1.5s   runtime.memmove
             github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.Handler.copyBuffer
             github.com/consentedge/consentedge/caddymodule.(*Handler).runNext
-----------+-------------------------------------------------------
      40ms   github.com/consentedge/consentedge/internal/httpfield.Lower
             github.com/consentedge/consentedge/rules/htmlfilter.(*Filter).recordAttrs
             github.com/consentedge/consentedge/caddymodule.(*Handler).ServeHTTP
-----------+-------------------------------------------------------
       5ms   github.com/klauspost/compress/flate.(*compressor).deflateLazy
             github.com/klauspost/compress/gzip.(*Writer).Write
             github.com/caddyserver/caddy/v2/modules/caddyhttp/encode.(*responseWriter).Write
             github.com/consentedge/consentedge/caddymodule.(*statusHold).send
-----------+-------------------------------------------------------
      30ms   github.com/consentedge/consentedge/caddymodule.(*responseWriter).decide
             github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.(*Handler).finalizeResponse
-----------+-------------------------------------------------------
`
	got := traceCosts([]byte(traces))
	want := map[string]float64{
		"the scan (htmlfilter)":                         0.050,
		"writes to the client (net/http, system calls)": 0.020,
		"Caddy, reverse_proxy, net/http":                1.5,
		"handler (headers, decision, body plumbing)":    0.030,
		"compression (encode gzip)":                     0.005,
	}
	if len(got) != len(want) {
		t.Errorf("categories %v, want %v", got, want)
	}
	for c, v := range want {
		if d := got[c] - v; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %v s, want %v", c, got[c], v)
		}
	}
}

// Rounds are pooled by their samples over their responses, not averaged,
// and what consent adds beyond the scan is the consent proxy's total less
// the plain one's, less the consent proxy's scan.
func TestPerResponsePools(t *testing.T) {
	runs := []profileRun{
		{proxy: "plain", page: "p", round: 1, responses: 1000, seconds: map[string]float64{"other": 0.100}},
		{proxy: "consent", page: "p", round: 1, responses: 1000, seconds: map[string]float64{"other": 0.110, scanCategory: 0.005}},
		{proxy: "plain", page: "p", round: 2, responses: 3000, seconds: map[string]float64{"other": 0.300}},
		{proxy: "consent", page: "p", round: 2, responses: 1000, seconds: map[string]float64{"other": 0.130, scanCategory: 0.005}},
		{proxy: "consent", page: "q", round: 1, responses: 1, seconds: map[string]float64{"other": 1}},
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if d := got - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	p, c := perResponse(runs, "plain", "p", 0), perResponse(runs, "consent", "p", 0)
	near("plain, pooled", p["total"], 100)
	near("consent, pooled", c["total"], 125)
	near("beyond the scan, pooled", beyondScan(p, c), 20)
	near("beyond the scan, round 1", beyondScan(perResponse(runs, "plain", "p", 1), perResponse(runs, "consent", "p", 1)), 10)
	near("beyond the scan, round 2", beyondScan(perResponse(runs, "plain", "p", 2), perResponse(runs, "consent", "p", 2)), 30)
	if perResponse(runs, "plain", "p", 3) != nil {
		t.Error("a round that was not taken has figures")
	}
}
