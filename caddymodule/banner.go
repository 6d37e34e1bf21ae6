package caddymodule

import (
	"html"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// The consent banner (opt-in, `banner <policy-url>`, needs the endpoint):
// while the visitor has not decided, filtered pages get a small banner right
// after <body>: plain HTML and CSS, a form that posts to the consent
// endpoint, so it works with JavaScript off. Accept all and reject all are
// equally prominent; per-category choices, a link to the policy, texts in
// the visitor's language. Once the visitor has decided nothing is added.

// Banner configures the banner.
type Banner struct {
	// PolicyURL is the site's privacy policy, linked from the banner.
	PolicyURL string `json:"policy_url"`
	// Texts override the built-in texts: language → key → text (keys as
	// in bannerTexts["en"]).
	Texts map[string]map[string]string `json:"texts,omitempty"`
}

// bannerTexts are the built-in texts. Category keys are category ids;
// an operator's own categories fall back to their names from the rules.
var bannerTexts = map[string]map[string]string{
	"en": {
		"title":       "Cookies on this site",
		"body":        "We use cookies that the site needs to work. With your consent we also use cookies for the categories below. You can change your choice at any time.",
		"policy":      "Privacy policy",
		"choose":      "Categories",
		"accept_all":  "Accept all",
		"reject_all":  "Reject all",
		"save":        "Save my choices",
		"necessary":   "Strictly necessary (always on)",
		"functional":  "Functionality",
		"analytics":   "Performance and analytics",
		"advertising": "Targeting and advertising",
	},
	"de": {
		"title":       "Cookies auf dieser Website",
		"body":        "Wir verwenden Cookies, die für den Betrieb der Website nötig sind. Mit Ihrer Einwilligung verwenden wir auch Cookies der folgenden Kategorien. Sie können Ihre Wahl jederzeit ändern.",
		"policy":      "Datenschutzerklärung",
		"choose":      "Kategorien",
		"accept_all":  "Alle akzeptieren",
		"reject_all":  "Alle ablehnen",
		"save":        "Auswahl speichern",
		"necessary":   "Unbedingt erforderlich (immer aktiv)",
		"functional":  "Funktionalität",
		"analytics":   "Leistung und Analyse",
		"advertising": "Zielgerichtete Werbung",
	},
	"fr": {
		"title":       "Cookies sur ce site",
		"body":        "Nous utilisons les cookies nécessaires au fonctionnement du site. Avec votre accord, nous utilisons aussi des cookies des catégories ci-dessous. Vous pouvez modifier votre choix à tout moment.",
		"policy":      "Politique de confidentialité",
		"choose":      "Catégories",
		"accept_all":  "Tout accepter",
		"reject_all":  "Tout refuser",
		"save":        "Enregistrer mes choix",
		"necessary":   "Strictement nécessaires (toujours actifs)",
		"functional":  "Fonctionnalité",
		"analytics":   "Performance et mesure d'audience",
		"advertising": "Ciblage et publicité",
	},
	"ro": {
		"title":       "Cookie-uri pe acest site",
		"body":        "Folosim cookie-uri necesare funcționării site-ului. Cu acordul dumneavoastră folosim și cookie-uri din categoriile de mai jos. Vă puteți schimba alegerea oricând.",
		"policy":      "Politica de confidențialitate",
		"choose":      "Categorii",
		"accept_all":  "Acceptă toate",
		"reject_all":  "Respinge toate",
		"save":        "Salvează alegerile",
		"necessary":   "Strict necesare (mereu active)",
		"functional":  "Funcționalitate",
		"analytics":   "Performanță și analiză",
		"advertising": "Direcționare și publicitate",
	},
}

// bannerLanguage picks the built-in language the visitor prefers most
// (Accept-Language, RFC 9110 §12.5.4: quality values, then order; a tag
// matches by its primary subtag), English when none fits.
func bannerLanguage(accept string) string {
	type pref struct {
		lang string
		q    float64
		i    int
	}
	var prefs []pref
	for i, part := range strings.Split(accept, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if _, ok := bannerTexts[primary]; ok && q > 0 {
			prefs = append(prefs, pref{primary, q, i})
		}
	}
	sort.SliceStable(prefs, func(a, b int) bool { return prefs[a].q > prefs[b].q })
	if len(prefs) == 0 {
		return "en"
	}
	return prefs[0].lang
}

// bannerCSS is the banner's whole style: fixed at the bottom, above the
// page; dark text on white (contrast 17:1), white on blue buttons (6.4:1),
// a visible focus ring; accept and reject look the same.
const bannerCSS = `#ce-banner{position:fixed;left:0;right:0;bottom:0;z-index:2147483647;background:#fff;color:#1a1a1a;` +
	`border-top:2px solid #1a1a1a;padding:1em;font:16px/1.5 system-ui,sans-serif;max-height:80vh;overflow:auto}` +
	`#ce-banner h2{font-size:1.15em;margin:0 0 .4em}#ce-banner p{margin:0 0 .5em}` +
	`#ce-banner fieldset{border:0;margin:0 0 .5em;padding:0}#ce-banner legend{font-weight:600;padding:0}` +
	`#ce-banner label{display:inline-block;margin:0 1.2em .2em 0}` +
	`#ce-banner button{font:inherit;margin:.25em .5em .25em 0;padding:.45em 1.1em;border:2px solid #0b57d0;` +
	`border-radius:4px;background:#0b57d0;color:#fff;cursor:pointer}` +
	`#ce-banner button.ce-save{background:#fff;color:#0b57d0}#ce-banner a{color:#0b57d0}` +
	`#ce-banner :focus-visible{outline:3px solid #b3261e;outline-offset:2px}`

// bannerHTML writes the banner for a page at uri (the redirect after the
// decision), in lang, with the page's CSP style nonce if it names one.
func (h *Handler) bannerHTML(lang, uri, nonce string) []byte {
	text := func(key string) string {
		if t, ok := h.Banner.Texts[lang][key]; ok {
			return t
		}
		if t, ok := bannerTexts[lang][key]; ok {
			return t
		}
		return bannerTexts["en"][key]
	}
	esc := html.EscapeString
	var b strings.Builder
	b.Grow(3 << 10)
	b.WriteString("<style")
	if nonce != "" {
		b.WriteString(` nonce="` + esc(nonce) + `"`)
	}
	b.WriteString(">" + bannerCSS + "</style>")
	b.WriteString(`<section id="ce-banner" role="region" aria-labelledby="ce-banner-title" lang="` + esc(lang) + `">`)
	b.WriteString(`<form method="post" action="` + esc(h.Endpoint) + `">`)
	b.WriteString(`<h2 id="ce-banner-title">` + esc(text("title")) + `</h2>`)
	b.WriteString(`<p>` + esc(text("body")))
	if h.Banner.PolicyURL != "" {
		b.WriteString(` <a href="` + esc(h.Banner.PolicyURL) + `">` + esc(text("policy")) + `</a>`)
	}
	b.WriteString(`</p><fieldset><legend>` + esc(text("choose")) + `</legend>`)
	for i, c := range h.rules.Categories() {
		label := text(c.ID)
		if label == "" {
			label = c.Name
		}
		if rules.Category(i) == rules.Necessary {
			b.WriteString(`<label><input type="checkbox" checked disabled> ` + esc(label) + `</label>`)
			continue
		}
		b.WriteString(`<label><input type="checkbox" name="grant" value="` + esc(c.ID) + `"> ` + esc(label) + `</label>`)
	}
	b.WriteString(`</fieldset><input type="hidden" name="redirect" value="` + esc(uri) + `">`)
	b.WriteString(`<button name="action" value="accept_all">` + esc(text("accept_all")) + `</button>`)
	b.WriteString(`<button name="action" value="reject_all">` + esc(text("reject_all")) + `</button>`)
	b.WriteString(`<button name="action" value="save" class="ce-save">` + esc(text("save")) + `</button>`)
	b.WriteString(`</form></section>`)
	return []byte(b.String())
}

// bannerFor returns the banner for this response, or nil: only for a GET
// of a page by a visitor who has not decided.
func (rw *responseWriter) bannerFor() []byte {
	if !rw.undecided || rw.r.Method != http.MethodGet {
		return nil
	}
	uri := rw.r.URL.RequestURI()
	if _, err := sameSitePath(uri); err != nil {
		uri = "/"
	}
	nonce := rules.CSPNonce(rw.Header()["Content-Security-Policy"], "style-src")
	return rw.h.bannerHTML(bannerLanguage(rw.r.Header.Get("Accept-Language")), uri, nonce)
}
