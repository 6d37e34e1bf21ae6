package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestBannerLanguage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "en"},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{"ro", "ro"},
		{"es-ES,es;q=0.9", "en"},
		{"en;q=0.5, de;q=0.8", "de"},
		{"RO-ro", "ro"},
		{"de;q=0, fr", "fr"},
		{"ja, de;q=garbage", "de"},
	} {
		if got := bannerLanguage(tt.in); got != tt.want {
			t.Errorf("bannerLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func bannerHandler(t *testing.T) *Handler {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Endpoint = "/consent"
		h.Banner = &Banner{PolicyURL: "/privacy", Texts: map[string]map[string]string{"en": {"title": "Your privacy"}}}
		h.Sources = []ConsentSource{{Name: "consent"}, {Name: "onetrust"}}
	})
	return h
}

func TestBanner(t *testing.T) {
	h := bannerHandler(t)
	page := `<!DOCTYPE html><html><head><title>Shop</title></head><body class="x"><h1>Shop</h1></body></html>`
	get := func(method, cookie, lang, csp string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/shop/cart?item=4&gclid=x", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			if csp != "" {
				w.Header().Set("Content-Security-Policy", csp)
			}
			_, err := w.Write([]byte(page))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	rec := get("GET", "", "", "style-src 'self' 'nonce-St7le'")
	body := rec.Body.String()
	start := strings.Index(body, `<body class="x"><style>`+bannerCSS+`</style>`)
	end := strings.Index(body, `</section>`)
	if start < 0 || end < 0 || !strings.Contains(body, `</section><h1>Shop</h1>`) {
		t.Fatalf("banner not first in the body:\n%s", body)
	}
	banner := body[start+len(`<body class="x">`) : end+len(`</section>`)]
	if len(banner) > 4096 {
		t.Errorf("banner is %d bytes, over 4 KB", len(banner))
	}
	for _, want := range []string{
		`<section id="ce-banner" role="region" aria-labelledby="ce-banner-title" lang="en">`,
		`<form method="post" action="/consent">`,
		`<h2 id="ce-banner-title">Your privacy</h2>`, // overridden text
		`<a href="/privacy">Privacy policy</a>`,
		`<input type="checkbox" name="grant" value="functional">`,
		`<input type="checkbox" name="grant" value="analytics">`,
		`<input type="checkbox" name="grant" value="advertising">`,
		`<input type="hidden" name="redirect" value="/shop/cart?item=4">`, // click id already gone
		`<button name="action" value="accept_all">Accept all</button>`,
		`<button name="action" value="reject_all">Reject all</button>`,
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %s", want)
		}
	}
	if strings.Contains(banner, "<script") || strings.Contains(banner, "onclick") {
		t.Error("the banner runs script")
	}
	if csp, want := rec.Header().Get("Content-Security-Policy"), "style-src 'self' 'nonce-St7le' "+hashSource([]byte(bannerCSS)); !strings.HasPrefix(csp, want) {
		t.Errorf("the page's policy %q; want it to allow the banner's style: %q", csp, want)
	}
	if vary := strings.Join(rec.Header()["Vary"], ", "); !strings.Contains(vary, "Accept-Language") {
		t.Errorf("Vary %q", vary)
	}
	// Every form control has a label, and the document parses with the
	// banner's form intact.
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	inputs, labelled := 0, 0
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && attrVal(n, "type") == "checkbox" {
			inputs++
			if n.Parent != nil && n.Parent.Data == "label" {
				labelled++
			}
		}
	}
	if inputs != 4 || labelled != 4 {
		t.Errorf("%d checkboxes, %d labelled", inputs, labelled)
	}

	// German.
	if de := get("GET", "", "de-DE,de;q=0.9", "").Body.String(); !strings.Contains(de, `lang="de"`) || !strings.Contains(de, "Alle ablehnen") {
		t.Errorf("german banner: %s", de)
	}
	// Decided visitors, other requests: nothing.
	for _, tt := range []struct{ method, cookie string }{
		{"GET", "consent=necessary"},
		{"GET", "consent=analytics"},
		{"GET", "OptanonConsent=groups=C0002%3A0"},
		{"HEAD", ""},
	} {
		if b := get(tt.method, tt.cookie, "", "").Body.String(); strings.Contains(b, "ce-banner") {
			t.Errorf("%s with %q: banner injected", tt.method, tt.cookie)
		}
	}
	// A malformed cookie is no decision: the banner asks.
	if b := get("GET", "consent=%zz", "", "").Body.String(); !strings.Contains(b, "ce-banner") {
		t.Error("malformed consent cookie: no banner")
	}
}

// TestBannerForm posts what the banner's form sends when "Reject all" is
// pressed with a box ticked, as a browser with JavaScript off would.
func TestBannerForm(t *testing.T) {
	h := bannerHandler(t)
	form := "grant=analytics&redirect=%2Fshop%2Fcart%3Fitem%3D4&action=reject_all"
	req := httptest.NewRequest("POST", "/consent", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec, err := serve(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/shop/cart?item=4" ||
		!strings.HasPrefix(rec.Header().Get("Set-Cookie"), "consent=necessary;") {
		t.Errorf("%d %q %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
}

func attrVal(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
