package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/consentedge/consentedge/rules"
)

// The Content-Security-Policy backstop (opt-in, `csp enforce|report_only`):
// the markup filter removes what a page says it loads; a CSP also stops what
// a granted script injects at run time (a tag manager adding the Meta
// pixel). Each filtered page gets a second CSP header, for the visitor's
// consent state, that lists 'self', the operator's allow list and the hosts
// of the vendors of granted categories: the hosts of denied vendors are not
// listed, so the browser refuses them. A visitor who denies nothing gets
// none. A browser enforces every CSP header
// it gets, so the origin's own policy still applies in full.

// The policy lists its sources once, in default-src, which every fetch
// directive falls back to; no other fetch directive is left open, or a
// prefetch could reach any host. Past it: base-uri 'self' and object-src
// 'none'; form-action stays unset. docs/how-it-works.md, "The CSP
// backstop", gives the reason for each part.
const cspTail = "base-uri 'self'; object-src 'none'"

// CSP configures the backstop.
type CSP struct {
	// Mode is "enforce" or "report_only" (Content-Security-Policy-Report-Only:
	// nothing is blocked, violations are reported).
	Mode string `json:"mode"`
	// Allow lists source expressions allowed in every directive besides
	// 'self' and the granted vendors' hosts: CDNs, 'unsafe-inline' or
	// nonces for the site's inline scripts, data: for images.
	Allow []string `json:"allow,omitempty"`
	// Report is the path of the report endpoint the policy names
	// (report-uri); empty: no reports.
	Report string `json:"report,omitempty"`
}

// cspKeywords are CSP's keyword sources (CSP Level 3, "keyword-source";
// unsafe-allow-redirects of its earlier drafts; inline-speculation-rules,
// HTML's). Each is a keyword only in single quotes: a browser reads an
// unquoted self as the host "self", so csp_allow self would allow nothing
// it meant to.
var cspKeywords = []string{"self", "none", "unsafe-inline", "unsafe-eval", "strict-dynamic", "unsafe-hashes",
	"report-sample", "wasm-unsafe-eval", "unsafe-allow-redirects", "inline-speculation-rules"}

// cspSourceProblem says what is wrong with s as a source of the allow list,
// "" for nothing: a keyword, nonce or hash without its quotes, or a source
// the backstop cannot use (several sources in one, 'strict-dynamic').
func cspSourceProblem(s string) string {
	lower := strings.ToLower(s)
	if s == "" || strings.ContainsAny(s, ";,") || strings.Trim(lower, "'") == "strict-dynamic" {
		return fmt.Sprintf("%q is not a source expression the backstop can use", s)
	}
	unquoted := !strings.HasPrefix(s, "'") || !strings.HasSuffix(s, "'") || len(s) < 2
	if !unquoted {
		return ""
	}
	bare := strings.Trim(s, "'")
	keyword := slices.Contains(cspKeywords, strings.ToLower(bare))
	for _, p := range []string{"nonce-", "sha256-", "sha384-", "sha512-"} {
		keyword = keyword || strings.HasPrefix(strings.ToLower(bare), p)
	}
	if keyword {
		return fmt.Sprintf("%q is a keyword, nonce or hash only in single quotes (unquoted it names a host): write '%s'", s, bare)
	}
	return ""
}

const (
	cspEnforce    = "enforce"
	cspReportOnly = "report_only"
)

// cspCache holds the policy text per consent state: there are few states
// (a bit set of at most 32 categories; in practice 16), each built once,
// unless visitors refuse vendors by name.
type cspCache struct {
	mu sync.Mutex
	m  map[cspKey]string
}

// cspKey is a consent state: the categories granted and the vendors
// refused by name (VendorSet.Key).
type cspKey struct {
	granted rules.Set
	refused string
}

// maxCSPStates bounds the cache: vendor-level refusals make states as many
// as the visitors' combinations. Past it, the cache starts afresh.
const maxCSPStates = 1024

// cspHeader is the backstop's header for a visitor who granted granted and
// refused the vendors refused by name.
func (h *Handler) cspHeader(granted rules.Set, refused rules.VendorSet) (name, value string) {
	name = "Content-Security-Policy"
	if h.CSP.Mode == cspReportOnly {
		name = "Content-Security-Policy-Report-Only"
	}
	key := cspKey{granted, refused.Key()}
	h.csp.mu.Lock()
	defer h.csp.mu.Unlock()
	if v, ok := h.csp.m[key]; ok {
		return name, v
	}
	if h.csp.m == nil || len(h.csp.m) >= maxCSPStates {
		h.csp.m = map[cspKey]string{}
	}
	v := h.buildCSP(granted, refused)
	h.csp.m[key] = v
	return name, v
}

