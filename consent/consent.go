package consent

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// maxConsentValue bounds a native consent cookie value: every id of 32
// categories fits many times over, so a longer value is garbage or an attack.
const maxConsentValue = 4 << 10

// Parse reads a native consent cookie value ("functional.analytics"):
// the granted category ids joined by ".". Ids are matched ASCII
// case-insensitively (a CMP writing "Analytics" means analytics; ids are
// declared lowercase, so no two ids fold together). Unknown ids are ignored, so
// that a cookie written for a richer rule set still grants what this one knows.
// A value that is not of that shape (bytes outside [A-Za-z0-9._-], longer than
// 4 KiB, percent-encoded) grants necessary only: a malformed signal never grants
// anything. One pair of surrounding double quotes is removed, because RFC 6265
// §4.1.1 allows a cookie-value in DQUOTEs.
func (r *Reader) Parse(v string) rules.Set {
	s, _ := r.parseConsent(v)
	return s
}

// parseConsent is Parse that also says whether v was well-formed.
func (r *Reader) parseConsent(v string) (rules.Set, bool) {
	s, _, ok := r.parseConsentVersion(v)
	return s, ok
}

// parseConsentVersion is parseConsent that also returns the policy version
// marker the value carries ("" when none; see VersionMarker).
func (r *Reader) parseConsentVersion(v string) (set rules.Set, marker string, ok bool) {
	if len(v) > maxConsentValue {
		return 1 << rules.Necessary, "", false
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return 1 << rules.Necessary, "", false
		}
	}
	set = rules.Set(1 << rules.Necessary)
	var buf [rules.MaxIDLen]byte
	for v != "" {
		id := v
		if i := strings.IndexByte(v, '.'); i >= 0 {
			id, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		if id == "" || len(id) > rules.MaxIDLen {
			continue
		}
		if id[0] == '_' {
			marker = id // no category id starts with '_'
			continue
		}
		b := buf[:len(id)]
		for i := 0; i < len(id); i++ {
			c := id[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
		}
		// Looked up by bytes: reading consent does not allocate.
		if c, ok := r.rules.CategoryByIDBytes(b); ok {
			set = set.With(c)
		}
	}
	return set, marker, true
}

// VersionMarker is the element a consent cookie recorded under a policy
// version carries: "_" and eight hex digits of the version's SHA-256. Its
// leading '_' keeps it apart from category ids, and readers that know no
// versions ignore it as an unknown id. "" for no version.
func VersionMarker(version string) string {
	if version == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(version))
	return "_" + hex.EncodeToString(sum[:4])
}

// Format is the native cookie value that grants s, recorded under
// version: the granted ids joined by '.', necessary first (so that a
// visitor who refused everything still has a decision on record), then the
// version marker.
func (r *Reader) Format(s rules.Set, version string) string {
	v := r.rules.FormatSet(s.With(rules.Necessary))
	if m := VersionMarker(version); m != "" {
		v += "." + m
	}
	return v
}

// Config says which signals to read.
type Config struct {
	Cookie string // native cookie name; "" = "consent"
	GPC    bool   // honour Sec-GPC: 1 (denies advertising)
	// DNT honours DNT: 1 as an objection to tracking: it denies analytics
	// and advertising.
	DNT bool
	// PolicyVersion, when set, is the policy version consent must have been
	// recorded under: a native cookie that does not carry its marker (one
	// of another version, or none at all) grants necessary only and is no
	// decision, so that the visitor is asked again. An unmarked cookie is
	// no exception: it may be stale, or planted by a sibling subdomain.
	PolicyVersion string
	// HostPrefix reads the native cookie only under its name with the
	// HostCookiePrefix ("__Host-consent"), which a browser stores only from
	// the host itself over HTTPS: a cookie of the bare name could have been
	// set by a sibling subdomain (RFC 6265 §8.6) and is not read.
	HostPrefix bool
	// Sources are the consent tools whose cookies are read; nil reads the
	// native cookie only. List SourceNative to read it beside others.
	Sources []Source
	// Names resolves the tools' category and service names; nil uses the
	// defaults.
	Names *NameMap
	// Cache remembers the readings of the tools' cookies (NewSourceCache);
	// nil reads every value afresh.
	Cache *SourceCache
	// Tool is the source whose convention `mode defer` writes ("": none).
	// What its own cookie grants it revives at once: State.Unseen.
	Tool string
}

// DefaultCookie is the native cookie's name when Config.Cookie is empty.
const DefaultCookie = "consent"

// HostCookiePrefix is the cookie name prefix RFC 6265bis §4.1.3.2 reserves
// for cookies set Secure, at Path=/ and without Domain.
const HostCookiePrefix = "__Host-"

// hasHostPrefix reports whether name is HostCookiePrefix followed by base,
// without building the string.
func hasHostPrefix(name, base string) bool {
	return len(name) == len(HostCookiePrefix)+len(base) && strings.HasPrefix(name, HostCookiePrefix) && name[len(HostCookiePrefix):] == base
}

// Granted is the categories the visitor's consent grants (Read). It never
// fails: a missing, malformed or oversized signal grants necessary only.
func (r *Reader) Granted(h http.Header, cfg Config) rules.Set {
	return r.Read(h, cfg).Granted
}

