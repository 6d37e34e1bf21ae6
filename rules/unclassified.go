package rules

import (
	"bytes"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Unclassified third parties: the long tail of trackers outruns any list.
// A page may treat every third-party script, frame and pixel whose host no
// rule names (and whose path no path rule names) as if it were of one
// category: blocked while that category is denied. Third-party means of
// another site than the page: another registrable domain (the public
// suffix list's eTLD+1), or another host where there is none (an IP
// address, localhost). The strictly necessary vendors of the rules (payment
// providers, captchas, library CDNs) are named, so never unclassified.

// VendorUnclassified is the vendor id of a third-party load no rule names.
const VendorUnclassified = "unclassified"

// Unclassify makes p decide the third-party scripts, frames and pixels that
// no rule names as if they were of category c. Reset turns it off again.
func (p *Classifier) Unclassify(c Category) {
	p.unclassified, p.unclassifying = c, true
}

// Unclassifies implements htmlfilter.Unclassifier: whether p blocks
// unnamed third-party loads for this visitor.
func (p *Classifier) Unclassifies() bool {
	return p.unclassifying && p.denies(p.unclassified)
}

// Unclassified implements htmlfilter.Unclassifier. raw is a source that URL
// let through; it is blocked when it resolves to an http(s) URL of another
// site than the page's whose host and path no rule names.
func (p *Classifier) Unclassified(raw []byte) htmlfilter.Verdict {
	if !p.Unclassifies() {
		return htmlfilter.Verdict{}
	}
	host, pq, ok := p.resolveHost(raw)
	if !ok || p.r.hostHasRule(host) || p.r.matchPath(pq) >= 0 || p.sameSite(host) {
		return htmlfilter.Verdict{}
	}
	return htmlfilter.Verdict{Block: true, Category: p.r.cats[p.unclassified].ID, Vendor: VendorUnclassified}
}

// resolveHost resolves raw against the page's base as a browser does and
// returns the lowercase host and the path(+query) of an http(s) URL.
func (p *Classifier) resolveHost(raw []byte) (host, pq []byte, ok bool) {
	clean := bytes.TrimSpace(raw)
	if len(clean) == 0 {
		return nil, nil, false
	}
	if !p.baseSet && schemeEnd(clean) < 0 && !authorityStart(clean) {
		return nil, nil, false // a path on the page's own host
	}
	u, err := urlParser.Parse(string(clean))
	if err != nil {
		b := p.baseURL()
		if b == nil {
			return nil, nil, false
		}
		if u, err = b.Parse(string(clean)); err != nil {
			return nil, nil, false
		}
	}
	if s := u.Scheme(); s != "http" && s != "https" {
		return nil, nil, false
	}
	return []byte(u.Hostname()), []byte(u.Pathname() + u.Search()), true
}

// authorityStart reports whether a reference without a scheme starts an
// authority in an http(s) URL: two slashes, either of them a backslash.
func authorityStart(b []byte) bool {
	return len(b) > 1 && (b[0] == '/' || b[0] == '\\') && (b[1] == '/' || b[1] == '\\')
}

// sameSite reports whether host is of the page's site.
func (p *Classifier) sameSite(host []byte) bool {
	if !p.siteKnown {
		p.siteKnown = true
		if pg := p.pageHost(); pg != "" {
			p.site = siteOf(pg)
		}
	}
	return p.site != "" && siteOf(string(host)) == p.site
}

// pageHost is the page URL's host.
func (p *Classifier) pageHost() string {
	if h, ok := plainHTTPHost(p.pageURL); ok {
		return h
	}
	p.parsePage()
	if p.page == nil {
		return ""
	}
	return p.page.Hostname()
}

// siteOf is host's registrable domain, or host itself where it has none.
func siteOf(host string) string {
	host = strings.TrimSuffix(host, ".")
	if site, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return site
	}
	return host
}
