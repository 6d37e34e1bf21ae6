package caddymodule

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/consentedge/consentedge/rules"
)

// chromeAccept is the Accept header of Chromium's navigations.
const chromeAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"

// getPage gets uri through h from an origin answering page, with the given
// request headers (name, value, ...).
func getPage(t *testing.T, h *Handler, method, uri, page string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, uri, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec, err := serve(h, req, htmlOrigin(page))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestChoicesControl(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>Shop</title></head><body class="x"><h1>Shop</h1></body></html>`
	h := bannerHandler(t)
	body := getPage(t, h, "GET", "/shop/cart?item=4&gclid=x", page, "Cookie", "consent=analytics").Body.String()
	link := `<a id="ce-choices" href="/consent?redirect=%2Fshop%2Fcart%3Fitem%3D4" rel="nofollow" lang="en">Privacy choices</a>`
	if !strings.Contains(body, `<body class="x"><style>`) || !strings.Contains(body, link+`<h1>Shop</h1>`) {
		t.Fatalf("a decided visitor's page lacks the control right after <body>:\n%s", body)
	}
	if strings.Contains(body, "ce-banner") {
		t.Error("a decided visitor's page has the banner")
	}
	for _, want := range []string{"position:fixed", "bottom:.75rem", "#ce-choices{left:.75rem}", "#ce-choices:focus-visible{outline:3px solid"} {
		if !strings.Contains(body, want) {
			t.Errorf("the control's style lacks %s", want)
		}
	}
	// The control is a real link, whatever the page around it.
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	links := 0
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "a" && attrVal(n, "id") == "ce-choices" && attrVal(n, "href") != "" {
			links++
		}
	}
	if links != 1 {
		t.Errorf("%d links #ce-choices with an href; want 1", links)
	}
	// In the visitor's language; its style allowed by the page's policy.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "consent=necessary")
	req.Header.Set("Accept-Language", "de")
	rec, err := serve(h, req, htmlOrigin(page, "Content-Security-Policy", "style-src 'self' 'nonce-St7le'"))
	if err != nil {
		t.Fatal(err)
	}
	if de := rec.Body.String(); !strings.Contains(de, `<body class="x"><style>`+h.choicesStyle()+`</style>`) ||
		!strings.Contains(de, `lang="de">Datenschutz-Einstellungen</a>`) {
		t.Errorf("german control: %s", de)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, hashSource([]byte(h.choicesStyle()))) {
		t.Errorf("the page's policy does not allow the control's style: %s", csp)
	}
	// Undecided: the banner, not the control; HEAD: nothing.
	if b := getPage(t, h, "GET", "/", page).Body.String(); !strings.Contains(b, "ce-banner") || strings.Contains(b, "ce-choices") {
		t.Errorf("undecided visitor: %s", b)
	}
	if b := getPage(t, h, "HEAD", "/", page, "Cookie", "consent=analytics").Body.String(); strings.Contains(b, "ce-choices") {
		t.Errorf("HEAD: %s", b)
	}
}

func TestChoicesControlPlacement(t *testing.T) {
	page := `<html><body><p>x</p></body></html>`
	for _, tt := range []struct{ link, want, not string }{
		{choicesBottomRight, "#ce-choices{right:.75rem}", "#ce-choices{left:"},
		{choicesBottomLeft, "#ce-choices{left:.75rem}", "#ce-choices{right:"},
		{choicesOff, "", "ce-choices"},
	} {
		h, _ := newTestHandler(t, func(h *Handler) {
			h.Endpoint = "/consent"
			h.Banner = &Banner{PolicyURL: "/privacy", ChoicesLink: tt.link,
				Texts: map[string]map[string]string{"en": {"choices": "Cookie settings"}}}
		})
		rec := getPage(t, h, "GET", "/", page, "Cookie", "consent=analytics")
		body := rec.Body.String()
		if tt.want != "" && (!strings.Contains(body, tt.want) || !strings.Contains(body, ">Cookie settings</a>")) {
			t.Errorf("choices_link %s: want %s and the operator's text:\n%s", tt.link, tt.want, body)
		}
		if strings.Contains(body, tt.not) {
			t.Errorf("choices_link %s: has %s:\n%s", tt.link, tt.not, body)
		}
	}
	h := &Handler{Banner: &Banner{ChoicesLink: "top"}}
	if err := h.Banner.validate(); err == nil || !strings.Contains(err.Error(), "choices_link") {
		t.Errorf("choices_link top: %v", err)
	}
}

// settingsGet is a browser's navigation to the endpoint.
func settingsGet(t *testing.T, h *Handler, uri string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", uri, nil)
	req.Header.Set("Accept", chromeAccept)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
		t.Error("the endpoint request reached the origin")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// formOf reads the settings page's form: the ticked grant boxes, the
// redirect and the buttons' actions.
func formOf(t *testing.T, body string) (action string, ticked []string, redirect string, buttons []string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch {
		case n.Data == "form" && attrVal(n, "method") == "post":
			action = attrVal(n, "action")
		case n.Data == "input" && attrVal(n, "name") == "grant" && slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == "checked" }):
			ticked = append(ticked, attrVal(n, "value"))
		case n.Data == "input" && attrVal(n, "name") == "redirect":
			redirect = attrVal(n, "value")
		case n.Data == "button" && attrVal(n, "name") == "action":
			buttons = append(buttons, attrVal(n, "value"))
		}
	}
	return action, ticked, redirect, buttons
}

func TestSettingsPage(t *testing.T) {
	h := bannerHandler(t)
	rec := settingsGet(t, h, "/consent?redirect=%2Fshop%2Fcart%3Fitem%3D4", "Cookie", "consent=analytics.advertising")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %q:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	action, ticked, redirect, buttons := formOf(t, body)
	if action != "/consent" || !slices.Equal(ticked, []string{"analytics", "advertising"}) || redirect != "/shop/cart?item=4" ||
		!slices.Equal(buttons, []string{"accept_all", "reject_all", "save"}) {
		t.Errorf("form: action %q, ticked %q, redirect %q, buttons %q", action, ticked, redirect, buttons)
	}
	if strings.Contains(body, "<script") || !strings.Contains(body, `<a href="/privacy">Privacy policy</a>`) ||
		!strings.Contains(body, `<a href="/shop/cart?item=4">Back to the page</a>`) {
		t.Errorf("page:\n%s", body)
	}
	// Its own CSP: its style by hash, never framed.
	css := body[strings.Index(body, "<style>")+len("<style>") : strings.Index(body, "</style>")]
	sum := sha256.Sum256([]byte(css))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "default-src 'none'") || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("CSP %q, X-Frame-Options %q", csp, rec.Header().Get("X-Frame-Options"))
	}
	vary := strings.Join(rec.Header()["Vary"], ", ")
	for _, f := range []string{"Accept", "Cookie", "Accept-Language"} {
		if !strings.Contains(vary, f) {
			t.Errorf("Vary %q lacks %s", vary, f)
		}
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
	// In the visitor's language.
	if de := settingsGet(t, h, "/consent", "Accept-Language", "de").Body.String(); !strings.Contains(de, `<html lang="de">`) ||
		!strings.Contains(de, "<h1>Datenschutz-Einstellungen</h1>") || !strings.Contains(de, "Alle ablehnen") {
		t.Errorf("german page:\n%s", de)
	}
	// HEAD: the headers only.
	req := httptest.NewRequest("HEAD", "/consent", nil)
	req.Header.Set("Accept", chromeAccept)
	if rec, _ := serve(h, req, nil); rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD: %q %q", rec.Header().Get("Content-Type"), rec.Body.String())
	}
}

// TestSettingsReturn: the page to return to is a path on the site, from
// the control's redirect parameter, else a same-origin Referer, else "/".
func TestSettingsReturn(t *testing.T) {
	h := bannerHandler(t)
	for _, tt := range []struct{ query, referer, want string }{
		{"?redirect=%2Fa%3Fb%3Dc", "", "/a?b=c"},
		{"?redirect=%2F%2Fevil.example%2Fx", "", "/"},
		{"?redirect=https%3A%2F%2Fevil.example%2F", "", "/"},
		{"?redirect=%2F%5Cevil.example", "", "/"},
		{"?redirect=javascript%3Aalert(1)", "http://example.com/from?x=1", "/from?x=1"},
		{"", "http://example.com/p/1", "/p/1"},
		{"", "http://evil.example/p/1", "/"},
	} {
		rec := settingsGet(t, h, "/consent"+tt.query, "Referer", tt.referer)
		if _, _, redirect, _ := formOf(t, rec.Body.String()); redirect != tt.want {
			t.Errorf("%s, Referer %q: return to %q, want %q", tt.query, tt.referer, redirect, tt.want)
		}
	}
}

// TestSettingsNegotiation: the settings page for a browser's navigation,
// JSON for scripts, as the endpoint answered before the page.
func TestSettingsNegotiation(t *testing.T) {
	h := bannerHandler(t)
	for _, tt := range []struct {
		accept string
		html   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{chromeAccept, true},
		{"text/html", true},
		{"TEXT/HTML; charset=utf-8", true},
		{"application/json, text/html", false},
		{"text/html;q=0.5, application/json", false},
		{"text/html, application/json;q=0.9", true},
		{"text/html;q=0", false},
		{"text/html;q=0.5, */*", false},
		{"text/html, application/*;q=0.5", true},
	} {
		req := httptest.NewRequest("GET", "/consent", nil)
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		rec, err := serve(h, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		ct := rec.Header().Get("Content-Type")
		if got := strings.HasPrefix(ct, "text/html"); got != tt.html || !tt.html && ct != "application/json" {
			t.Errorf("Accept %q: Content-Type %q; want html %t", tt.accept, ct, tt.html)
		}
		if !strings.Contains(strings.Join(rec.Header()["Vary"], ", "), "Accept") {
			t.Errorf("Accept %q: Vary %q lacks Accept", tt.accept, rec.Header()["Vary"])
		}
	}
}

// TestSettingsWithdrawInTwoClicks: a visitor who accepted everything
// follows the page's control (click 1) and posts the settings page's
// "Reject all" (click 2), as a browser with JavaScript off does: back to
// the page, consent necessary only, the tracking cookies expired.
func TestSettingsWithdrawInTwoClicks(t *testing.T) {
	h := bannerHandler(t)
	cookies := "consent=functional.analytics.advertising; _ga=GA1.1.1.1; _fbp=fb.1.1.1"
	page := getPage(t, h, "GET", "http://example.com/shop?item=4", `<html><body><p>x</p></body></html>`, "Cookie", cookies).Body.String()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	href := ""
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && attrVal(n, "id") == "ce-choices" {
			href = attrVal(n, "href")
		}
	}
	if href == "" {
		t.Fatalf("no control on the page:\n%s", page)
	}
	settings := settingsGet(t, h, "http://example.com"+href, "Cookie", cookies).Body.String()
	action, ticked, redirect, _ := formOf(t, settings)
	if !slices.Equal(ticked, []string{"functional", "analytics", "advertising"}) {
		t.Errorf("settings page ticks %q; want every category the cookie grants", ticked)
	}
	req := httptest.NewRequest("POST", "http://example.com"+action, strings.NewReader("redirect="+url.QueryEscape(redirect)+"&action=reject_all"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Cookie", cookies)
	rec, err := serve(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/shop?item=4" {
		t.Errorf("reject all: %d to %q; want 303 to /shop?item=4", rec.Code, rec.Header().Get("Location"))
	}
	set := strings.Join(rec.Header()["Set-Cookie"], "\n")
	for _, want := range []string{"consent=necessary;", "_ga=; Path=/; Max-Age=0", "_fbp=; Path=/; Max-Age=0"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie lacks %s:\n%s", want, set)
		}
	}
}

// bannerLabels reads the category labels of the banner in body, with the
// necessary category's "(always on)" taken off.
func bannerLabels(t *testing.T, body, alwaysOn string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "label" {
			var text strings.Builder
			for c := range n.Descendants() {
				if c.Type == html.TextNode {
					text.WriteString(c.Data)
				}
			}
			out = append(out, strings.TrimSuffix(strings.TrimSpace(text.String()), " ("+alwaysOn+")"))
		}
	}
	return out
}

// TestCategoryNamesOnePlace: the banner, the settings page and the
// endpoint's JSON name each category as the rules do (docs/consent-tools.md
// lists those names); a category a rules file renames reads renamed everywhere,
// in every language, with no stale built-in translation.
func TestCategoryNamesOnePlace(t *testing.T) {
	renamed := filepath.Join(t.TempDir(), "site.rules")
	if err := os.WriteFile(renamed, []byte("category analytics \"Statistics\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/consent-tools.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := bytes.Cut(doc, []byte("\n## The consent banner\n"))
	section, _, _ = bytes.Cut(section, []byte("\n## "))
	for _, files := range [][]string{nil, {renamed}} {
		h, _ := newTestHandler(t, func(h *Handler) {
			h.Endpoint, h.Banner, h.Rules = "/consent", &Banner{PolicyURL: "/privacy"}, files
		})
		var names []string
		for _, c := range h.rules.Categories() {
			names = append(names, c.Name)
		}
		rec := getPage(t, h, "GET", "/consent", "", "Accept", "application/json")
		var st endpointState
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		var endpoint []string
		for _, c := range st.Categories {
			endpoint = append(endpoint, c.Name)
		}
		banner := bannerLabels(t, getPage(t, h, "GET", "/", `<html><body></body></html>`).Body.String(), "always on")
		settings := bannerLabels(t, settingsGet(t, h, "/consent").Body.String(), "always on")
		if !slices.Equal(endpoint, names) || !slices.Equal(banner, names) || !slices.Equal(settings, names) {
			t.Errorf("rules %v: rules name %q, the endpoint %q, the banner %q, the settings page %q", files, names, endpoint, banner, settings)
		}
		if files == nil {
			for _, n := range names {
				if !bytes.Contains(section, []byte(`"`+n+`"`)) {
					t.Errorf("the banner section of docs/consent-tools.md does not name the category %q", n)
				}
			}
			continue
		}
		de := bannerLabels(t, getPage(t, h, "GET", "/", `<html><body></body></html>`, "Accept-Language", "de").Body.String(), "immer aktiv")
		if !slices.Contains(de, "Statistics") {
			t.Errorf("renamed analytics, german banner: %q; want the operator's name, Statistics", de)
		}
	}
	// Every built-in name has its translations; every language every text.
	for _, c := range rules.Default().Categories() {
		for lang := range bannerTexts {
			if _, ok := categoryTranslations[c.Name][lang]; !ok && lang != "en" {
				t.Errorf("category %q has no %s translation", c.Name, lang)
			}
		}
	}
	for lang, texts := range bannerTexts {
		for key := range bannerTexts["en"] {
			if texts[key] == "" {
				t.Errorf("%s lacks the text %s", lang, key)
			}
		}
	}
}
