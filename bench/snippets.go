package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/consentedge/consentedge/internal/vendorexamples"
)

// vendorsDir holds the vendors' snippets as their documentation publishes
// them (package vendorexamples reads them, for the rules' tests too). The
// landing page takes its tags from there, so that it carries what sites
// paste, kept up to date with the rules' tests.
const vendorsDir = "rules/testdata/vendors"

// landingSnippets are the vendor tags of the landing page's head and body.
type landingSnippets struct {
	gtm, gtmNoscript, gtag, uet, uetNoscript, linkedIn string
}

// loadLandingSnippets picks the landing page's tags from the examples
// under dir: Google Tag Manager (head and noscript), the Google tag,
// Microsoft Advertising UET (script and pixel) and the LinkedIn Insight Tag.
func loadLandingSnippets(dir string) (landingSnippets, error) {
	examples, err := vendorexamples.Read(dir)
	if err != nil {
		return landingSnippets{}, err
	}
	var s landingSnippets
	var missing []string
	pick := func(to *string, vendor, contains string) {
		for _, e := range examples {
			if e.Vendor == vendor && strings.HasPrefix(e.Text, "<") && strings.Contains(e.Text, contains) {
				*to = e.Text
				return
			}
		}
		missing = append(missing, vendor+" ("+contains+")")
	}
	pick(&s.gtm, "google-analytics", "gtm.start")
	pick(&s.gtmNoscript, "google-analytics", "googletagmanager.com/ns.html")
	pick(&s.gtag, "google-analytics", "googletagmanager.com/gtag/js")
	pick(&s.uet, "bing-ads", "bat.bing.com/bat.js")
	pick(&s.uetNoscript, "bing-ads", "bat.bing.com/action/")
	pick(&s.linkedIn, "linkedin-insight", "_linkedin_partner_id")
	if missing != nil {
		return s, fmt.Errorf("%s: no example of %s", dir, strings.Join(missing, ", "))
	}
	return s, nil
}

// repoRoot is the repository's root: the nearest folder up from the
// working directory that holds go.mod (go run ./bench runs from the root,
// go test ./bench from bench/).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = up
	}
}
