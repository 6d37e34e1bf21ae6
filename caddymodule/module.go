// Package caddymodule is the Caddy adapter of consentedge: the HTTP handler
// http.handlers.consent, its Caddyfile directive and the response-writer
// wrapper that routes HTML bodies through the streaming filter. It holds no
// HTML or rule logic; that lives in package rules and rules/htmlfilter.
package caddymodule

import (
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"net/http"
	"strconv"
	"strings"
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

// defaultPageCache is the page cache's default bound: a hundred pages of
// 300 KiB, in and out.
const defaultPageCache = 64 << 20

// unclassifiedAllow keeps unnamed third-party loads.
const unclassifiedAllow = "allow"

const (
	modeStrip     = "strip"
	modeDefer     = "defer"
	defaultCookie = "consent"
	cachePrivate  = "private"
	cacheVary     = "vary"
)

// Google Consent Mode: Google tags stripped until consent, or kept.
const (
	consentModeBasic    = "basic"
	consentModeAdvanced = "advanced"
)

// Provision loads the rule set and fills defaults.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	h.fillDefaults()
	rs, err := h.provisionRules()
	if err != nil {
		return err
	}
	if h.caches, err = newCaches(rs, h.PageCache); err != nil {
		return err
	}
	if h.metrics, err = newMetrics(ctx.GetMetricsRegistry(), rs); err != nil {
		return err
	}
	h.cspCount = h.metrics.cspReport
	if err := h.resolveNames(rs); err != nil {
		return err
	}
	h.allSet = rules.Set(uint64(1)<<len(rs.Categories()) - 1)
	h.csp = new(cspCache)
	if c := h.logger.Check(zap.DebugLevel, "consent rules loaded"); c != nil {
		c.Write(zap.Strings("files", h.Rules), zap.Int("vendors", len(rs.Vendors())),
			zap.String("mode", h.Mode), zap.String("cookie", h.Cookie), zap.Bool("gpc", h.gpc))
	}
	return nil
}

// fillDefaults sets the defaults of the options left unset.
func (h *Handler) fillDefaults() {
	if h.Mode == "" {
		h.Mode = modeStrip
	}
	if h.Cookie == "" {
		h.Cookie = defaultCookie
	}
	h.mode = htmlfilter.Strip
	if h.Mode == modeDefer {
		h.mode = htmlfilter.Defer
	}
	h.gpc = h.GPC == nil || *h.GPC
	if h.Cache == "" {
		h.Cache = cachePrivate
	}
	if h.MaxDecoded == 0 {
		h.MaxDecoded = defaultMaxDecoded
	}
	if h.ConsentMaxAge == 0 {
		h.ConsentMaxAge = caddy.Duration(defaultConsentMaxAge)
	}
	if h.CookieSecure == "" {
		h.CookieSecure = cookieSecureAuto
	}
}

// provisionRules loads the rule set and the tracker lists, logging each
// list, and the click ids to strip.
func (h *Handler) provisionRules() (*rules.Rules, error) {
	rs, lists, err := h.loadRules()
	if err != nil {
		// The loader names the file and line; say which module failed.
		return nil, fmt.Errorf("loading consent rules: %w", err)
	}
	for _, st := range lists {
		h.logger.Info("tracker list loaded", zap.String("format", st.Format), zap.String("path", st.Path),
			zap.Int("vendors", st.Vendors), zap.Int("hosts", st.Hosts), zap.Int("known", st.Known),
			zap.Int("benign", st.Benign), zap.Int("ignored", st.Ignored), zap.Int("invalid", st.Invalid))
	}
	h.rules, h.consent = rs, consent.NewReader(rs)
	if vendors, extra := clickIDs(h.ClickIDs); vendors {
		h.params = rs.Params(extra)
	} else {
		h.params = rules.NewParams(extra)
	}
	return rs, nil
}

