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
// the visitor's language. Once the visitor has decided the banner gives way
// to the "Privacy choices" control (choices.go).

// Banner configures the banner.
type Banner struct {
	// PolicyURL is the site's privacy policy, linked from the banner.
	PolicyURL string `json:"policy_url"`
	// Texts override the built-in texts: language → key → text (keys as
	// in bannerTexts["en"], or a category id for its label).
	Texts map[string]map[string]string `json:"texts,omitempty"`
	// ChoicesLink places the "Privacy choices" control on the pages of
	// visitors who have decided: bottom-left (the default when empty),
	// bottom-right, or off.
	ChoicesLink string `json:"choices_link,omitempty"`
}

// bannerTexts are the built-in texts. Categories are labelled by
// categoryLabel, from the rules' category names.
var bannerTexts = map[string]map[string]string{
	"en": {
		"title":      "Cookies on this site",
		"body":       "We use cookies that the site needs to work. With your consent we also use cookies for the categories below. You can change your choice at any time.",
		"policy":     "Privacy policy",
		"choose":     "Categories",
		"accept_all": "Accept all",
		"reject_all": "Reject all",
		"save":       "Save my choices",
		"always_on":  "always on",
		"choices":    "Privacy choices",
		"back":       "Back to the page",
	},
	"de": {
		"title":      "Cookies auf dieser Website",
		"body":       "Wir verwenden Cookies, die für den Betrieb der Website nötig sind. Mit Ihrer Einwilligung verwenden wir auch Cookies der folgenden Kategorien. Sie können Ihre Wahl jederzeit ändern.",
		"policy":     "Datenschutzerklärung",
		"choose":     "Kategorien",
		"accept_all": "Alle akzeptieren",
		"reject_all": "Alle ablehnen",
		"save":       "Auswahl speichern",
		"always_on":  "immer aktiv",
		"choices":    "Datenschutz-Einstellungen",
		"back":       "Zurück zur Seite",
	},
	"fr": {
		"title":      "Cookies sur ce site",
		"body":       "Nous utilisons les cookies nécessaires au fonctionnement du site. Avec votre accord, nous utilisons aussi des cookies des catégories ci-dessous. Vous pouvez modifier votre choix à tout moment.",
		"policy":     "Politique de confidentialité",
		"choose":     "Catégories",
		"accept_all": "Tout accepter",
		"reject_all": "Tout refuser",
		"save":       "Enregistrer mes choix",
		"always_on":  "toujours actifs",
		"choices":    "Choix de confidentialité",
		"back":       "Retour à la page",
	},
	"ro": {
		"title":      "Cookie-uri pe acest site",
		"body":       "Folosim cookie-uri necesare funcționării site-ului. Cu acordul dumneavoastră folosim și cookie-uri din categoriile de mai jos. Vă puteți schimba alegerea oricând.",
		"policy":     "Politica de confidențialitate",
		"choose":     "Categorii",
		"accept_all": "Acceptă toate",
		"reject_all": "Respinge toate",
		"save":       "Salvează alegerile",
		"always_on":  "mereu active",
		"choices":    "Opțiuni de confidențialitate",
		"back":       "Înapoi la pagină",
	},
}

// categoryTranslations translate the built-in category names, keyed by the
// English name the rules give (rules/categories.go): a category an
// operator's rules file renames finds no translation and reads as named.
var categoryTranslations = map[string]map[string]string{
	"Strictly necessary":        {"de": "Unbedingt erforderlich", "fr": "Strictement nécessaires", "ro": "Strict necesare"},
	"Functionality":             {"de": "Funktionalität", "fr": "Fonctionnalité", "ro": "Funcționalitate"},
	"Performance and analytics": {"de": "Leistung und Analyse", "fr": "Performance et mesure d'audience", "ro": "Performanță și analiză"},
	"Targeting or advertising":  {"de": "Zielgerichtete Werbung", "fr": "Ciblage ou publicité", "ro": "Direcționare sau publicitate"},
}

// bannerText returns the text of key in lang: the operator's, else the
// built-in one, else the English one.
func (h *Handler) bannerText(lang, key string) string {
	if h.Banner != nil {
		if t, ok := h.Banner.Texts[lang][key]; ok {
			return t
		}
	}
	if t, ok := bannerTexts[lang][key]; ok {
		return t
	}
	return bannerTexts["en"][key]
}

