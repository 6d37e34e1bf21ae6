package caddymodule

import (
	"net/http"
	"slices"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

// TestAllowInjected: the injected elements' hashes go where each of the
// origin's policies decides on inline scripts and styles, and only where
// that directive would refuse them: not where 'unsafe-inline' counts (a
// hash would switch it off), nor where everything is refused.
func TestAllowInjected(t *testing.T) {
	scripts, styles := []string{"'sha256-S='"}, []string{"'sha256-A='", "'sha256-B='"}
	for _, tt := range []struct{ in, want string }{
		// A nonce: 'unsafe-inline' no longer counts; the hashes are needed.
		{"script-src 'nonce-r4nd0m' 'strict-dynamic'; object-src 'none'",
			"script-src 'nonce-r4nd0m' 'strict-dynamic' 'sha256-S='; object-src 'none'"},
		{"script-src 'self' 'unsafe-inline' 'nonce-x'", "script-src 'self' 'unsafe-inline' 'nonce-x' 'sha256-S='"},
		// 'strict-dynamic' switches 'unsafe-inline' off for scripts only.
		{"default-src 'self' 'unsafe-inline' 'strict-dynamic'",
			"default-src 'self' 'unsafe-inline' 'strict-dynamic' 'sha256-S='"},
		// 'unsafe-inline' that counts: left alone.
		{"script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'", "script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'"},
		// No inline at all: the hashes let the injected elements through.
		{"default-src 'self'", "default-src 'self' 'sha256-S=' 'sha256-A=' 'sha256-B='"},
		{"default-src 'self'; script-src-elem https://cdn.example; style-src 'sha256-A='",
			"default-src 'self'; script-src-elem https://cdn.example 'sha256-S='; style-src 'sha256-A=' 'sha256-B='"},
		// The first of a directive named twice is the one that counts.
		{"style-src 'self'; style-src 'unsafe-inline'", "style-src 'self' 'sha256-A=' 'sha256-B='; style-src 'unsafe-inline'"},
		// Everything refused stays refused.
		{"script-src 'none'; style-src", "script-src 'none'; style-src"},
		// Nothing about scripts or styles: nothing to add.
		{"img-src *; frame-ancestors 'none'", "img-src *; frame-ancestors 'none'"},
		// Several policies in one field: each on its own.
		{"script-src 'self', style-src 'self' 'unsafe-inline'",
			"script-src 'self' 'sha256-S=', style-src 'self' 'unsafe-inline'"},
		// Names and keywords are case-insensitive.
		{"Script-Src 'NONCE-abc'", "Script-Src 'NONCE-abc' 'sha256-S='"},
		{"script-src 'self';  ", "script-src 'self' 'sha256-S=';  "},
	} {
		h := http.Header{"Content-Security-Policy": {tt.in}, "Content-Security-Policy-Report-Only": {tt.in}}
		allowInjected(h, scripts, styles)
		for name, got := range h {
			if !slices.Equal(got, []string{tt.want}) {
				t.Errorf("%s %q:\n got  %q\n want %q", name, tt.in, got, tt.want)
			}
		}
	}
	// Nothing injected: nothing changes.
	h := http.Header{"Content-Security-Policy": {"default-src 'self'"}}
	allowInjected(h, nil, nil)
	if got := h.Get("Content-Security-Policy"); got != "default-src 'self'" {
		t.Errorf("nothing injected: %q", got)
	}
}

// TestInjectedSourcesKept: the hash sources kept for each consent state
// and for the styles are those of the texts injected, whichever state asks
// first and however often.
func TestInjectedSourcesKept(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.ConsentMode = consentModeBasic
		h.Endpoint = "/consent"
		h.Banner = &Banner{PolicyURL: "/privacy"}
	})
	states := []rules.Set{0, h.allSet, rules.Set(0b10), 0, h.allSet}
	for _, granted := range states {
		want := hashSource(elementText(rules.ConsentModeScript(granted)))
		if got := h.injectedScriptHashes(granted); !slices.Equal(got, []string{want}) {
			t.Errorf("granted %b: %q, want %q", granted, got, want)
		}
	}
	want := []string{hashSource([]byte(bannerCSS)), hashSource([]byte(h.choicesStyle()))}
	for range 2 {
		if got := h.injectedStyleHashes(); !slices.Equal(got, want) {
			t.Errorf("styles %q, want %q", got, want)
		}
	}
}