// resolveNames resolves the categories, vendors and consent tools the
// configuration names against the rule set rs.
func (h *Handler) resolveNames(rs *rules.Rules) error {
	for i := range h.Collectors {
		if !resolveCollector(rs, &h.Collectors[i]) {
			return fmt.Errorf("consent: collector %s: %q is neither a category nor a vendor of the rules", h.Collectors[i].Path, h.Collectors[i].Category)
		}
	}
	if h.Unclassified != "" && h.Unclassified != unclassifiedAllow {
		c, ok := rs.CategoryByID(h.Unclassified)
		if !ok {
			return fmt.Errorf("consent: unclassified: unknown category %q (a category of the rules, or %s)", h.Unclassified, unclassifiedAllow)
		}
		h.unclassified, h.unclassifying = c, true
	}
	var err error
	if h.cfg, err = h.buildConsentConfig(rs); err != nil {
		return err
	}
	if h.dialect, err = h.consent.DeferDialect(h.DeferFor, h.cfg.Names); err != nil {
		return fmt.Errorf("consent: mode defer: %w", err)
	}
	if h.ConsentMode == consentModeAdvanced {
		var ids []string
		for _, id := range rules.GoogleTagVendors {
			if _, ok := rs.VendorByID(id); ok { // a rules file may disable one
				ids = append(ids, id)
			}
		}
		if h.google, err = rs.VendorSet(ids...); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the configuration; it changes nothing.
func (h *Handler) Validate() error {
	for _, check := range []func() error{h.validateChoices, h.validateBannerAndCSP, h.validateLimits, h.validatePaths, h.validateCookieStrength} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateChoices checks the options that take one of a few words.
func (h *Handler) validateChoices() error {
	switch h.Mode {
	case modeStrip, modeDefer:
	default:
		return fmt.Errorf("consent: mode must be %q or %q, got %q", modeStrip, modeDefer, h.Mode)
	}
	switch h.Cache {
	case cachePrivate, cacheVary:
	default:
		return fmt.Errorf("consent: cache must be %q or %q, got %q", cachePrivate, cacheVary, h.Cache)
	}
	switch h.ConsentMode {
	case "", consentModeBasic, consentModeAdvanced:
	default:
		return fmt.Errorf("consent: consent_mode must be %q or %q, got %q", consentModeBasic, consentModeAdvanced, h.ConsentMode)
	}
	return nil
}

// validateBannerAndCSP checks the banner and the CSP backstop.
func (h *Handler) validateBannerAndCSP() error {
	if h.Banner != nil {
		if h.Endpoint == "" {
			return fmt.Errorf("consent: the banner posts to the consent endpoint: set endpoint too")
		}
		if err := h.Banner.validate(); err != nil {
			return err
		}
	}
	if h.CSP == nil {
		return nil
	}
	if h.CSP.Mode != cspEnforce && h.CSP.Mode != cspReportOnly {
		return fmt.Errorf("consent: csp must be %q or %q, got %q", cspEnforce, cspReportOnly, h.CSP.Mode)
	}
	if h.CSP.Report != "" && !strings.HasPrefix(h.CSP.Report, "/") {
		return fmt.Errorf("consent: csp report must be a path starting with /, got %q", h.CSP.Report)
	}
	for _, s := range h.CSP.Allow {
		if problem := cspSourceProblem(s); problem != "" {
			return fmt.Errorf("consent: csp allow: %s", problem)
		}
	}
	return nil
}

// validateLimits checks sizes, ages, the cookie's name and the rules.
func (h *Handler) validateLimits() error {
	switch {
	case h.MaxDecoded < 0:
		return fmt.Errorf("consent: max_decoded must be positive, got %d", h.MaxDecoded)
	case h.PageCache < -1:
		return fmt.Errorf("consent: page_cache must be a size or -1 (off), got %d", h.PageCache)
	case !isToken(h.Cookie):
		// RFC 6265 §4.1.1: cookie-name is an RFC 2616 token.
		return fmt.Errorf("consent: invalid cookie name %q", h.Cookie)
	case h.rules == nil:
		return fmt.Errorf("consent: no rules loaded")
	case h.ConsentMaxAge < 0:
		return fmt.Errorf("consent: consent_max_age must be positive")
	}
	return nil
}

// validatePaths checks the paths the handler answers itself.
func (h *Handler) validatePaths() error {
	if h.Endpoint != "" && !strings.HasPrefix(h.Endpoint, "/") {
		return fmt.Errorf("consent: endpoint must be a path starting with /, got %q", h.Endpoint)
	}
	for _, c := range h.Collectors {
		if !strings.HasPrefix(c.Path, "/") {
			return fmt.Errorf("consent: collector path must start with /, got %q", c.Path)
		}
		if c.Path == h.Endpoint {
			return fmt.Errorf("consent: collector path %s is the consent endpoint", c.Path)
		}
	}
	return nil
}

// clickIDs reads the click_ids option: whether the parameters of the rules'
// vendors are removed ("default", or nothing at all), and the names it
// adds; "off" means none.
func clickIDs(ids []string) (vendors bool, extra []string) {
	if len(ids) == 0 {
		return true, nil
	}
	for _, id := range ids {
		switch id {
		case "off":
			return false, nil
		case "default":
			vendors = true
		default:
			extra = append(extra, id)
		}
	}
	return vendors, extra
}

// ConsentSource is one consent tool to read: its name (consent.SourceNames)
// and, optionally, its cookie's name.
type ConsentSource struct {
	Name   string `json:"name"`
	Cookie string `json:"cookie,omitempty"`
}

// buildConsentConfig resolves the sources and name mappings once.
func (h *Handler) buildConsentConfig(rs *rules.Rules) (consent.Config, error) {
	cfg := consent.Config{Cookie: h.Cookie, GPC: h.gpc, DNT: h.DNT, PolicyVersion: h.PolicyVersion}
	native := false
	for _, s := range h.Sources {
		if consent.DefaultSourceCookie(s.Name) == "" {
			return cfg, fmt.Errorf("consent: unknown source %q (one of %s)", s.Name, strings.Join(consent.SourceNames(), ", "))
		}
		native = native || s.Name == consent.SourceNative
		cfg.Sources = append(cfg.Sources, consent.Source{Name: s.Name, Cookie: s.Cookie})
	}
	if len(cfg.Sources) > 0 && h.Endpoint != "" && !native {
		// The endpoint records decisions in the native cookie: read it.
		cfg.Sources = append(cfg.Sources, consent.Source{Name: consent.SourceNative})
	}
	names, err := h.consent.ParseNameMap(h.Map)
	if err != nil {
		return cfg, fmt.Errorf("consent: %w", err)
	}
	cfg.Names = names
	if h.Mode == modeDefer {
		cfg.Tool = h.DeferFor
		if cfg.Tool == "" {
			cfg.Tool = consent.SourceCookieConsent
		}
	}
	return cfg, nil
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ServeHTTP serves a request in two steps: the request's preparation (the
// visitor's consent, the handler's own endpoints, what of the request may
// reach the origin), then the response's, whose body passes through the
// filter on its way to the client.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// A CONNECT tunnel carries no document (the encode handler special-cases
	// it too); step aside entirely.
	if r.Method == http.MethodConnect {
		return next.ServeHTTP(w, r)
	}
	caches := h.caches.acquire()
	defer caches.release()
	st, cfg := h.readConsent(r, caches)
	if answered, err := h.serveOwn(w, r, st); answered {
		return err
	}
	resp := h.prepareRequest(r, st, caches)
	// The banner asks until the visitor decides: in our cookie (the
	// endpoint) or in any consent tool the site reads.
	resp.bannerAsks = h.Banner != nil && !st.Signals.FromCookies() && !h.consent.Decided(r.Header, cfg)
	return h.serveResponse(w, r, next, resp)
}

// readConsent reads the visitor's consent, under the configuration it
// returns.
func (h *Handler) readConsent(r *http.Request, caches *caches) (consent.State, consent.Config) {
	cfg := h.consentConfig(r)
	cfg.Cache = caches.sources
	st := h.consent.Read(r.Header, cfg)
	if st.Reason != "" {
		// A visitor's odd consent input never fails the request; the SRE
		// who wonders why a consent did not take gets one debug line
		// (never the cookie value).
		if c := h.logger.Check(zap.DebugLevel, "consent signal not taken as sent"); c != nil {
			c.Write(zap.String("reason", st.Reason), zap.String("granted", h.rules.FormatSet(st.Granted)),
				zap.String("host", r.Host), zap.String("path", r.URL.Path))
		}
	}
	h.logConsent(r, st)
	return st, cfg
}

// serveOwn answers the requests that never reach the origin: the consent
// endpoint, CSP reports, and requests to a collector the visitor denied.
// answered is false for every other request.
func (h *Handler) serveOwn(w http.ResponseWriter, r *http.Request, st consent.State) (answered bool, err error) {
	switch {
	case h.Endpoint != "" && r.URL.Path == h.Endpoint:
		return true, h.serveEndpoint(w, r, st.Granted)
	case h.CSP != nil && h.CSP.Report != "" && r.URL.Path == h.CSP.Report:
		return true, h.serveCSPReport(w, r)
	}
	if c, denied := h.deniedCollector(r, st.Granted, st.Vendors.Denied); denied {
		h.answerCollector(w, r, c)
		return true, nil
	}
	return false, nil
}

// prepareRequest removes from the request what the visitor's consent keeps
// from the origin, readies it for the origin (prepareUpstream), and
// returns what the response's side needs to know.
func (h *Handler) prepareRequest(r *http.Request, st consent.State, caches *caches) response {
	reqFilter := h.filterRequest(r, st.Granted, st.Vendors.Denied)
	logRequestFilter(r, reqFilter)
	suffix, stripped := h.prepareUpstream(r, st.Granted, st.Vendors.Denied)
	return response{
		granted: st.Granted, vendors: st.Vendors, unseen: st.Unseen,
		suffix: suffix, stripped: stripped, reqFilter: reqFilter, caches: caches,
	}
}

// serveResponse runs next with the response writer that filters its body,
// and answers a response that was refused.
func (h *Handler) serveResponse(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, resp response) error {
	var hdr http.Header
	if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
		hdr = w.Header().Clone() // what the handlers before us set
	}
	err, refused := h.runNext(w, r, next, resp)
	if refused == errPartialHTML && hdr != nil {
		// A byte range of a document, asked for by a client that did not
		// say it wanted a document: it cannot be filtered, so the client
		// gets the whole page, filtered (RFC 9110 §14.2: a server MAY
		// ignore Range). Nothing of the partial answer has left.
		wholeRequest(r)
		clear(w.Header())
		maps.Copy(w.Header(), hdr)
		err, refused = h.runNext(w, r, next, resp)
	}
	if tr, ok := refused.(*trackerRedirect); ok {
		h.answerTrackerRedirect(w, r, tr)
		return nil
	}
	if refused != nil {
		return caddyhttp.Error(http.StatusBadGateway, refused)
	}
	return err
}

// prepareUpstream readies the request for the origin: codings the handler
// can decode, and validators that cannot earn a response of another
// visitor's variant. It returns the ETag suffix of the visitor's variant,
// and whether a validator of the request named that variant.
func (h *Handler) prepareUpstream(r *http.Request, granted rules.Set, refused rules.VendorSet) (suffix string, stripped bool) {
	// Upstream may compress (origins do it cheaply, and it saves the
	// upstream link), but only in codings we can decode, since an HTML body
	// in any other coding can only be refused; non-HTML bodies pass as they
	// come, in a coding the client offered. The encode handler runs before
	// us and has already read this header.
	restrictAcceptEncoding(r.Header)

	// A byte range of a document cannot be filtered without the rest of
	// it, and a filtered document has no stable byte offsets (RFC 9110
	// §14.2: a server MAY ignore Range). Navigations (Accept lists
	// text/html) are served whole; other requests keep their Range, and
	// a partial answer of a document is asked for again whole.
	if acceptsHTML(r.Header) {
		wholeRequest(r)
		// Last-Modified names no variant: a cache holding the page as
		// filtered for an earlier consent could revalidate it with
		// If-Modified-Since and get a 304 for the wrong variant (RFC 9111
		// §4.3.4 selects stored responses by validator). Entity tags are
		// variant-specific (below) and, when present, take precedence over
		// If-Modified-Since anyway (RFC 9110 §13.2.2).
		delete(r.Header, "If-Modified-Since")
	}

	// We suffix filtered responses' ETags per variant (RFC 9110 §8.8.3.3);
	// upstream knows only its own tags, so take our suffix off validators
	// that name the visitor's current variant. Tags of another variant keep
	// their suffix, match nothing upstream, and so never earn a 304 for a
	// body this visitor must not get.
	suffix = h.etagSuffix(granted, refused)
	stripped = stripETagSuffix(r.Header, "If-None-Match", suffix)
	stripped = stripETagSuffix(r.Header, "If-Match", suffix) || stripped
	return suffix, stripped
}

// wholeRequest asks for a whole representation: no Range, and no body,
// which a GET's has no meaning (RFC 9110 §9.3.1) and which a first try has
// read.
func wholeRequest(r *http.Request) {
	delete(r.Header, "Range")
	delete(r.Header, "If-Range")
	if r.Method == http.MethodGet && r.Body != nil && r.Body != http.NoBody {
		r.Body, r.ContentLength = http.NoBody, 0
		delete(r.Header, "Content-Length")
		delete(r.Header, "Transfer-Encoding")
	}
}

// response is what the request side of ServeHTTP found for the response.
type response struct {
	granted    rules.Set
	vendors    consent.VendorChoices // the visitor's choices vendor by vendor
	unseen     rules.Set             // denials the defer tool cannot see: never deferred
	suffix     string                // ETag suffix of this visitor's variant
	stripped   bool                  // a validator of the request named the variant
	reqFilter  requestFilter
	caches     *caches
	bannerAsks bool // no consent decision yet: the banner asks
}

// runNext runs next with the response writer that filters its body. It
// returns next's error, or the reason the response was refused: the client
// is then to get a 502, as nothing has left.
func (h *Handler) runNext(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, resp response) (retErr, refused error) {
	rw := getResponseWriter(h, w, r, resp)
	completed := false
	defer func() {
		if !completed {
			// next panicked, typically reverse_proxy with
			// http.ErrAbortHandler on client abort or a failed upstream
			// body: release our state without writing.
			unsent := rw.unsent()
			putResponseWriter(rw)
			// A filtered response holds its status until the first
			// bytes: when the upstream body failed before they left,
			// the client can still get an honest 502 instead of a
			// broken one. Any other panic goes on up to the server.
			if !unsent {
				return
			}
			if rec := recover(); rec != nil {
				if rec != http.ErrAbortHandler {
					panic(rec)
				}
				refused = errUnsentAbort
			}
		}
	}()

	err := next.ServeHTTP(rw, r)
	completed = true
	if err != nil {
		// As encode does: the error handler writes the response from here
		// on, so nothing of ours may follow (no filter tail, no buffer).
		rw.phase = phaseDone
		putResponseWriter(rw)
		return err, nil
	}
	aborted := rw.finish()
	refused = rw.refusal
	putResponseWriter(rw)
	if aborted != nil {
		// The status and part of a decoded body are out and the rest of
		// the stream is unreadable: break the transfer (see decodeFailed).
		panic(http.ErrAbortHandler)
	}
	return nil, refused
}

// restrictAcceptEncoding keeps only the codings of Accept-Encoding that the
// handler decodes (gzip, x-gzip, br, zstd, identity), with their weights
// (RFC 9110 §12.5.3). "*" goes too: it would let upstream pick compress or
// deflate. With nothing left, or no header at all, it asks for identity:
// without the header Go's transport would ask for gzip itself and decode
// the answer before the handler sees it, out of reach of its caps.
func restrictAcceptEncoding(h http.Header) {
	vals := h["Accept-Encoding"]
	clean, named := true, false
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			clean = clean && acceptableCoding(item)
			named = named || strings.TrimSpace(item) != ""
		}
	}
	if clean && named {
		return
	}
	var kept []string
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			if acceptableCoding(item) && strings.TrimSpace(item) != "" {
				kept = append(kept, strings.TrimSpace(item))
			}
		}
	}
	if len(kept) == 0 {
		// An empty value is no header to Go's transport either.
		kept = []string{"identity"}
	}
	h["Accept-Encoding"] = []string{strings.Join(kept, ", ")}
}

