package caddymodule

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// TestTrackerList: a site configured with `list tds <file>` strips a tracker
// that only the list names for a visitor without consent, and keeps it for
// one who granted its category.
func TestTrackerList(t *testing.T) {
	h, logs := newTestHandler(t, func(h *Handler) {
		d := caddyfile.NewTestDispenser("consent {\n\tlist tds ../rules/testdata/lists/tds.json\n}")
		if err := h.UnmarshalCaddyfile(d); err != nil {
			t.Fatal(err)
		}
	})
	const tag = `<script src="https://cdn.adnet.example/tag.js"></script>`
	doc := "<!DOCTYPE html><html><head><title>t</title>" + tag + "</head><body>" + benignHTML + "</body></html>"

	req := httptest.NewRequest("GET", "http://shop.example/", nil)
	rec, err := serve(h, req, htmlOrigin(doc))
	if err != nil {
		t.Fatal(err)
	}
	if body := rec.Body.String(); strings.Contains(body, "adnet.example") || !strings.Contains(body, benignHTML) {
		t.Errorf("without consent, want the list's tracker gone and the rest kept:\n%s", body)
	}
	if e := logs.FilterMessage("filtered").All(); len(e) != 1 || !strings.Contains(fmt.Sprint(e[0].ContextMap()["removed"]), "tds-adnet") {
		t.Errorf("log entries %v, want one naming tds-adnet", e)
	}

	req = httptest.NewRequest("GET", "http://shop.example/", nil)
	req.AddCookie(&http.Cookie{Name: "consent", Value: "advertising"})
	rec, err = serve(h, req, htmlOrigin(doc))
	if err != nil {
		t.Fatal(err)
	}
	if body := rec.Body.String(); body != doc {
		t.Errorf("with consent, want the page unchanged:\n%s", body)
	}
}
