package cli

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Unclassified loads: the third-party scripts, frames and pixels of a page
// that no rule names. scan lists them so that an operator can classify
// them in a rules file, and --suggest writes that file's first draft.

type unclassifiedLoad struct {
	Line    int    `json:"line"`
	Element string `json:"element"`
	URL     string `json:"url"`
	Host    string `json:"host"`
}

// unclassifiedRecorder is the page's policy with its unclassified loads
// recorded: the URL of the last one, for the OnBlock that follows it.
type unclassifiedRecorder struct {
	*rules.Classifier
	page *url.URL
	last *url.URL
}

func (r *unclassifiedRecorder) Unclassified(raw []byte) htmlfilter.Verdict {
	v := r.Classifier.Unclassified(raw)
	if v.Block {
		r.last = nil
		if u, err := url.Parse(strings.TrimSpace(string(raw))); err == nil && r.page != nil {
			r.last = r.page.ResolveReference(u)
		}
	}
	return v
}

// take returns the load an OnBlock for an unclassified element reports.
func (r *unclassifiedRecorder) take(b htmlfilter.Blocked, line int) unclassifiedLoad {
	l := unclassifiedLoad{Line: line, Element: b.Tag}
	if r.last != nil {
		l.URL, l.Host = r.last.String(), strings.ToLower(r.last.Hostname())
	}
	r.last = nil
	return l
}

// printSuggestion writes a rules file with a vendor per site of the
// unclassified loads, for the operator to check and complete.
func printSuggestion(w io.Writer, results []scanResult) {
	hosts := map[string][]string{} // site → hosts
	for _, res := range results {
		for _, l := range res.Unclassified {
			if l.Host == "" {
				continue
			}
			site, err := publicsuffix.EffectiveTLDPlusOne(l.Host)
			if err != nil {
				site = l.Host
			}
			if !slices.Contains(hosts[site], l.Host) {
				hosts[site] = append(hosts[site], l.Host)
			}
		}
	}
	sites := make([]string, 0, len(hosts))
	for s := range hosts {
		sites = append(sites, s)
	}
	slices.Sort(sites)
	fmt.Fprintln(w, "# Third-party loads that no rule names, one vendor per site, written by")
	fmt.Fprintln(w, "# `caddy consent scan --suggest`. Check what each one is, set its name and")
	fmt.Fprintln(w, "# category (necessary, functional, analytics, advertising), and load the")
	fmt.Fprintln(w, "# file with `rules` in the consent block.")
	for _, site := range sites {
		slices.Sort(hosts[site])
		fmt.Fprintf(w, "\nvendor %s {\n", suggestedID(site))
		fmt.Fprintf(w, "    name      %q\n", site)
		fmt.Fprintf(w, "    category  advertising   # not checked: the safe side until you know\n")
		fmt.Fprintf(w, "    host      %s\n", strings.Join(hosts[site], " "))
		fmt.Fprintln(w, "}")
	}
}

// suggestedID makes a vendor id of a site: lowercase letters, digits and
// '-'.
func suggestedID(site string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(site) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	id := strings.Trim(b.String(), "-")
	if len(id) > 48 {
		id = id[:48]
	}
	if id == "" || rules.VendorUnclassified == id {
		id = "site-" + id
	}
	return id
}
