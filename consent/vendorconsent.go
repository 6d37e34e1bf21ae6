package consent

import (
	"slices"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// Vendor-level consent: consent tools record choices per service or vendor
// as well as per category (Klaro's services, cookieconsent's services, the
// TC string's vendor consents, OneTrust's hosts and general vendors). A
// vendor-level denial always wins; a vendor-level grant never lifts a
// category the visitor refused.

// VendorChoices is what the visitor's tools state about single vendors.
type VendorChoices struct {
	// Denied are the vendors blocked whatever their category: refused by
	// name, or left out of a category granted vendor by vendor.
	Denied rules.VendorSet
	// Refused are the vendors refused by name (a subset of Denied).
	Refused rules.VendorSet
	// Granted are the vendors accepted by name. Informational: a vendor of a
	// category the visitor refused stays blocked.
	Granted rules.VendorSet
	// Only are the granted categories granted vendor by vendor: their
	// vendors not in Granted are in Denied.
	Only rules.Set
}

// nameTarget is what a tool's name stands for: a whole category, or one
// vendor (vendor >= 0) of category cat.
type nameTarget struct {
	cat    rules.Category
	vendor int32
}

// serviceNames are the service names the common tools' documentation and
// examples use for vendors of ours, as written there: Klaro's example
// config (googleAnalytics, ...), tarteaucitron's service keys,
// cookieconsent's "ga". They are read case-insensitively (defaultServices).
// A vendor id resolves without an entry.
var serviceNames = map[string]map[string]string{
	SourceCookieConsent: {"ga": "google-analytics", "ga4": "google-analytics", "googleAnalytics": "google-analytics",
		"hotjar": "hotjar", "clarity": "clarity", "facebook": "facebook", "youtube": "youtube"},
	SourceKlaro: {"googleAnalytics": "google-analytics", "facebookPixel": "facebook", "metaPixel": "facebook",
		"googleAds": "google-ads", "googleFonts": "google-fonts", "googleMaps": "google-maps"},
	SourceTarteaucitron: {"gtag": "google-analytics", "analytics": "google-analytics", "gajs": "google-analytics",
		"intercomChat": "intercom", "facebookpixel": "facebook", "googleads": "google-ads",
		"googleadwordsconversion": "google-ads", "googleadwordsremarketing": "google-ads",
		"linkedininsighttag": "linkedin-insight", "twitteruwt": "twitter-pixel", "tiktok": "tiktok-pixel",
		"youtube": "youtube", "vimeo": "vimeo", "googlemaps": "google-maps", "googlefonts": "google-fonts"},
}

// defaultServices is serviceNames by lowercase name.
var defaultServices = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for tool, names := range serviceNames {
		out[tool] = map[string]string{}
		for n, id := range names {
			out[tool][strings.ToLower(n)] = id
		}
	}
	return out
}()

// resolve finds what a tool's name stands for: the operator's `map` first
// (a category or a vendor id), then the tool's category names, then its
// usual service names, then our vendor ids. Names match case-insensitively.
func (m *NameMap) resolve(source, name string) (nameTarget, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if c, ok := m.operator[name]; ok {
		return nameTarget{cat: c, vendor: -1}, true
	}
	if id, ok := m.operatorVendor[name]; ok {
		return m.vendorTarget(id)
	}
	if c, ok := defaultNames[source][name]; ok {
		return nameTarget{cat: c, vendor: -1}, true
	}
	if source == SourceNative {
		c, ok := m.rules.CategoryByID(name)
		return nameTarget{cat: c, vendor: -1}, ok
	}
	if id, ok := defaultServices[source][name]; ok {
		if t, ok := m.vendorTarget(id); ok {
			return t, true
		}
	}
	return m.vendorTarget(name)
}

func (m *NameMap) vendorTarget(id string) (nameTarget, bool) {
	v, ok := m.rules.VendorIndex(id)
	if !ok {
		return nameTarget{}, false
	}
	return nameTarget{cat: m.rules.VendorCategory(v), vendor: v}, true
}