// acceptableCoding reports whether one Accept-Encoding member names a coding
// we decode (empty members are harmless).
func acceptableCoding(item string) bool {
	name, _, _ := strings.Cut(item, ";")
	name = strings.TrimSpace(name)
	return name == "" || strings.EqualFold(name, "identity") || decodable(name) != ""
}

var errUnsentAbort = errors.New("upstream html body failed before a byte was filtered")

// acceptsHTML reports whether the request's Accept header names text/html,
// as browsers' navigation requests do.
func acceptsHTML(h http.Header) bool {
	for _, v := range h["Accept"] {
		if containsFold(v, "text/html") {
			return true
		}
	}
	return false
}

// containsFold is a case-insensitive ASCII strings.Contains without
// allocation.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// etagSuffix names the variant a filtered body is: the mode, the granted
// set and the vendors refused by name (a short hash of them), which together
// with the upstream representation determine the output.
func (h *Handler) etagSuffix(granted rules.Set, refused rules.VendorSet) string {
	m := "s"
	if h.mode == htmlfilter.Defer {
		m = "d"
	}
	s := "-c" + m + strconv.FormatUint(uint64(granted), 16)
	if k := refused.Key(); k != "" {
		s += "v" + strconv.FormatUint(maphash.String(refusedSeed, k)&0xffffffff, 16)
	}
	return s
}

// refusedSeed hashes refused vendor sets into entity tags: fixed per
// process, which is as long as the tags it names are answered for.
var refusedSeed = maphash.MakeSeed()

// stripETagSuffix removes suffix from the entity tags in the header key, as
// the encode handler does for "-gzip", and reports whether it found any.
func stripETagSuffix(h http.Header, key, suffix string) bool {
	vals := h[key]
	if len(vals) == 0 {
		return false
	}
	joined := strings.Join(vals, ", ")
	out := strings.ReplaceAll(joined, suffix+`"`, `"`)
	if out == joined {
		return false
	}
	h[key] = []string{out}
	return true
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
