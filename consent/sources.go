package consent

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// Consent sources: the cookies in which consent tools (CMPs) record what the
// visitor chose. Each reader turns one cookie value into what it
// states about our categories: granted, denied, or nothing. A value a reader
// cannot read states nothing: a malformed signal grants nothing and never
// fails the request.

// Source names, as in the Caddyfile's `source <name> [cookie]`.
const (
	SourceNative        = "consent"       // ours: ids joined by "."
	SourceCookieConsent = "cookieconsent" // orestbida/cookieconsent v2 and v3: cc_cookie
	SourceKlaro         = "klaro"         // klaro: {"<service>":true,...}
	SourceCookiebot     = "cookiebot"     // CookieConsent: {necessary:true,preferences:false,...} or -1
	SourceOneTrust      = "onetrust"      // OptanonConsent: groups=C0001:1,C0002:0,...
	SourceCookieYes     = "cookieyes"     // cookieyes-consent: analytics:yes,advertisement:no,...
	SourceComplianz     = "complianz"     // cmplz_<category>: allow/deny
	SourceTarteaucitron = "tarteaucitron" // tarteaucitron: !gtag=true!facebookpixel=false
	SourceTCF           = "tcf"           // IAB TCF v2.2/2.3: euconsent-v2
)

// sourceCookies are each tool's default cookie name (complianz: a prefix).
var sourceCookies = map[string]string{
	SourceNative:        DefaultCookie,
	SourceCookieConsent: "cc_cookie",
	SourceKlaro:         "klaro",
	SourceCookiebot:     "CookieConsent",
	SourceOneTrust:      "OptanonConsent",
	SourceCookieYes:     "cookieyes-consent",
	SourceComplianz:     "cmplz_",
	SourceTarteaucitron: "tarteaucitron",
	SourceTCF:           "euconsent-v2",
}

