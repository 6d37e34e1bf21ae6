package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// vendorsDir holds the vendors' snippets as their documentation publishes
// them (rules/testdata/vendors; readVendorExamples in rules/vendors_test.go
// reads the same files). The landing page takes its tags from there, so
// that it carries what sites paste, kept up to date with the rules' tests.
const vendorsDir = "rules/testdata/vendors"

// vendorExample is one example of those files: "== <vendor> <category>
// <source> [observed]", then the snippet up to the next "==".
type vendorExample struct {
	vendor, html string
}

// readVendorExamples reads every example under dir.
func readVendorExamples(dir string) ([]vendorExample, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no vendor examples in %s", dir)
	}
	var out []vendorExample
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		var cur *vendorExample
		var body strings.Builder
		flush := func() {
			if cur != nil {
				cur.html = strings.TrimSpace(body.String())
				out = append(out, *cur)
			}
			body.Reset()
		}
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "== "); ok {
				flush()
				cur = &vendorExample{vendor: strings.Fields(rest)[0]}
				continue
			}
			if cur != nil {
				body.WriteString(line + "\n")
			}
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	return out, nil
}

// landingSnippets are the vendor tags of the landing page's head and body.
type landingSnippets struct {
	gtm, gtmNoscript, gtag, uet, uetNoscript, linkedIn string
}

// loadLandingSnippets picks the landing page's tags from the examples
// under dir: Google Tag Manager (head and noscript), the Google tag,
// Microsoft Advertising UET (script and pixel) and the LinkedIn Insight Tag.
func loadLandingSnippets(dir string) (landingSnippets, error) {
	examples, err := readVendorExamples(dir)
	if err != nil {
		return landingSnippets{}, err
	}
	var s landingSnippets
	var missing []string
	pick := func(to *string, vendor, contains string) {
		for _, e := range examples {
			if e.vendor == vendor && strings.HasPrefix(e.html, "<") && strings.Contains(e.html, contains) {
				*to = e.html
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
