// Package caddymodule is the Caddy adapter of consentedge: the HTTP handler
// http.handlers.consent, its Caddyfile directive and the response-writer
// wrapper that routes HTML bodies through the streaming filter. It holds no
// HTML or rule logic; that lives in package rules and rules/htmlfilter.
package caddymodule

import (
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler enforces the site's cookie-consent policy on HTML responses: every
// element that would load a tracker of a category the visitor did not
// consent to is removed (mode "strip") or made inert for a client-side
// consent tool to revive (mode "defer").
type Handler struct {
	// Mode is "strip" (default) or "defer".
	Mode string `json:"mode,omitempty"`
	// DeferFor names the consent tool whose convention deferred elements
	// follow, so that it revives them: cookieconsent (default), klaro,
	// cookiebot, onetrust or cookieyes.
	DeferFor string `json:"defer_for,omitempty"`
	// Cookie names the native consent cookie (default "consent"), whose
	// value lists the granted categories joined by ".".
	Cookie string `json:"cookie,omitempty"`
	// Rules lists rule files that extend the embedded default rule set, in
	// order, after the tracker lists.
	Rules []string `json:"rules,omitempty"`
	// Lists are third-party tracker lists read from disk (formats
	// rules.ListFormats) whose trackers join the default rules as vendors,
	// in order, before the rule files.
	Lists []rules.ListFile `json:"lists,omitempty"`
	// GPC honours the Global Privacy Control header (Sec-GPC: 1) as an
	// opt-out of advertising. Default on.
	GPC *bool `json:"gpc,omitempty"`
	// Cache is how filtered responses meet shared caches: "private"
	// (default) marks them Cache-Control: private, because a shared cache
	// must not serve one visitor's consent variant to another and many
	// ignore Vary: Cookie; "vary" leaves Cache-Control as the origin sent
	// it and relies on Vary: Cookie, Sec-GPC alone.
	Cache string `json:"cache,omitempty"`
	// MaxDecoded caps the decoded size, in bytes, of a compressed upstream
	// HTML body (default 256 MiB); past it the response fails. Past the
	// first MiB the decoded size may also be at most 100 times the encoded
	// bytes read so far, whatever this cap.
	MaxDecoded int64 `json:"max_decoded,omitempty"`
	// PageCache bounds, in bytes, the page cache: pages remembered with
	// what the filter made of them, so that the same page for the same
	// consent costs a comparison instead of a scan (pagecache.Cache).
	// 0 means the default (64 MiB), -1 turns it off.
	PageCache int64 `json:"page_cache,omitempty"`
	// ClickIDs are the query parameters removed from request URLs: names,
	// or prefixes ending in '*' ("utm_*"), removed while advertising is
	// denied. "default" stands for the parameters the vendors of the rules
	// read (their param lines), each removed while its vendor's category is
	// denied; empty means the defaults; ["off"] removes none.
	ClickIDs []string `json:"click_ids,omitempty"`
	// Collectors are first-party paths that forward to a tracker; while
	// their category is denied they answer 204 without the origin.
	Collectors []Collector `json:"collectors,omitempty"`
	// Endpoint is the path of the consent endpoint ("/consent"); empty: no
	// endpoint.
	Endpoint string `json:"endpoint,omitempty"`
	// ConsentMaxAge is the lifetime of the consent cookie the endpoint sets
	// (default six months).
	ConsentMaxAge caddy.Duration `json:"consent_max_age,omitempty"`
	// CookieSecure says when the consent cookie the endpoint sets is
	// Secure: "auto" (default) when the request came over HTTPS, to Caddy
	// or per X-Forwarded-Proto from a proxy in the server's
	// trusted_proxies; "on" always (the site is HTTPS: the endpoint then
	// also expects an https Origin); "off" never.
	CookieSecure string `json:"cookie_secure,omitempty"`
	// CookieHostPrefix names the consent cookie "__Host-<cookie>" wherever
	// it is Secure, and reads only that name there, so that no sibling
	// subdomain can plant a grant. Default on with an endpoint, off
	// without (the site's own code then writes the cookie).
	CookieHostPrefix *bool `json:"cookie_host_prefix,omitempty"`
	// Sources are the consent tools whose cookies are read (consent.SourceNames);
	// empty reads the native cookie only. With an endpoint, the native
	// cookie is always read as well.
	Sources []ConsentSource `json:"sources,omitempty"`
	// Map maps a tool's category or service names to category ids, on top
	// of the defaults for the common names ("marketing": "advertising").
	Map map[string]string `json:"map,omitempty"`
	// Unclassified is the category of the third-party scripts, frames and
	// pixels whose host no rule names: they go while it is denied. "allow"
	// (the default) keeps them.
	Unclassified string `json:"unclassified,omitempty"`
	// DNT honours DNT: 1 as an objection to analytics and advertising.
	// Default off.
	DNT bool `json:"dnt,omitempty"`
	// ConsentMode writes Google Consent Mode v2 defaults from the
	// visitor's state at the top of every filtered page's head: "basic"
	// (Google tags are removed until consent, as any tracker) or
	// "advanced" (Google tags stay, told by the defaults what they may
	// store). Empty: off.
	ConsentMode string `json:"consent_mode,omitempty"`
	// CSP adds a Content-Security-Policy backstop per consent state.
	CSP *CSP `json:"csp,omitempty"`
	// Banner injects a consent banner for visitors who have not decided;
	// it needs the endpoint.
	Banner *Banner `json:"banner,omitempty"`
	// PolicyVersion names the privacy policy consent is recorded under (in
	// receipts and in the cookie). When set, a cookie recorded under another
	// version grants necessary only until the visitor decides again.
	PolicyVersion string `json:"policy_version,omitempty"`

	rules    *rules.Rules
	consent  *consent.Reader // reads visitors' consent against rules
	cfg      consent.Config
	mapOrder []string // map lines in Caddyfile order, for errors
	// unclassified is Unclassified's category, when unclassifying.
	unclassified  rules.Category
	unclassifying bool
	mode          htmlfilter.Mode
	dialect       *htmlfilter.Dialect
	google        rules.VendorSet // Google's tags, kept in Consent Mode "advanced"
	allSet        rules.Set       // every category: a visitor who denies nothing
	csp           *cspCache
	injected      *injectedSources
	caches        *caches
	// cspCount counts a CSP violation report per vendor.
	cspCount func(vendor string)
	gpc      bool
	params   *rules.Params
	logger   *zap.Logger
	metrics  *metrics
	clock    func() time.Time // nil: time.Now
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.consent",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Cleanup frees the handler's caches when the config that made it is
// unloaded, once the requests still running on it are done.
func (h *Handler) Cleanup() error {
	if h.caches != nil {
		h.caches.shutdown()
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
