package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func testPages(t *testing.T) map[string]page {
	t.Helper()
	pages, err := benchPages("..")
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

func rendered(p page, v pageValues) []byte {
	var b bytes.Buffer
	p.render(&b, v)
	return b.Bytes()
}

// The pages are the same bytes on every run, of the sizes the table names.
func TestPagesDeterministic(t *testing.T) {
	a, b := testPages(t), testPages(t)
	sizes := map[string][2]int{
		smallPage:   {5 << 10, 6 << 10},
		landingPage: {110 << 10, 130 << 10},
		largePage:   {512 << 10, 520 << 10},
		slowPage:    {2 << 20, 2<<20 + 8<<10},
	}
	for name, size := range sizes {
		x, y := rendered(a[name], staticValues()), rendered(b[name], staticValues())
		if !bytes.Equal(x, y) {
			t.Errorf("%s: two builds differ", name)
		}
		if len(x) < size[0] || len(x) > size[1] {
			t.Errorf("%s: %d bytes, want %d to %d", name, len(x), size[0], size[1])
		}
	}
}

// The landing page carries the vendors' snippets as the examples hold
// them, and every measured page has a token and a nonce to change.
func TestPagesContent(t *testing.T) {
	pages := testPages(t)
	s, err := loadLandingSnippets(filepath.Join("..", vendorsDir))
	if err != nil {
		t.Fatal(err)
	}
	landing := string(rendered(pages[landingPage], staticValues()))
	for _, snippet := range []string{s.gtm, s.gtmNoscript, s.gtag, s.uet, s.uetNoscript, s.linkedIn} {
		if !strings.Contains(landing, snippet) {
			t.Errorf("landing page lacks %.60q", snippet)
		}
	}
	for _, want := range []string{"googletagmanager.com/gtm.js", "bat.bing.com/bat.js", "snap.licdn.com", "<svg", `type="application/ld+json"`} {
		if !strings.Contains(landing, want) {
			t.Errorf("landing page lacks %q", want)
		}
	}
	for _, name := range measuredPages {
		var has [len(slotMarkers)]bool
		for _, s := range pages[name].slots {
			has[s] = true
		}
		if !has[slotCSRF] || !has[slotNonce] || !has[slotCart] {
			t.Errorf("%s: slots %v, want a token, a nonce and a cart count", name, has)
		}
	}
}