// SourceNames lists the sources a configuration may name, sorted.
func SourceNames() []string {
	var out []string
	for n := range sourceCookies {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// DefaultSourceCookie is the cookie a source reads unless configured
// otherwise ("" for an unknown source).
func DefaultSourceCookie(source string) string { return sourceCookies[source] }

// Source is one consent source to read.
type Source struct {
	Name   string // one of the Source* constants
	Cookie string // "" = the tool's default cookie name
}

// defaultNames maps the category and service names of the common tools to
// our categories (lowercase). Operators add and override with `map`.
var defaultNames = map[string]map[string]rules.Category{
	SourceCookieConsent: {
		"necessary": rules.Necessary, "functionality": rules.Functional, "functional": rules.Functional, "preferences": rules.Functional,
		"analytics": rules.Analytics, "performance": rules.Analytics, "statistics": rules.Analytics, "measurement": rules.Analytics,
		"marketing": rules.Advertising, "targeting": rules.Advertising, "ads": rules.Advertising, "advertising": rules.Advertising, "advertisement": rules.Advertising,
	},
	SourceCookiebot: {
		"necessary": rules.Necessary, "preferences": rules.Functional, "statistics": rules.Analytics, "marketing": rules.Advertising,
	},
	SourceOneTrust: {
		"c0001": rules.Necessary, "c0002": rules.Analytics, "c0003": rules.Functional, "c0004": rules.Advertising, "c0005": rules.Advertising,
	},
	SourceCookieYes: {
		"necessary": rules.Necessary, "functional": rules.Functional, "analytics": rules.Analytics, "performance": rules.Analytics,
		"advertisement": rules.Advertising,
	},
	SourceComplianz: {
		// Complianz's "functional" is the technically necessary group.
		"functional": rules.Necessary, "preferences": rules.Functional, "statistics": rules.Analytics, "statistics-anonymous": rules.Analytics,
		"marketing": rules.Advertising,
	},
	// Klaro and tarteaucitron name services: the ones that are vendors of
	// ours are in defaultServices; these stand for what we have no one
	// vendor for (a tag manager, a self-hosted Matomo).
	SourceKlaro: {
		"gtm": rules.Analytics, "googletagmanager": rules.Analytics, "matomo": rules.Analytics, "adsense": rules.Advertising,
	},
	SourceTarteaucitron: {
		"googletagmanager": rules.Analytics, "matomo": rules.Analytics, "adsense": rules.Advertising,
	},
}

// NameMap resolves a tool's category or service names to our categories:
// the operator's mapping first, then the tool's defaults, then the rule
// set's vendor ids (a Klaro service named "hotjar" is the vendor hotjar).
type NameMap struct {
	rules          *rules.Rules
	operator       map[string]rules.Category // lowercase name → category
	operatorVendor map[string]string         // lowercase name → vendor id
	written        map[string]string         // lowercase name → as the operator wrote it
	id             uint64                    // tells maps apart in the source cache; 0: the defaults
}

// NewNameMap builds a NameMap from the operator's `map` lines (tool name →
// category id). Names match case-insensitively.
func (r *Reader) NewNameMap(operator map[string]rules.Category) *NameMap {
	m := &NameMap{rules: r.rules, operator: map[string]rules.Category{}, written: map[string]string{}, id: nameMapIDs.Add(1)}
	for k, v := range operator {
		m.operator[strings.ToLower(k)] = v
		m.written[strings.ToLower(k)] = k
	}
	return m
}

// ParseNameMap builds a NameMap from the operator's `map` lines: a tool's
// name → one of our category ids, or a vendor id (a Klaro service
// "heatmaps" that is hotjar). An unknown target is an error.
func (r *Reader) ParseNameMap(lines map[string]string) (*NameMap, error) {
	cats := map[string]rules.Category{}
	vendors := map[string]string{}
	for name, id := range lines {
		if c, ok := r.rules.CategoryByID(id); ok {
			cats[name] = c
		} else if _, ok := r.rules.VendorIndex(id); ok {
			vendors[strings.ToLower(name)] = id
		} else {
			return nil, fmt.Errorf("map %s: unknown category or vendor %q", name, id)
		}
	}
	m := r.NewNameMap(cats)
	m.operatorVendor = vendors
	for name := range lines {
		if _, ok := vendors[strings.ToLower(name)]; ok {
			m.written[strings.ToLower(name)] = name
		}
	}
	return m, nil
}

// Resolve finds the category a tool's name stands for (a service's: its
// vendor's).
func (m *NameMap) Resolve(source, name string) (rules.Category, bool) {
	t, ok := m.resolve(source, name)
	return t.cat, ok
}

// Stated is what one source says: categories granted and categories
// denied (a category in neither is not addressed), and vendors granted and
// denied by name.
type Stated struct {
	Grant, Deny             rules.Set
	VendorGrant, VendorDeny rules.VendorSet
	// Only are the categories granted vendor by vendor: a vendor of one
	// that no source grants by name is refused.
	Only  rules.Set
	whole rules.Set // categories granted as a whole, which lifts Only
}

// add records a decision on c; a denial of a category wins over a grant of
// it from the same source (two tool names for one of our categories, one
// refused: the visitor did not agree to all of it).
func (s *Stated) add(c rules.Category, granted bool) {
	switch {
	case c == rules.Necessary && !granted:
		// Strictly necessary is not the visitor's to refuse.
	case granted:
		s.Grant = s.Grant.With(c)
	default:
		s.Deny = s.Deny.With(c)
	}
}

func (s Stated) final() Stated {
	s.Grant &^= s.Deny
	s.Only &^= s.whole
	s.VendorGrant = s.VendorGrant.Minus(s.VendorDeny)
	return s
}

// listed states a complete decision: the granted categories, and every
// other category the rule set knows, denied.
func (r *Reader) listed(grant rules.Set) Stated {
	grant = grant.With(rules.Necessary)
	return Stated{Grant: grant, Deny: r.rules.AllCategories() &^ grant}
}

// ReadSource reads one cookie value of a source. name is the cookie's name
// (complianz reads one cookie per category, named cmplz_<category>). ok is
// false when the value is malformed: it states nothing.
func (r *Reader) ReadSource(source, name, value string, m *NameMap) (Stated, bool) {
	if len(value) > maxSourceValue {
		return Stated{}, false
	}
	switch source {
	case SourceNative:
		s, ok := r.parseConsent(value)
		if !ok {
			return Stated{}, false
		}
		return r.listed(s), true
	case SourceCookieConsent:
		return r.readCookieConsent(value, m)
	case SourceKlaro:
		return readKlaro(value, m)
	case SourceCookiebot:
		return r.readCookiebot(value, m)
	case SourceOneTrust:
		return readOneTrust(value, m)
	case SourceCookieYes:
		return readCookieYes(value, m)
	case SourceComplianz:
		return readComplianz(name, value, m)
	case SourceTarteaucitron:
		return readTarteaucitron(value, m)
	case SourceTCF:
		tc, err := ParseTCString(value)
		if err != nil {
			return Stated{}, false
		}
		g, d := tcfStated(tc)
		s := Stated{Grant: g, Deny: d}
		s.VendorGrant, s.VendorDeny = r.tcfVendors(tc)
		return s, true
	}
	return Stated{}, false
}

// maxSourceValue bounds a tool's cookie value (browsers cap a cookie at
// 4 KiB; a TC string with a full vendor bit field may be longer when
// several cookies are concatenated by a CMP, hence the margin).
const maxSourceValue = 16 << 10

// unescape percent-decodes a cookie value that is URL-encoded, and leaves
// one that is not (raw JSON from cookieconsent v2, say) as it is. A value
// with a '%' that does not decode is malformed.
func unescape(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.HasPrefix(v, `"{`) {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, "%") {
		return v, true
	}
	u, err := url.PathUnescape(v)
	return u, err == nil
}

// readCookieConsent reads orestbida/cookieconsent: v3 writes URL-encoded
// JSON {"categories":["necessary","analytics"],"services":{"analytics":
// ["ga"]},...}; v2 raw (or, with rfc_cookie, URL-encoded) JSON
// {"level":["necessary",...],...}. The list is the complete decision: a
// category the site's names map to but the list leaves out is denied, and
// so is every category no name maps to. A category with a non-empty list
// of services was granted service by service: its vendors that no listed
// service names are refused (v3 keeps a category whose services are all
// off out of "categories", so an empty list means no services).
func (r *Reader) readCookieConsent(v string, m *NameMap) (Stated, bool) {
	v, ok := unescape(v)
	if !ok {
		return Stated{}, false
	}
	var c struct {
		Categories *[]string           `json:"categories"`
		Level      *[]string           `json:"level"`
		Services   map[string][]string `json:"services"`
	}
	if json.Unmarshal([]byte(v), &c) != nil {
		return Stated{}, false
	}
	list := c.Categories
	if list == nil {
		list = c.Level
	}
	if list == nil {
		return Stated{}, false
	}
	var grant rules.Set
	for _, name := range *list {
		if cat, ok := m.Resolve(SourceCookieConsent, name); ok {
			grant = grant.With(cat)
		}
	}
	s := r.listed(grant)
	for category, services := range c.Services {
		cat, ok := m.Resolve(SourceCookieConsent, category)
		if !ok || len(services) == 0 || !grant.Has(cat) || cat == rules.Necessary {
			continue
		}
		s.Only = s.Only.With(cat)
		for _, name := range services {
			if t, ok := m.resolve(SourceCookieConsent, name); ok && t.vendor >= 0 {
				s.VendorGrant = s.VendorGrant.With(t.vendor, r.rules.VendorCount())
			}
		}
	}
	return s, true
}

// readKlaro reads Klaro's {"<service>":true|false,...} (URL-encoded). A
// service that is one of our vendors grants or refuses that vendor alone;
// one the operator maps to a category grants or denies the category.
func readKlaro(v string, m *NameMap) (Stated, bool) {
	v, ok := unescape(v)
	if !ok {
		return Stated{}, false
	}
	var services map[string]bool
	if json.Unmarshal([]byte(v), &services) != nil {
		return Stated{}, false
	}
	var s Stated
	for name, on := range services {
		s.name(m, SourceKlaro, name, on, perService)
	}
	return s.final(), true
}

// readCookiebot reads Cookiebot's CookieConsent: URL-encoded pseudo-JS,
// {stamp:'…',necessary:true,preferences:false,statistics:true,
// marketing:false,method:'explicit',ver:1,utc:…,region:'de'}; "-1" means the
// visitor's region needs no consent (Cookiebot then treats every category
// as accepted).
func (r *Reader) readCookiebot(v string, m *NameMap) (Stated, bool) {
	v, ok := unescape(v)
	if !ok {
		return Stated{}, false
	}
	if strings.TrimSpace(v) == "-1" {
		return r.listed(r.rules.AllCategories()), true
	}
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") {
		return Stated{}, false
	}
	var s Stated
	seen := false
	for _, kv := range strings.Split(v[1:len(v)-1], ",") {
		k, val, ok := strings.Cut(kv, ":")
		if !ok {
			continue
		}
		k, val = strings.Trim(strings.TrimSpace(k), `'"`), strings.TrimSpace(val)
		if k == "iab2" {
			r.cookiebotTCF(strings.Trim(val, `'"`), &s)
			continue
		}
		if val != "true" && val != "false" {
			continue
		}
		if cat, ok := m.Resolve(SourceCookiebot, k); ok {
			s.add(cat, val == "true")
			seen = true
		}
	}
	if !seen {
		return Stated{}, false
	}
	return s.final(), true
}

// readOneTrust reads OptanonConsent, a URL-encoded query string whose
// groups parameter lists "C0002:1,C0004:0": 1 grants, 0 denies. With
// consent by host or by general vendor on, hosts ("H12:0") and genVendors
// ("V5:0") hold vendor-level choices; their ids are the site's own, so
// they count through the operator's `map` (map H12 hotjar).
func readOneTrust(v string, m *NameMap) (Stated, bool) {
	q, err := url.ParseQuery(v)
	if err != nil {
		return Stated{}, false
	}
	groups, ok := q["groups"]
	if !ok || len(groups) != 1 {
		return Stated{}, false
	}
	var s Stated
	for _, g := range strings.Split(groups[0], ",") {
		id, val, ok := strings.Cut(g, ":")
		if !ok || val != "1" && val != "0" {
			continue
		}
		if cat, ok := m.Resolve(SourceOneTrust, id); ok {
			s.add(cat, val == "1")
		}
	}
	for _, key := range [...]string{"hosts", "genVendors"} {
		for _, h := range strings.Split(q.Get(key), ",") {
			id, val, ok := strings.Cut(h, ":")
			if !ok || val != "1" && val != "0" {
				continue
			}
			if t, ok := m.resolve(SourceOneTrust, id); ok && t.vendor >= 0 {
				s.vendor(m.rules, t, val == "1", vendorOnly)
			}
		}
	}
	return s.final(), true
}

// readCookieYes reads cookieyes-consent: "consentid:…,consent:yes,
// action:yes,necessary:yes,functional:yes,analytics:no,…". Only a recorded
// consent (consent:yes) grants; "consent:no" denies everything it lists.
func readCookieYes(v string, m *NameMap) (Stated, bool) {
	v, ok := unescape(v)
	if !ok {
		return Stated{}, false
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(kv, ":")
		if ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	if fields["consent"] != "yes" && fields["consent"] != "no" {
		return Stated{}, false
	}
	var s Stated
	for k, val := range fields {
		if k == "consent" || k == "action" || k == "consentid" {
			continue
		}
		if val != "yes" && val != "no" {
			continue
		}
		if cat, ok := m.Resolve(SourceCookieYes, k); ok {
			s.add(cat, val == "yes" && fields["consent"] == "yes")
		}
	}
	return s.final(), true
}

// readComplianz reads one cmplz_<category> cookie: "allow" or "deny".
func readComplianz(name, v string, m *NameMap) (Stated, bool) {
	cat, ok := m.Resolve(SourceComplianz, strings.TrimPrefix(name, sourceCookies[SourceComplianz]))
	if !ok {
		return Stated{}, true // a Complianz cookie we have no use for
	}
	var s Stated
	switch strings.TrimSpace(v) {
	case "allow":
		s.add(cat, true)
	case "deny":
		s.add(cat, false)
	default:
		return Stated{}, false
	}
	return s, true
}

// readTarteaucitron reads "!gtag=true!facebookpixel=false!intercomChat=wait",
// service by service like Klaro: "true" grants, "false" refuses, "wait"
// (no decision yet) states nothing.
func readTarteaucitron(v string, m *NameMap) (Stated, bool) {
	v, ok := unescape(v)
	if !ok || !strings.HasPrefix(v, "!") {
		return Stated{}, false
	}
	var s Stated
	for _, kv := range strings.Split(v[1:], "!") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || val != "true" && val != "false" {
			continue
		}
		s.name(m, SourceTarteaucitron, k, val == "true", perService)
	}
	return s.final(), true
}