// GrantedReason is Granted that also says why a signal was not taken as
// sent: "" when it was (or there was none), else a short reason for a debug
// log line (never the cookie's value: it may identify the visitor).
func (r *Reader) GrantedReason(h http.Header, cfg Config) (rules.Set, string) {
	c := r.Read(h, cfg)
	return c.Granted, c.Reason
}

// State is the visitor's consent as read from one request.
type State struct {
	Granted rules.Set
	// Vendors are the choices the tools record vendor by vendor.
	Vendors VendorChoices
	// Unseen are the categories whose denial cfg.Tool cannot see: its
	// cookie grants them, or Sec-GPC or DNT took them away. A label the
	// tool revives must not be written for them.
	Unseen rules.Set
	// Signals is what decided: the sources whose cookies stated something,
	// and GPC and DNT when they took something away. None: no signal,
	// necessary only.
	Signals Signals
	// Reason says why a signal was not taken as sent ("" when all were):
	// for a debug line, never a cookie value.
	Reason string
}

// Read reads the visitor's consent from every configured source.
//
// Each source states grants and denials; a category is granted when some
// source grants it and none denies it: an explicit denial anywhere wins (a
// stale second tool, or a second cookie of the same name, can only take
// away). The same holds of vendors: a vendor refused by any source is
// refused, and a vendor granted by name never lifts its category's denial.
// Tools that record a list of accepted categories (ours, cookieconsent,
// TCF) deny everything they do not list; tools that record per-category or
// per-service choices (OneTrust, Cookiebot, CookieYes, Complianz, Klaro,
// tarteaucitron) state only what they record.
//
// Several cookies of one source's name grant only what all of them grant: a
// sibling subdomain can set a cookie for the parent domain (cookie tossing,
// RFC 6265 §8.6), and the browser sends both; neither can be trusted to be
// ours. When the Cookie headers are too large to scan completely, a cookie
// we did not read could deny something, so the result is necessary only
// (fail closed). Nothing here fails: malformed values state nothing.
//
// With cfg.GPC, any Sec-GPC header whose value is exactly "1" (GPC spec §3:
// the only valid value) removes advertising: GPC is an opt-out of sale and
// sharing, binding under the CCPA. With cfg.DNT, DNT: 1 removes analytics
// and advertising.
func (r *Reader) Read(h http.Header, cfg Config) State {
	sources := cfg.Sources
	var native [1]Source // on the stack: reading consent must not allocate
	if sources == nil {
		native[0] = Source{Name: SourceNative, Cookie: cfg.Cookie}
		sources = native[:]
	}
	var st State
	var total Stated
	toolRead := false
	for _, src := range sources {
		got, reason, complete := r.readSourceCookies(h, src, cfg)
		if !complete {
			return State{Granted: 1 << rules.Necessary, Reason: reason}
		}
		if src.Name == cfg.Tool {
			st.Unseen |= got.Grant
			toolRead = true
		}
		if st.Reason == "" {
			st.Reason = reason
		}
		if got.Grant|got.Deny != 0 {
			st.Signals |= signalOf(src.Name)
		}
		total.Grant |= got.Grant
		total.Deny |= got.Deny
		total.VendorGrant = total.VendorGrant.Union(got.VendorGrant)
		total.VendorDeny = total.VendorDeny.Union(got.VendorDeny)
		total.Only |= got.Only
	}
	if cfg.Tool != "" && !toolRead {
		// Read only to know what the tool would revive: it grants nothing.
		got, _, _ := r.readSourceCookies(h, Source{Name: cfg.Tool}, cfg)
		st.Unseen |= got.Grant
	}
	set := (total.Grant&^total.Deny)&r.rules.AllCategories() | 1<<rules.Necessary
	if cfg.GPC && GPC(h) {
		if set.Has(rules.Advertising) {
			st.Signals |= signalOf(SignalGPC)
		}
		set &^= 1 << rules.Advertising
		st.Unseen |= 1 << rules.Advertising
	}
	if cfg.DNT && DNT(h) {
		if set&(1<<rules.Analytics|1<<rules.Advertising) != 0 {
			st.Signals |= signalOf(SignalDNT)
		}
		set &^= 1<<rules.Analytics | 1<<rules.Advertising
		st.Unseen |= 1<<rules.Analytics | 1<<rules.Advertising
	}
	st.Granted = set
	if total.VendorGrant != nil || total.VendorDeny != nil {
		st.Vendors = r.vendorChoices(total, set)
	}
	return st
}

// SourceState is what one source's cookies in a request state: its
// grants and explicit denials, why a cookie was not taken as sent ("" when
// all were), and whether the scan of the Cookie headers was complete.
func (r *Reader) SourceState(h http.Header, src Source, cfg Config) (Stated, string, bool) {
	return r.readSourceCookies(h, src, cfg)
}