// categoryLabel is how the banner and the settings page name c in lang: the
// operator's banner_text for its id, else the rules' name for it (the name
// the endpoint's JSON and `caddy consent rules list` give), translated where
// it is a built-in one. One name per category, wherever it is read.
func (h *Handler) categoryLabel(lang string, c rules.CategoryInfo) string {
	if h.Banner != nil {
		if t, ok := h.Banner.Texts[lang][c.ID]; ok {
			return t
		}
	}
	if t, ok := categoryTranslations[c.Name][lang]; ok {
		return t
	}
	return c.Name
}

// isBannerTextKey reports whether banner_text may set key: a built-in
// text's key or the id of a default category.
func isBannerTextKey(key string) bool {
	if _, ok := bannerTexts["en"][key]; ok {
		return true
	}
	_, ok := rules.Default().CategoryByID(key)
	return ok
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
// decision), in lang.
func (h *Handler) bannerHTML(lang, uri string) []byte {
	esc := html.EscapeString
	var b strings.Builder
	b.Grow(3 << 10)
	writeStyle(&b, bannerCSS)
	b.WriteString(`<section id="ce-banner" role="region" aria-labelledby="ce-banner-title" lang="` + esc(lang) + `">`)
	b.WriteString(`<form method="post" action="` + esc(h.Endpoint) + `">`)
	b.WriteString(`<h2 id="ce-banner-title">` + esc(h.bannerText(lang, "title")) + `</h2>`)
	b.WriteString(`<p>` + esc(h.bannerText(lang, "body")))
	if h.Banner.PolicyURL != "" {
		b.WriteString(` <a href="` + esc(h.Banner.PolicyURL) + `">` + esc(h.bannerText(lang, "policy")) + `</a>`)
	}
	b.WriteString(`</p>`)
	h.writeChoiceFields(&b, lang, 0, uri)
	b.WriteString(`</form></section>`)
	return []byte(b.String())
}

// writeStyle writes a <style> element holding css. It has no nonce: the
// page's policies allow it by its hash (csp_origin.go).
func writeStyle(b *strings.Builder, css string) {
	b.WriteString("<style>" + css + "</style>")
}

// writeChoiceFields writes what the banner's form and the settings page's
// share: a labelled checkbox per category, ticked for those in checked
// (necessary always, and disabled), the page to return to, and the
// accept all, reject all and save buttons.
func (h *Handler) writeChoiceFields(b *strings.Builder, lang string, checked rules.Set, redirect string) {
	esc := html.EscapeString
	b.WriteString(`<fieldset><legend>` + esc(h.bannerText(lang, "choose")) + `</legend>`)
	for i, c := range h.rules.Categories() {
		label := esc(h.categoryLabel(lang, c))
		if rules.Category(i) == rules.Necessary {
			b.WriteString(`<label><input type="checkbox" checked disabled> ` + label + ` (` + esc(h.bannerText(lang, "always_on")) + `)</label>`)
			continue
		}
		b.WriteString(`<label><input type="checkbox" name="grant" value="` + esc(c.ID) + `"`)
		if checked.Has(rules.Category(i)) {
			b.WriteString(` checked`)
		}
		b.WriteString(`> ` + label + `</label>`)
	}
	b.WriteString(`</fieldset><input type="hidden" name="redirect" value="` + esc(redirect) + `">`)
	b.WriteString(`<button name="action" value="accept_all">` + esc(h.bannerText(lang, "accept_all")) + `</button>`)
	b.WriteString(`<button name="action" value="reject_all">` + esc(h.bannerText(lang, "reject_all")) + `</button>`)
	b.WriteString(`<button name="action" value="save" class="ce-save">` + esc(h.bannerText(lang, "save")) + `</button>`)
}

// bannerFor returns what the page gets right after <body>, or nil: the
// banner for a visitor who has not decided, the "Privacy choices" control
// for one who has; only for a GET of a page.
func (rw *responseWriter) bannerFor() []byte {
	if rw.h.Banner == nil || rw.r.Method != http.MethodGet {
		return nil
	}
	uri := rw.r.URL.RequestURI()
	if _, err := sameSitePath(uri); err != nil {
		uri = "/"
	}
	lang := bannerLanguage(rw.r.Header.Get("Accept-Language"))
	if !rw.bannerAsks {
		return rw.h.choicesHTML(lang, uri)
	}
	return rw.h.bannerHTML(lang, uri)
}
