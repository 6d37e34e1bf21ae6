package caddymodule

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

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
	h.csp, h.injected = new(cspCache), new(injectedSources)
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
