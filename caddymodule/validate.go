package caddymodule

import (
	"fmt"
	"strings"
)

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
