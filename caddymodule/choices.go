package caddymodule

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// Privacy choices: withdrawing consent must be as easy as giving it (GDPR
// Art. 7(3)). With the banner on, every page of a visitor who has decided
// gets a small "Privacy choices" link, a fixed pill in a corner of the
// window, and the endpoint answers a browser's navigation (Accept:
// text/html) with a settings page holding the banner's form, the visitor's
// current choices ticked. Both are plain HTML: with JavaScript off, two
// clicks withdraw everything ("Privacy choices", then "Reject all"), and the
// decision redirects back to the page the visitor came from.
//
// The control is a fixed pill rather than a line at the end of <body>: the
// filter inserts markup only right after <body>, where a line in the flow
// would push the page down; fixed, it stays in reach at every scroll
// position and covers only a corner. Bottom-left by default, since chat
// widgets (Intercom, Zendesk, Drift) sit bottom-right.

// choices_link values.
const (
	choicesBottomLeft  = "bottom-left"
	choicesBottomRight = "bottom-right"
	choicesOff         = "off"
)

// choicesCSS is the control's style, corner first: all:initial keeps the
// page's own link styles off it; dark on white (contrast 17:1), underlined
// like a link, a visible focus ring, at least 24 px high (WCAG 2.2 target
// size), not printed.
const choicesCSS = `#ce-choices{all:initial;position:fixed;bottom:.75rem;z-index:2147483646;box-sizing:border-box;` +
	`display:inline-block;padding:.35em .8em;border:1px solid #1a1a1a;border-radius:999px;background:#fff;` +
	`color:#1a1a1a;font:14px/1.4 system-ui,sans-serif;text-decoration:underline;cursor:pointer;` +
	`box-shadow:0 1px 3px rgba(0,0,0,.3)}#ce-choices:focus-visible{outline:3px solid #b3261e;outline-offset:2px}` +
	`@media print{#ce-choices{display:none}}`

// choicesHTML writes the "Privacy choices" control for a page at uri, in
// lang; nil when choices_link is off.
func (h *Handler) choicesHTML(lang, uri string) []byte {
	if h.Banner.ChoicesLink == choicesOff {
		return nil
	}
	esc := html.EscapeString
	var b strings.Builder
	b.Grow(1 << 10)
	writeStyle(&b, h.choicesStyle())
	// nofollow: a crawler has nothing to find at the settings of every
	// page.
	href := h.Endpoint + "?redirect=" + url.QueryEscape(uri)
	b.WriteString(`<a id="ce-choices" href="` + esc(href) + `" rel="nofollow" lang="` + esc(lang) + `">`)
	b.WriteString(esc(h.bannerText(lang, "choices")) + `</a>`)
	return []byte(b.String())
}

// choicesStyle is the control's style, in its corner.
func (h *Handler) choicesStyle() string {
	side := "left"
	if h.Banner.ChoicesLink == choicesBottomRight {
		side = "right"
	}
	return choicesCSS + `#ce-choices{` + side + `:.75rem}`
}

// validate checks the banner's settings.
func (b *Banner) validate() error {
	switch b.ChoicesLink {
	case "", choicesBottomLeft, choicesBottomRight, choicesOff:
		return nil
	}
	return fmt.Errorf("consent: choices_link must be %q, %q or %q, got %q",
		choicesBottomLeft, choicesBottomRight, choicesOff, b.ChoicesLink)
}

// settingsCSS is the settings page's style: the banner's colours and focus
// ring, in the flow of a page of its own.
const settingsCSS = `body{margin:0;background:#fff;color:#1a1a1a;font:16px/1.5 system-ui,sans-serif}` +
	`main{max-width:40em;margin:0 auto;padding:1.5em 1em}h1{font-size:1.5em;margin:0 0 .5em}` +
	`fieldset{border:0;margin:0 0 1em;padding:0}legend{font-weight:600;padding:0 0 .3em}` +
	`label{display:block;margin:0 0 .3em}` +
	`button{font:inherit;margin:.25em .5em .25em 0;padding:.45em 1.1em;border:2px solid #0b57d0;` +
	`border-radius:4px;background:#0b57d0;color:#fff;cursor:pointer}` +
	`button.ce-save{background:#fff;color:#0b57d0}a{color:#0b57d0}` +
	`:focus-visible{outline:3px solid #b3261e;outline-offset:2px}`

