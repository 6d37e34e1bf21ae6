package caddymodule

import "net/http"

// A worker is not governed by the policy of the page that starts it: it
// gets its own from its script's response (HTML, "run a worker"; CSP
// Level 3, "initialize a global object's CSP list"), and a
// script response without one leaves fetch() and importScripts() inside the
// worker free. So a response the browser asked for as a worker script
// (Fetch Metadata's Sec-Fetch-Dest) gets the backstop of the visitor's
// consent state too, whatever its Content-Type; workers made from blob: or
// data: URLs inherit the page's policy instead. A browser sends
// Sec-Fetch-Dest only to potentially trustworthy URLs (https, localhost).

// isWorkerScript reports whether the request fetches a worker's script.
func isWorkerScript(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "worker", "sharedworker", "serviceworker":
		return true
	}
	return false
}

// workerCSP adds the backstop to a worker script's response. The header
// depends on the consent and on Sec-Fetch-Dest (the same script fetched by
// importScripts gets none), which Vary says; like a filtered page it is a
// per-visitor variant that shared caches must not mix.
func (rw *responseWriter) workerCSP() {
	h := rw.Header()
	addVary(h, "Cookie", "Sec-Fetch-Dest")
	if rw.h.gpc {
		addVary(h, "Sec-GPC")
	}
	if rw.h.Cache != cacheVary {
		privateCache(h)
	}
	if rw.h.allSet&^rw.granted != 0 || len(rw.vendors.Denied) != 0 {
		name, value := rw.h.cspHeader(rw.granted, rw.vendors.Denied)
		h.Add(name, value)
	}
}
