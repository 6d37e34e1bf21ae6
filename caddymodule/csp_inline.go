package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"sync"

	"github.com/consentedge/consentedge/rules"
)

// What the handler injects inline must run under its own backstop: the
// banner's and the privacy choices control's <style> and the Consent Mode
// defaults <script>. The backstop lists
// their hashes (CSP Level 3, "hash-source": the digest of the element's
// text, whatever its attributes), not a nonce: both texts are fixed for a
// consent state, as the policy is, so the policy stays one string per state
// and the page cache can replay a page as it is. The origin's own policies
// get the same hashes where they would refuse the elements (csp_origin.go).
//
// The hashes go in default-src, which script-src and style-src fall back
// to, so that the sources stay listed once; a style with the script's text
// or a script with the style's could only do what the module's own text does.
//
// A hash (or a nonce) in a directive makes browsers of CSP Level 2 and
// later ignore 'unsafe-inline' there (CSP Level 3, "does a source list
// allow all inline behavior for type"): an operator whose csp_allow has
// 'unsafe-inline', for the site's own inline scripts and styles, gets no
// hashes, and 'unsafe-inline' lets the injected elements run too.

// injectedHashes are the hash sources of the inline elements a page for a
// visitor who granted granted may get, none when the operator's allow list
// has 'unsafe-inline'.
func (h *Handler) injectedHashes(granted rules.Set) []string {
	for _, s := range h.CSP.Allow {
		if strings.EqualFold(s, "'unsafe-inline'") {
			return nil
		}
	}
	return slices.Concat(h.injectedScriptHashes(granted), h.injectedStyleHashes())
}

// injectedSources keeps the hash sources of the injected elements: a page
// with a policy of its own needs them on every response (csp_origin.go).
// The styles' are fixed for a handler, the script's for a consent state.
// The slices it hands out are shared: callers only read them.
type injectedSources struct {
	mu      sync.Mutex
	styles  []string // nil until asked for
	scripts map[rules.Set][]string
}

// injectedScriptHashes are the hash sources of the script a page for a
// visitor who granted granted may get: the Consent Mode defaults.
func (h *Handler) injectedScriptHashes(granted rules.Set) []string {
	if h.ConsentMode == "" {
		return nil
	}
	c := h.injected
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.scripts[granted]; ok {
		return v
	}
	if c.scripts == nil || len(c.scripts) >= maxCSPStates {
		c.scripts = map[rules.Set][]string{}
	}
	v := []string{hashSource(elementText(rules.ConsentModeScript(granted)))}
	c.scripts[granted] = v
	return v
}

// injectedStyleHashes are the hash sources of the styles a page may get:
// the banner's and the privacy choices control's.
func (h *Handler) injectedStyleHashes() []string {
	if h.Banner == nil {
		return nil
	}
	c := h.injected
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.styles == nil {
		c.styles = []string{hashSource([]byte(bannerCSS))}
		if h.Banner.ChoicesLink != choicesOff {
			c.styles = append(c.styles, hashSource([]byte(h.choicesStyle())))
		}
	}
	return c.styles
}

// elementText is the text of an element written as <tag ...>text</tag>.
func elementText(el []byte) []byte {
	start := bytes.IndexByte(el, '>') + 1
	end := bytes.LastIndex(el, []byte("</"))
	if start <= 0 || end < start {
		return nil
	}
	return el[start:end]
}

// hashSource is the 'sha256-…' source expression of text (CSP Level 3,
// "hash-source": base64 of the SHA-256 digest of the UTF-8 text).
func hashSource(text []byte) string {
	sum := sha256.Sum256(text)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