// settingsCSP is the settings page's own policy: no script at all, its one
// style by hash, forms only to the site, and never framed by another page,
// which could trick a visitor's clicks on it (clickjacking).
var settingsCSP = "default-src 'none'; style-src " + hashSource([]byte(settingsCSS)) +
	"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// writeSettings answers a browser's GET of the endpoint with the settings
// page: the banner's form with the categories in granted ticked, posting
// to the endpoint, which sends the visitor back to settingsReturn.
func (h *Handler) writeSettings(w http.ResponseWriter, r *http.Request, granted rules.Set) error {
	lang := bannerLanguage(r.Header.Get("Accept-Language"))
	back := settingsReturn(r)
	esc := html.EscapeString
	title := esc(h.bannerText(lang, "choices"))
	var b strings.Builder
	b.Grow(4 << 10)
	b.WriteString(`<!DOCTYPE html><html lang="` + esc(lang) + `"><head><meta charset="utf-8">`)
	b.WriteString(`<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">`)
	b.WriteString(`<title>` + title + `</title><style>` + settingsCSS + `</style></head>`)
	b.WriteString(`<body><main id="ce-settings"><h1>` + title + `</h1><p>` + esc(h.bannerText(lang, "body")))
	if h.Banner != nil && h.Banner.PolicyURL != "" {
		b.WriteString(` <a href="` + esc(h.Banner.PolicyURL) + `">` + esc(h.bannerText(lang, "policy")) + `</a>`)
	}
	b.WriteString(`</p><form method="post" action="` + esc(h.Endpoint) + `">`)
	h.writeChoiceFields(&b, lang, granted, back)
	b.WriteString(`</form><p><a href="` + esc(back) + `">` + esc(h.bannerText(lang, "back")) + `</a></p></main></body></html>` + "\n")

	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(b.Len()))
	hdr.Set("Content-Security-Policy", settingsCSP)
	hdr.Set("X-Frame-Options", "DENY") // frame-ancestors for browsers before CSP 2
	hdr.Set("X-Content-Type-Options", "nosniff")
	addVary(hdr, "Cookie", "Accept-Language")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write([]byte(b.String()))
	return err
}

// settingsReturn is the page the settings page sends the visitor back to:
// its redirect parameter (the control's link names the page), else the
// same-origin Referer, else "/"; a path on this site only, so that the
// endpoint is never an open redirect.
func settingsReturn(r *http.Request) string {
	if p, err := sameSitePath(r.URL.Query().Get("redirect")); err == nil {
		return p
	}
	if p, err := refererPath(r); err == nil {
		return p
	}
	return "/"
}

// maxAcceptRanges bounds the media ranges read from Accept: browsers send
// under ten.
const maxAcceptRanges = 64

// wantsSettingsPage reports whether a GET of the endpoint gets the settings
// page rather than the JSON state, by the Accept header's qualities (RFC
// 9110 §12.5.1, the most specific range deciding): when text/html is named
// with a quality above zero and above the one application/json gets, or
// equal to it through a wildcard. A browser's navigation sends
// "text/html,…,*/*;q=0.8" and gets the page; fetch's default "*/*", no
// Accept at all, or "application/json" get JSON, as before the page.
func wantsSettingsPage(h http.Header) bool {
	// Qualities by range; -1: not named.
	q := map[string]float64{"text/html": -1, "application/json": -1, "application/*": -1, "*/*": -1}
	n := 0
	for _, v := range h["Accept"] {
		for part := range strings.SplitSeq(v, ",") {
			if n++; n > maxAcceptRanges {
				break
			}
			mt, params, _ := strings.Cut(part, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if old, ok := q[mt]; ok && old < 0 {
				q[mt] = acceptQuality(params)
			}
		}
	}
	htmlQ := q["text/html"]
	if htmlQ <= 0 {
		return false
	}
	if q["application/json"] >= 0 {
		return htmlQ > q["application/json"]
	}
	for _, r := range []string{"application/*", "*/*"} {
		if q[r] >= 0 {
			return htmlQ >= q[r]
		}
	}
	return true
}

// acceptQuality reads the q parameter of a media range's parameters: 1
// when absent or unreadable.
func acceptQuality(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
			return f
		}
	}
	return 1
}