// readSourceCookies reads every cookie of one source. Duplicates grant
// only what all of them grant (Complianz's one cookie per category add up).
func (r *Reader) readSourceCookies(h http.Header, src Source, cfg Config) (got Stated, reason string, complete bool) {
	names := cfg.Names
	if names == nil {
		defaults := NameMap{rules: r.rules}
		names = &defaults
	}
	want := VersionMarker(cfg.PolicyVersion)
	cookie := src.Cookie
	if cookie == "" {
		cookie = sourceCookies[src.Name]
		if src.Name == SourceNative && cfg.Cookie != "" {
			cookie = cfg.Cookie
		}
	}
	prefix := src.Name == SourceComplianz && src.Cookie == ""
	hostOnly := src.Name == SourceNative && cfg.HostPrefix
	match := func(n string) bool {
		if hostOnly {
			return hasHostPrefix(n, cookie)
		}
		return n == cookie || prefix && strings.HasPrefix(n, cookie)
	}
	n, bad, stale := 0, 0, 0
	complete = scanCookies(h, match, func(name, v string) bool {
		var s Stated
		var ok bool
		if src.Name == SourceNative {
			set, marker, wellFormed := r.parseConsentVersion(v)
			switch {
			case !wellFormed:
				bad++
			case want != "" && marker != want:
				stale++ // recorded under another version, or none
			default:
				s = r.listed(set)
			}
		} else if s, ok = r.readSource(cfg.Cache, src.Name, name, v, names); !ok {
			bad++
		}
		got.merge(s, n == 0, prefix)
		n++
		return true
	})
	switch {
	case !complete:
		return Stated{}, "cookie headers over the scan bound: necessary only", false
	case bad > 0:
		reason = "malformed " + src.Name + " cookie: it grants nothing"
	case stale > 0:
		reason = "consent not recorded under the current policy version: it grants nothing"
	case n > 1 && !prefix:
		reason = "several " + src.Name + " cookies: their intersection"
	}
	return got, reason, true
}

// merge adds one cookie's reading s to what a source's cookies stated so
// far. Cookies that each hold one category (addUp) add up; duplicates of
// one cookie grant only what all of them grant, and any may deny.
func (got *Stated) merge(s Stated, first, addUp bool) {
	switch {
	case addUp:
		got.Grant |= s.Grant
		got.Deny |= s.Deny
	case first:
		*got = s
	default:
		got.Grant &= s.Grant
		got.Deny |= s.Deny
		got.VendorGrant = got.VendorGrant.Minus(got.VendorGrant.Minus(s.VendorGrant))
		got.VendorDeny = got.VendorDeny.Union(s.VendorDeny)
		got.Only |= s.Only
	}
}

// Signals is a set of consent signals, by name: the Source* names, SignalGPC
// and SignalDNT. A bit set, so that reading consent does not allocate.
type Signals uint16

// The header signals.
const (
	SignalGPC = "gpc"
	SignalDNT = "dnt"
)

// signalNames orders the signals (bit i is signalNames[i]).
var signalNames = []string{SourceNative, SourceCookieConsent, SourceKlaro, SourceCookiebot, SourceOneTrust,
	SourceCookieYes, SourceComplianz, SourceTarteaucitron, SourceTCF, SignalGPC, SignalDNT}

func signalOf(name string) Signals {
	for i, n := range signalNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// Names lists the signals in s, sources first.
func (s Signals) Names() []string {
	var out []string
	for i, n := range signalNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// FromCookies reports whether a cookie of some source stated something (the
// visitor decided in some tool), as against only GPC or DNT.
func (s Signals) FromCookies() bool {
	return s&^(signalOf(SignalGPC)|signalOf(SignalDNT)) != 0
}

// String is the signals joined by "+" ("onetrust+gpc"), or "none".
func (s Signals) String() string {
	if s == 0 {
		return "none"
	}
	return strings.Join(s.Names(), "+")
}

// DNT reports whether h carries Do Not Track: a DNT header whose value is
// exactly "1".
func DNT(h http.Header) bool {
	for _, v := range h["Dnt"] {
		if strings.Trim(v, " \t") == "1" {
			return true
		}
	}
	return false
}

// GPC reports whether h carries Global Privacy Control: a Sec-GPC header whose
// value, trimmed of optional whitespace (RFC 9110 §5.5), is exactly "1".
func GPC(h http.Header) bool {
	for _, v := range h["Sec-Gpc"] {
		if strings.Trim(v, " \t") == "1" {
			return true
		}
	}
	return false
}

// Decided reports whether the visitor has a recorded decision: a
// well-formed native consent cookie (under its __Host- name with
// cfg.HostPrefix) that carries cfg.PolicyVersion's marker when a version
// is set. A consent banner asks while this is false.
func (r *Reader) Decided(h http.Header, cfg Config) bool {
	name := cfg.Cookie
	if name == "" {
		name = DefaultCookie
	}
	want := VersionMarker(cfg.PolicyVersion)
	decided := false
	match := func(n string) bool {
		if cfg.HostPrefix {
			return hasHostPrefix(n, name)
		}
		return n == name
	}
	complete := scanCookies(h, match, func(_, v string) bool {
		_, marker, ok := r.parseConsentVersion(v)
		if !ok || want != "" && marker != want {
			decided = false
			return false
		}
		decided = true
		return true
	})
	return decided && complete
}