// buildCSP writes the policy: each fetch directive lists 'self', the allow
// list and the hosts of every vendor whose category is granted (necessary
// ones always), as sources for the host and its subdomains (a rule names a
// host and everything under it); a vendor rule with a path lists the path
// (exact, and as a prefix). base-uri and object-src close the usual ways
// around a CSP. Never 'strict-dynamic': it would let any allowed script load
// whatever it likes, the very case the backstop is for.
func (h *Handler) buildCSP(granted rules.Set, refused rules.VendorSet) string {
	var b strings.Builder
	b.WriteString("default-src 'self'")
	for _, s := range h.CSP.Allow {
		b.WriteString(" " + s)
	}
	for _, s := range grantedSources(h.rules, granted, refused) {
		b.WriteString(" " + s)
	}
	b.WriteString(" blob:")
	for _, s := range h.injectedHashes(granted) {
		b.WriteString(" " + s)
	}
	b.WriteString("; " + cspTail)
	if h.CSP.Report != "" {
		b.WriteString("; report-uri ")
		b.WriteString(h.CSP.Report)
	}
	return b.String()
}

// grantedSources are the CSP sources of the granted vendors' host rules,
// without the scheme and without what a wildcard of a parent domain already
// covers, so that hundreds of vendors fit a header. A source without a
// scheme matches the page's own scheme and its secure upgrade (CSP Level 3
// §6.7.2.8): on an https page, https only.
func grantedSources(rs *rules.Rules, granted rules.Set, refused rules.VendorSet) []string {
	type hostRule struct{ host, path string }
	var hrs []hostRule
	wild := map[string]bool{} // hosts listed with all their subdomains
	for i, v := range rs.Vendors() {
		if v.Category != rules.Necessary && !granted.Has(v.Category) || refused.Has(int32(i)) {
			continue
		}
		for _, hr := range v.Hosts {
			host, path, hasPath := strings.Cut(hr, "/")
			if strings.Contains(path, "?") {
				// A CSP source cannot say "this query": browsers ignore
				// it, so listing the path would also allow the vendor a
				// query tells apart (gtag/js?id=AW- for Google Ads is the
				// same path as Google Analytics' gtag/js). Unlisted, the
				// granted tag is refused by the backstop too: fail closed.
				continue
			}
			if !hasPath {
				wild[host] = true
			}
			hrs = append(hrs, hostRule{host, path})
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, hr := range hrs {
		if coveredByWildcard(hr.host, wild) {
			continue
		}
		if hr.path == "" {
			add(hr.host)
			add("*." + hr.host)
			continue
		}
		if wild[hr.host] {
			continue // the host is listed whole
		}
		add(hr.host + "/" + hr.path)
		add(hr.host + "/" + strings.TrimSuffix(hr.path, "/") + "/")
	}
	return out
}

// coveredByWildcard says whether a parent domain of host is listed with
// its subdomains ("*.parent" matches host and everything under it).
func coveredByWildcard(host string, wild map[string]bool) bool {
	for i := strings.IndexByte(host, '.'); i >= 0; i = strings.IndexByte(host, '.') {
		host = host[i+1:]
		if wild[host] {
			return true
		}
	}
	return false
}

// maxCSPReport bounds a report body: one violation is well under 4 KiB, a
// Reporting API batch a few of them.
const maxCSPReport = 64 << 10

// serveCSPReport counts a violation report per vendor: report-uri's
// application/csp-report ({"csp-report":{"blocked-uri":…}}) and the
// Reporting API's application/reports+json ([{"type":"csp-violation",
// "body":{"blockedURL":…}}]). Reports are telemetry anyone can send: they
// are counted, aggregated, never trusted for anything else; nothing of the
// visitor is logged.
func (h *Handler) serveCSPReport(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCSPReport+1))
	if err != nil || len(body) > maxCSPReport {
		w.WriteHeader(http.StatusBadRequest)
		return nil
	}
	for _, blocked := range blockedURLs(body) {
		vendor := "unknown"
		if v := h.rules.Classify(blocked); v != nil {
			vendor = v.ID
		}
		if h.cspCount != nil {
			h.cspCount(vendor)
		}
		if c := h.logger.Check(zap.DebugLevel, "csp violation reported"); c != nil {
			c.Write(zap.String("vendor", vendor))
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// blockedURLs reads the blocked URLs of a report body in either format;
// anything unreadable yields none.
func blockedURLs(body []byte) []string {
	var legacy struct {
		Report struct {
			Blocked string `json:"blocked-uri"`
		} `json:"csp-report"`
	}
	if json.Unmarshal(body, &legacy) == nil && legacy.Report.Blocked != "" {
		return []string{legacy.Report.Blocked}
	}
	var batch []struct {
		Type string `json:"type"`
		Body struct {
			Blocked string `json:"blockedURL"`
		} `json:"body"`
	}
	if json.Unmarshal(body, &batch) != nil {
		return nil
	}
	var out []string
	for _, rep := range batch {
		if rep.Type == "csp-violation" && rep.Body.Blocked != "" && len(out) < 100 {
			out = append(out, rep.Body.Blocked)
		}
	}
	return out
}
