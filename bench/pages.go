package main

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/consentedge/consentedge/internal/benchpage"
)

// The bench's pages, all generated here, the same bytes on every run:
//   - small.html (5 KB) and large.html (0.5 MiB): a shop's product list,
//     tag-dense (a '<' every 31 bytes), with a tracker block every 40
//     products;
//   - landing.html (about 120 KB): a marketing site's home page, its head
//     carrying the vendors' tags as they publish them (landing.go);
//   - 2mib.html: the slow-clients case's page, like large.html.
//
// Each is a template with slots for what a site renders per request (a
// CSRF token, a CSP nonce, a cart count; dynamic.go). The static origin
// serves them filled with fixed values, so they repeat byte for byte; the
// dynamic origin fills them anew for every response.
const (
	smallPage   = "small.html"
	landingPage = "landing.html"
	largePage   = "large.html"
)

// measuredPages are the pages of the throughput, CPU and first-byte rows,
// smallest first.
var measuredPages = []string{smallPage, landingPage, largePage}

// pageLabel names a page in the table.
var pageLabel = map[string]string{
	smallPage:   "5 KB page",
	landingPage: "120 KB landing page",
	largePage:   "0.5 MiB page",
	slowPage:    "2 MiB page",
}

// benchPages builds every page's template; root is the repository's root,
// where the landing page's vendor snippets are read.
func benchPages(root string) (map[string]page, error) {
	snippets, err := loadLandingSnippets(filepath.Join(root, vendorsDir))
	if err != nil {
		return nil, err
	}
	pages := map[string]page{landingPage: splitPage(buildLanding(snippets))}
	for name, size := range map[string]int{smallPage: 5 << 10, largePage: 512 << 10, slowPage: 2 << 20} {
		pages[name] = splitPage(benchpage.Shop(size))
	}
	return pages, nil
}

// writePages writes the pages as the static origin serves them: filled
// with fixed values.
func writePages(dir string, pages map[string]page) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, p := range pages {
		var b bytes.Buffer
		p.render(&b, staticValues())
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
