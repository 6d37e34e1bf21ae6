package rules

import (
	"slices"
	"strings"
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
	Denied VendorSet
	// Refused are the vendors refused by name (a subset of Denied).
	Refused VendorSet
	// Granted are the vendors accepted by name. Informational: a vendor of a
	// category the visitor refused stays blocked.
	Granted VendorSet
	// Only are the granted categories granted vendor by vendor: their
	// vendors not in Granted are in Denied.
	Only Set
}

// with returns vs with vendor v added, copying: a VendorSet may be shared
// (the source cache keeps readings).
func (vs VendorSet) with(v int32, n int) VendorSet {
	out := make(VendorSet, max(len(vs), (n+63)/64))
	copy(out, vs)
	out[v/64] |= 1 << (uint(v) % 64)
	return out
}

// union returns the vendors of a or b; it returns one of them unchanged
// when the other is empty.
func (vs VendorSet) union(o VendorSet) VendorSet {
	switch {
	case o.empty():
		return vs
	case vs.empty():
		return o
	}
	out := make(VendorSet, max(len(vs), len(o)))
	copy(out, vs)
	for i, w := range o {
		out[i] |= w
	}
	return out
}

// minus returns the vendors of vs not in o.
func (vs VendorSet) minus(o VendorSet) VendorSet {
	if vs.empty() || o.empty() {
		return vs
	}
	out := make(VendorSet, len(vs))
	for i, w := range vs {
		if i < len(o) {
			w &^= o[i]
		}
		out[i] = w
	}
	return out
}

func (vs VendorSet) empty() bool {
	for _, w := range vs {
		if w != 0 {
			return false
		}
	}
	return true
}

// Key is vs as bytes, for a map key: equal sets give equal keys, and the
// empty set "".
func (vs VendorSet) Key() string {
	if vs.empty() {
		return ""
	}
	return string(appendVendors(nil, vs))
}

// VendorIDs lists the ids of the vendors in vs, in definition order.
func (r *Rules) VendorIDs(vs VendorSet) []string {
	var out []string
	for i, v := range r.vendors {
		if vs.has(int32(i)) {
			out = append(out, v.ID)
		}
	}
	return out
}

// Has reports whether vendor index v is in vs.
func (vs VendorSet) Has(v int32) bool { return vs.has(v) }

// nameTarget is what a tool's name stands for: a whole category, or one
// vendor (vendor >= 0) of category cat.
type nameTarget struct {
	cat    Category
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
		c, ok := m.r.catIdx[name]
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
	v, ok := m.r.vendorIdx[id]
	if !ok {
		return nameTarget{}, false
	}
	return nameTarget{cat: m.r.vendors[v].Category, vendor: int32(v)}, true
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
	s.vendor(m.r, t, granted, how)
	return true
}

// vendor records a decision on one vendor.
func (s *Stated) vendor(r *Rules, t nameTarget, granted bool, how int) {
	if t.cat == Necessary {
		return // strictly necessary is not the visitor's to refuse
	}
	n := len(r.vendors)
	if !granted {
		s.VendorDeny = s.VendorDeny.with(t.vendor, n)
		return
	}
	s.VendorGrant = s.VendorGrant.with(t.vendor, n)
	if how == perService {
		s.add(t.cat, true)
		s.Only = s.Only.With(t.cat)
	}
}

// vendorChoices turns what the sources stated about vendors into the
// vendors refused: those denied by name, and those of a category granted
// vendor by vendor (Only) that no source granted by name.
func (r *Rules) vendorChoices(total Stated, granted Set) VendorChoices {
	only := total.Only & granted
	c := VendorChoices{Granted: total.VendorGrant.minus(total.VendorDeny), Denied: total.VendorDeny,
		Refused: total.VendorDeny, Only: only}
	if only == 0 {
		return c.normal()
	}
	left := make(VendorSet, (len(r.vendors)+63)/64)
	for i, v := range r.vendors {
		if only.Has(v.Category) && !total.VendorGrant.has(int32(i)) {
			left[i/64] |= 1 << (uint(i) % 64)
		}
	}
	c.Denied = c.Denied.union(left)
	return c.normal()
}

// normal makes empty sets nil, so that a visitor whose tools state vendors
// without refusing any is told apart from one who refused some by len.
func (c VendorChoices) normal() VendorChoices {
	for _, vs := range []*VendorSet{&c.Denied, &c.Refused, &c.Granted} {
		if vs.empty() {
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
func (r *Rules) tcfVendors(t *TCString) (grant, deny VendorSet) {
	words := (len(r.vendors) + 63) / 64
	for i, v := range r.vendors {
		if v.TCF == 0 || v.Category == Necessary {
			continue
		}
		if grant == nil {
			grant, deny = make(VendorSet, words), make(VendorSet, words)
		}
		bit := uint64(1) << (uint(i) % 64)
		if t.VendorConsent(v.TCF) {
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
func (r *Rules) cookiebotTCF(v string, s *Stated) {
	tc, err := ParseTCString(v)
	if err != nil {
		return
	}
	s.VendorGrant, s.VendorDeny = r.tcfVendors(tc)
}

// VendorIndex is the index of the vendor id names, for VendorSet.Has.
func (r *Rules) VendorIndex(id string) (int32, bool) {
	v, ok := r.vendorIdx[id]
	return int32(v), ok
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