// How a tool's vendor-level choice bears on the category.
const (
	// perService: the tool asks service by service (Klaro, tarteaucitron).
	// An accepted service grants its category for itself alone: another
	// vendor of that category was not asked about.
	perService = iota
	// vendorOnly: the tool's categories decide; a vendor choice only
	// refuses (OneTrust's hosts, the TC string's vendor consents).
	vendorOnly
)

// name records a decision on a tool's name. It reports whether the name
// resolved.
func (s *Stated) name(m *NameMap, source, name string, granted bool, how int) bool {
	t, ok := m.resolve(source, name)
	if !ok {
		return false
	}
	if t.vendor < 0 {
		s.add(t.cat, granted)
		if granted {
			s.whole = s.whole.With(t.cat)
		}
		return true
	}
	s.vendor(m.rules, t, granted, how)
	return true
}

// vendor records a decision on one vendor.
func (s *Stated) vendor(r *rules.Rules, t nameTarget, granted bool, how int) {
	if t.cat == rules.Necessary {
		return // strictly necessary is not the visitor's to refuse
	}
	n := r.VendorCount()
	if !granted {
		s.VendorDeny = s.VendorDeny.With(t.vendor, n)
		return
	}
	s.VendorGrant = s.VendorGrant.With(t.vendor, n)
	if how == perService {
		s.add(t.cat, true)
		s.Only = s.Only.With(t.cat)
	}
}

// vendorChoices turns what the sources stated about vendors into the
// vendors refused: those denied by name, and those of a category granted
// vendor by vendor (Only) that no source granted by name.
func (r *Reader) vendorChoices(total Stated, granted rules.Set) VendorChoices {
	only := total.Only & granted
	c := VendorChoices{Granted: total.VendorGrant.Minus(total.VendorDeny), Denied: total.VendorDeny,
		Refused: total.VendorDeny, Only: only}
	if only == 0 {
		return c.normal()
	}
	c.Denied = c.Denied.Union(r.rules.VendorsIn(only).Minus(total.VendorGrant))
	return c.normal()
}

// normal makes empty sets nil, so that a visitor whose tools state vendors
// without refusing any is told apart from one who refused some by len.
func (c VendorChoices) normal() VendorChoices {
	for _, vs := range []*rules.VendorSet{&c.Denied, &c.Refused, &c.Granted} {
		if vs.Empty() {
			*vs = nil
		}
	}
	return c
}

// tcfVendors is what a TC string says about our vendors that have a TCF id:
// a vendor is granted with its consent bit and refused without it. A
// legitimate-interest bit does not stand in for consent: every vendor of
// ours reads or writes the device, and the TCF Policy allows no legitimate
// interest for Purpose 1 (store and access information on a device).
func (r *Reader) tcfVendors(t *TCString) (grant, deny rules.VendorSet) {
	words := (r.rules.VendorCount() + 63) / 64
	for i, id := range r.rules.TCFVendors() {
		if grant == nil {
			grant, deny = make(rules.VendorSet, words), make(rules.VendorSet, words)
		}
		bit := uint64(1) << (uint(i) % 64)
		if t.VendorConsent(id) {
			grant[i/64] |= bit
		} else {
			deny[i/64] |= bit
		}
	}
	return grant, deny
}

// cookiebotTCF reads the TC string Cookiebot keeps in its cookie's iab2
// field when its IAB TCF integration is on: the vendors' consents count as
// a TCF cookie's would. A string that does not parse states nothing.
func (r *Reader) cookiebotTCF(v string, s *Stated) {
	tc, err := ParseTCString(v)
	if err != nil {
		return
	}
	s.VendorGrant, s.VendorDeny = r.tcfVendors(tc)
}

// serviceName is the name a tool knows vendor id by: the alphabetically
// first name the operator maps to it, as written (Klaro matches data-name
// case-sensitively), else the id itself, as docs/consent-tools.md asks
// sites to name their services.
func (m *NameMap) serviceName(id string) string {
	var names []string
	if m != nil {
		for n, v := range m.operatorVendor {
			if v == id {
				names = append(names, m.written[n])
			}
		}
	}
	if len(names) == 0 {
		return id
	}
	return slices.Min(names)
}
