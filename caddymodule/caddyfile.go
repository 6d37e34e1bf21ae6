package caddymodule

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("consent", parseCaddyfile)
	// After encode, so that encode compresses what we filtered (it wraps
	// us); before templates, reverse_proxy and file_server, so that we wrap
	// whatever produces the HTML. No global `order` option needed.
	httpcaddyfile.RegisterDirectiveOrder("consent", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(Handler)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	consent {
//	    mode   strip | defer [cookieconsent|klaro|cookiebot|onetrust|cookieyes]
//	    cookie <name>
//	    rules  <file>...
//	    list   ghostery|tds|disconnect <file>
//	    gpc    on|off
//	    cache  private|vary
//	    max_decoded <size>
//	    page_cache  <size>|off
//	    click_ids   off | [default] <name|prefix*>...
//	    collector   <path[*]> <category|vendor>
//	    endpoint    <path>
//	    consent_max_age <duration>
//	    cookie_secure   auto|on|off
//	    cookie_host_prefix on|off
//	    policy_version  <text>
//	    source <name> [<cookie>]
//	    map    <tool-category-or-service> <category|vendor>
//	    dnt    on|off
//	    unclassified <category>|allow
//	    consent_mode basic|advanced
//	    csp        enforce|report_only
//	    csp_allow  <source>...
//	    csp_report <path>
//	    banner      <policy-url>
//	    banner_text <lang> <key> <text>
//	    choices_link bottom-left|bottom-right|off
//	}
//
// A bare `consent` uses the defaults: strip, cookie "consent", the embedded
// rules only, GPC honoured, filtered responses Cache-Control: private,
// decoded upstream HTML capped at 256 MiB, the default click ids removed
// while advertising is denied, no collectors, no endpoint. `rules`, `list`
// and `collector` may repeat; tracker lists apply in order on top of the
// defaults, then rule files in order (so that a rules file can override an
// imported vendor). <size> is a byte count with an optional unit (64MiB,
// 10MB); <duration> a Caddy duration (180d, 4380h). `source` and `map` may
// repeat: sources are the consent tools whose cookies are read (default:
// the native cookie only), map adds or overrides what a tool's name stands
// for: a category, or one vendor (a service the visitor accepts or refuses
// alone).
// The endpoint's cookie is Secure when the request came over HTTPS
// (cookie_secure auto) and then, by default, named __Host-<cookie>
// (cookie_host_prefix). `unclassified` makes the third-party scripts,
// frames and pixels no rule names count as the category's (allow, the
// default, keeps them).
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	at := map[string][]string{} // option → "file:line" of each of its lines, for errors
	for d.NextBlock(0) {
		opt := d.Val()
		parse, ok := consentOptions[opt]
		if !ok {
			return d.Errf("unrecognized consent option %q", opt)
		}
		at[opt] = append(at[opt], fmt.Sprintf("%s:%d", d.File(), d.Line()))
		if err := parse(h, d); err != nil {
			return err
		}
	}
	return h.checkCaddyfile(d, at)
}

// consentOptions parse the consent directive's options, by name.
var consentOptions = map[string]func(*Handler, *caddyfile.Dispenser) error{
	"mode": (*Handler).parseMode, "cookie": (*Handler).parseCookie,
	"rules": (*Handler).parseRules, "list": (*Handler).parseList,
	"gpc": (*Handler).parseGPC, "cache": (*Handler).parseCache,
	"max_decoded": (*Handler).parseMaxDecoded, "page_cache": (*Handler).parsePageCache,
	"click_ids": (*Handler).parseClickIDs, "collector": (*Handler).parseCollector,
	"endpoint": (*Handler).parseEndpoint, "consent_max_age": (*Handler).parseConsentMaxAge,
	"cookie_secure": (*Handler).parseCookieSecure, "cookie_host_prefix": (*Handler).parseCookieHostPrefix,
	"policy_version": (*Handler).parsePolicyVersion, "source": (*Handler).parseSource,
	"map": (*Handler).parseMap, "dnt": (*Handler).parseDNT,
	"unclassified": (*Handler).parseUnclassified, "consent_mode": (*Handler).parseConsentMode,
	"csp": (*Handler).parseCSP, "csp_allow": (*Handler).parseCSP, "csp_report": (*Handler).parseCSP,
	"banner": (*Handler).parseBanner, "banner_text": (*Handler).parseBannerText,
	"choices_link": (*Handler).parseChoicesLink,
}

// checkCaddyfile checks what the options say together, once all are read.
// Rules files and lists are read now, so that `caddy adapt` reports a
// missing or broken one as `caddy validate` would; collector, map and
// unclassified lines name categories and vendors of the rules, so a typo
// there fails at its line too.
func (h *Handler) checkCaddyfile(d *caddyfile.Dispenser, at map[string][]string) error {
	rulesAt := append(slices.Clone(at["rules"]), at["list"]...)
	var rs *rules.Rules
	if len(rulesAt) > 0 || len(h.Collectors) > 0 || len(h.Map) > 0 || h.Unclassified != "" && h.Unclassified != unclassifiedAllow {
		var err error
		if rs, _, err = h.loadRules(); err != nil {
			if len(rulesAt) > 0 {
				return fmt.Errorf("loading consent rules (rules and list lines at %s): %w", strings.Join(rulesAt, ", "), err)
			}
			return fmt.Errorf("loading consent rules: %w", err)
		}
	}
	if err := h.checkCollectors(rs, at["collector"]); err != nil {
		return err
	}
	if h.CSP != nil && h.CSP.Mode == "" {
		return d.Err("csp_allow and csp_report need csp enforce or csp report_only")
	}
	if h.Banner != nil && h.Endpoint == "" {
		return d.Err("banner needs endpoint: the banner posts to the consent endpoint")
	}
	if h.Banner != nil && h.Banner.ChoicesLink != "" && h.Banner.PolicyURL == "" {
		return d.Err("choices_link needs banner: the control leads to the banner's settings")
	}
	unclassifiedAt := ""
	if u := at["unclassified"]; len(u) > 0 {
		unclassifiedAt = u[len(u)-1]
	}
	if err := h.checkUnclassified(rs, unclassifiedAt); err != nil {
		return err
	}
	return h.checkMap(rs, at["map"])
}

// checkUnclassified checks that unclassified names a category of the rules
// rs.
func (h *Handler) checkUnclassified(rs *rules.Rules, at string) error {
	if h.Unclassified == "" || h.Unclassified == unclassifiedAllow {
		return nil
	}
	if _, ok := rs.CategoryByID(h.Unclassified); !ok {
		return fmt.Errorf("unclassified: unknown category %q (a category of the rules, or allow), at %s", h.Unclassified, at)
	}
	return nil
}

// loadRules loads the rule set the handler enforces, for Provision and the
// Caddyfile's checks alike: the defaults, then the tracker lists, then the
// rule files.
func (h *Handler) loadRules() (*rules.Rules, []rules.ListStats, error) {
	return rules.LoadLists(h.Lists, h.Rules...)
}

// checkMap checks that each map line names a category or a vendor of the
// rules rs.
func (h *Handler) checkMap(rs *rules.Rules, at []string) error {
	for i, name := range h.mapOrder {
		if _, err := consent.NewReader(rs).ParseNameMap(map[string]string{name: h.Map[name]}); err != nil {
			return fmt.Errorf("%w, at %s", err, at[i])
		}
	}
	return nil
}

// checkCollectors resolves each collector's category or vendor against the
// rules rs now, so that a typo fails the config load at its line rather than
// later without one.
func (h *Handler) checkCollectors(rs *rules.Rules, at []string) error {
	if len(h.Collectors) == 0 {
		return nil
	}
	for i := range h.Collectors {
		c := h.Collectors[i]
		if !resolveCollector(rs, &c) {
			return fmt.Errorf("collector %s: %q is neither a category nor a vendor of the rules, at %s", c.Path, c.Category, at[i])
		}
	}
	return nil
}

// singleArg reads exactly one argument for the current option.
func singleArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

func (h *Handler) parseMode(d *caddyfile.Dispenser) error {
	if h.Mode != "" {
		return d.Err("mode already set")
	}
	args := d.RemainingArgs()
	if len(args) == 0 || len(args) > 2 {
		return d.ArgErr()
	}
	v := args[0]
	if v != modeStrip && v != modeDefer {
		return d.Errf("mode must be strip or defer, got %q", v)
	}
	if len(args) == 2 {
		if v != modeDefer {
			return d.Errf("only mode defer names a consent tool")
		}
		if !slices.Contains(consent.DeferTools, args[1]) {
			return d.Errf("mode defer: no convention for %q (one of %s)", args[1], strings.Join(consent.DeferTools, ", "))
		}
		h.DeferFor = args[1]
	}
	h.Mode = v
	return nil
}

func (h *Handler) parseCookie(d *caddyfile.Dispenser) error {
	if h.Cookie != "" {
		return d.Err("cookie already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if !httpfield.IsToken(v) {
		return d.Errf("invalid cookie name %q", v)
	}
	h.Cookie = v
	return nil
}

func (h *Handler) parseRules(d *caddyfile.Dispenser) error {
	files := d.RemainingArgs()
	if len(files) == 0 {
		return d.ArgErr()
	}
	h.Rules = append(h.Rules, files...)
	return nil
}

// parseList reads `list <format> <file>`: a tracker list whose trackers
// join the rules as vendors. The file is read when the config loads.
func (h *Handler) parseList(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.ArgErr()
	}
	if !slices.Contains(rules.ListFormats, args[0]) {
		return d.Errf("list: format must be one of %s, got %q", strings.Join(rules.ListFormats, ", "), args[0])
	}
	h.Lists = append(h.Lists, rules.ListFile{Format: args[0], Path: args[1]})
	return nil
}

func (h *Handler) parseGPC(d *caddyfile.Dispenser) error {
	if h.GPC != nil {
		return d.Err("gpc already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	var on bool
	switch v {
	case "on":
		on = true
	case "off":
	default:
		return d.Errf("gpc must be on or off, got %q", v)
	}
	h.GPC = &on
	return nil
}

func (h *Handler) parseCache(d *caddyfile.Dispenser) error {
	if h.Cache != "" {
		return d.Err("cache already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != cachePrivate && v != cacheVary {
		return d.Errf("cache must be private or vary, got %q", v)
	}
	h.Cache = v
	return nil
}

func (h *Handler) parseMaxDecoded(d *caddyfile.Dispenser) error {
	if h.MaxDecoded != 0 {
		return d.Err("max_decoded already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	// As Caddy's own size options (request_body max_size).
	size, err := humanize.ParseBytes(v)
	if err != nil || size == 0 || size > math.MaxInt64 {
		return d.Errf("max_decoded must be a positive size, got %q", v)
	}
	h.MaxDecoded = int64(size)
	return nil
}

func (h *Handler) parsePageCache(d *caddyfile.Dispenser) error {
	if h.PageCache != 0 {
		return d.Err("page_cache already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v == "off" {
		h.PageCache = -1
		return nil
	}
	size, err := humanize.ParseBytes(v)
	if err != nil || size < 1<<20 || size > math.MaxInt64 {
		return d.Errf("page_cache must be off or a size of at least 1MiB, got %q", v)
	}
	h.PageCache = int64(size)
	return nil
}

func (h *Handler) parseClickIDs(d *caddyfile.Dispenser) error {
	if h.ClickIDs != nil {
		return d.Err("click_ids already set")
	}
	ids := d.RemainingArgs()
	if len(ids) == 0 {
		return d.ArgErr()
	}
	for _, id := range ids {
		if id == "off" && len(ids) > 1 {
			return d.Err("click_ids off takes no other names")
		}
		name := strings.TrimSuffix(id, "*")
		if name == "" || strings.ContainsAny(name, "*&;=#?% ") {
			return d.Errf("invalid click id parameter %q", id)
		}
	}
	h.ClickIDs = ids
	return nil
}

func (h *Handler) parseCollector(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.Errf("collector takes a path and a category or vendor, got %d arguments", len(args))
	}
	if !strings.HasPrefix(args[0], "/") {
		return d.Errf("collector path must start with /, got %q", args[0])
	}
	for _, c := range h.Collectors {
		if c.Path == args[0] {
			return d.Errf("collector %s already set", args[0])
		}
	}
	h.Collectors = append(h.Collectors, Collector{Path: args[0], Category: args[1]})
	return nil
}

func (h *Handler) parseEndpoint(d *caddyfile.Dispenser) error {
	if h.Endpoint != "" {
		return d.Err("endpoint already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "?#*") {
		return d.Errf("endpoint must be a path like /consent, got %q", v)
	}
	h.Endpoint = v
	return nil
}

func (h *Handler) parseConsentMaxAge(d *caddyfile.Dispenser) error {
	if h.ConsentMaxAge != 0 {
		return d.Err("consent_max_age already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	dur, err := caddy.ParseDuration(v)
	if err != nil || dur < time.Second {
		return d.Errf("consent_max_age must be a duration of at least 1s, like 180d, got %q", v)
	}
	h.ConsentMaxAge = caddy.Duration(dur)
	return nil
}

func (h *Handler) parseCookieSecure(d *caddyfile.Dispenser) error {
	if h.CookieSecure != "" {
		return d.Err("cookie_secure already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != cookieSecureAuto && v != cookieSecureOn && v != cookieSecureOff {
		return d.Errf("cookie_secure must be auto, on or off, got %q", v)
	}
	h.CookieSecure = v
	return nil
}

func (h *Handler) parseCookieHostPrefix(d *caddyfile.Dispenser) error {
	if h.CookieHostPrefix != nil {
		return d.Err("cookie_host_prefix already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != "on" && v != "off" {
		return d.Errf("cookie_host_prefix must be on or off, got %q", v)
	}
	on := v == "on"
	h.CookieHostPrefix = &on
	return nil
}

func (h *Handler) parsePolicyVersion(d *caddyfile.Dispenser) error {
	if h.PolicyVersion != "" {
		return d.Err("policy_version already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v == "" || len(v) > 200 {
		return d.Errf("policy_version must be a short text, got %q", v)
	}
	h.PolicyVersion = v
	return nil
}

func (h *Handler) parseSource(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) < 1 || len(args) > 2 {
		return d.ArgErr()
	}
	if consent.DefaultSourceCookie(args[0]) == "" {
		return d.Errf("unknown consent source %q (one of %s)", args[0], strings.Join(consent.SourceNames(), ", "))
	}
	src := ConsentSource{Name: args[0]}
	if len(args) == 2 {
		if !httpfield.IsToken(args[1]) {
			return d.Errf("invalid cookie name %q", args[1])
		}
		src.Cookie = args[1]
	}
	for _, s := range h.Sources {
		if s == src {
			return d.Errf("source %s already set", args[0])
		}
	}
	h.Sources = append(h.Sources, src)
	return nil
}

func (h *Handler) parseMap(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.Errf("map takes a tool's category or service name and a category or vendor id, got %d arguments", len(args))
	}
	if h.Map == nil {
		h.Map = map[string]string{}
	}
	if _, dup := h.Map[args[0]]; dup {
		return d.Errf("map %s already set", args[0])
	}
	h.Map[args[0]] = args[1]
	h.mapOrder = append(h.mapOrder, args[0])
	return nil
}

func (h *Handler) parseBanner(d *caddyfile.Dispenser) error {
	if h.Banner != nil && h.Banner.PolicyURL != "" {
		return d.Err("banner already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if h.Banner == nil {
		h.Banner = new(Banner)
	}
	h.Banner.PolicyURL = v
	return nil
}

func (h *Handler) parseBannerText(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 3 {
		return d.Errf("banner_text takes a language, a key and a text, got %d arguments", len(args))
	}
	if !isBannerTextKey(args[1]) {
		return d.Errf("banner_text: unknown key %q", args[1])
	}
	if h.Banner == nil {
		h.Banner = new(Banner)
	}
	if h.Banner.Texts == nil {
		h.Banner.Texts = map[string]map[string]string{}
	}
	if h.Banner.Texts[args[0]] == nil {
		h.Banner.Texts[args[0]] = map[string]string{}
	}
	h.Banner.Texts[args[0]][args[1]] = args[2]
	return nil
}

// parseChoicesLink reads where the "Privacy choices" control goes, or off.
func (h *Handler) parseChoicesLink(d *caddyfile.Dispenser) error {
	if h.Banner != nil && h.Banner.ChoicesLink != "" {
		return d.Err("choices_link already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	switch v {
	case choicesBottomLeft, choicesBottomRight, choicesOff:
	default:
		return d.Errf("choices_link must be %s, %s or %s, got %q", choicesBottomLeft, choicesBottomRight, choicesOff, v)
	}
	if h.Banner == nil {
		h.Banner = new(Banner)
	}
	h.Banner.ChoicesLink = v
	return nil
}

func (h *Handler) parseCSP(d *caddyfile.Dispenser) error {
	opt := d.Val()
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	if h.CSP == nil {
		h.CSP = new(CSP)
	}
	switch opt {
	case "csp":
		if h.CSP.Mode != "" {
			return d.Err("csp already set")
		}
		if len(args) != 1 || args[0] != cspEnforce && args[0] != cspReportOnly {
			return d.Errf("csp must be enforce or report_only, got %q", strings.Join(args, " "))
		}
		h.CSP.Mode = args[0]
	case "csp_allow":
		for _, s := range args {
			if problem := cspSourceProblem(s); problem != "" {
				return d.Errf("csp_allow: %s", problem)
			}
		}
		h.CSP.Allow = append(h.CSP.Allow, args...)
	case "csp_report":
		if len(args) != 1 || !strings.HasPrefix(args[0], "/") {
			return d.Errf("csp_report takes one path, like /csp-report")
		}
		h.CSP.Report = args[0]
	}
	return nil
}

func (h *Handler) parseConsentMode(d *caddyfile.Dispenser) error {
	if h.ConsentMode != "" {
		return d.Err("consent_mode already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != consentModeBasic && v != consentModeAdvanced {
		return d.Errf("consent_mode must be basic or advanced, got %q", v)
	}
	h.ConsentMode = v
	return nil
}

func (h *Handler) parseDNT(d *caddyfile.Dispenser) error {
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	switch v {
	case "on":
		h.DNT = true
	case "off":
		h.DNT = false
	default:
		return d.Errf("dnt must be on or off, got %q", v)
	}
	return nil
}

func (h *Handler) parseUnclassified(d *caddyfile.Dispenser) error {
	if h.Unclassified != "" {
		return d.Err("unclassified already set")
	}
	v, err := singleArg(d)
	h.Unclassified = v
	return err
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
