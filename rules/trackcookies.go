package rules

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Tracking cookies: the vendor rules name the cookies each tracker sets
// ("_ga", "_ga_*"). The handler keeps those of denied categories away from
// the origin (Cookie) and from the browser (Set-Cookie), and caps the
// lifetime of the granted ones at the vendor's retention.

// cookieRule is one "name*" pattern of a vendor.
type cookieRule struct {
	prefix string
	vendor int32
}

// indexCookies files every vendor's cookie names: exact names in a map,
// prefixes longest first, so that the most specific rule wins (an operator's
// "_ga_ABC" over the default "_ga_*"); among equal ones the later vendor.
func (r *Rules) indexCookies() {
	r.cookieExact = map[string]int32{}
	for i := len(r.vendors) - 1; i >= 0; i-- {
		for _, c := range r.vendors[i].Cookies {
			if p, ok := strings.CutSuffix(c, "*"); ok {
				r.cookiePrefix = append(r.cookiePrefix, cookieRule{p, int32(i)})
			} else if _, dup := r.cookieExact[c]; !dup {
				r.cookieExact[c] = int32(i)
			}
		}
	}
	slices.SortStableFunc(r.cookiePrefix, func(a, b cookieRule) int { return len(b.prefix) - len(a.prefix) })
}

// cookieVendor returns the vendor index of a cookie name, or -1. Cookie
// names are case-sensitive (RFC 6265 §5.3 compares them exactly). A name
// that only a prefix takes, and that records the visitor's choice (an
// opt-out or consent record under the vendor's prefix, such as Hotjar's
// _hjOptOut), is nobody's: stripping it would undo that choice. A rule
// that names it exactly still takes it.
func (r *Rules) cookieVendor(name string) int32 {
	if v, ok := r.cookieExact[name]; ok {
		return v
	}
	for _, p := range r.cookiePrefix {
		if strings.HasPrefix(name, p.prefix) {
			if choiceRecord(name) {
				return -1
			}
			return p.vendor
		}
	}
	return -1
}

var choiceWords = [][]byte{[]byte("optout"), []byte("optin"), []byte("consent"), []byte("donottrack"), []byte("catpref")}

// choiceRecord reports whether a cookie name reads as a record of the
// visitor's choice: it holds opt-out, opt-in, consent or do-not-track in
// any case and spelling ("GA_OPT_OUT", "optimizelyOptOut", "mtm_consent").
func choiceRecord(name string) bool {
	var buf [64]byte
	if len(name) > len(buf) {
		return false
	}
	n := buf[:0]
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'A' <= c && c <= 'Z':
			n = append(n, c+'a'-'A')
		case c == '_' || c == '-' || c == '.':
			// "opt_out", "opt-out", "do.not.track" read as "optout"
		default:
			n = append(n, c)
		}
	}
	for _, w := range choiceWords {
		if bytes.Contains(n, w) {
			return true
		}
	}
	return false
}

// CookieVendor returns a copy of the vendor whose rules name the cookie, or nil.
func (r *Rules) CookieVendor(name string) *Vendor {
	if v := r.cookieVendor(name); v >= 0 {
		return r.vendors[v].clone()
	}
	return nil
}

// deniedCookie reports whether name is a tracking cookie of a category not
// in granted or of a vendor refused by name, and names its vendor.
func (r *Rules) deniedCookie(name string, granted Set, refused VendorSet) (int32, bool) {
	v := r.cookieVendor(name)
	return v, v >= 0 && (!granted.Has(r.vendors[v].Category) || refused.has(v))
}

// Removal is what a header filter took out: one entry per cookie, naming
// the vendor (never the cookie's value).
type Removal struct {
	Vendor   string
	Category string
}

// FilterCookieHeader returns a Cookie header line without the pairs of
// tracking cookies of categories not in granted or of vendors refused, with the vendors of the
// cookies it removed appended to removed. Every other byte stays as it was:
// the kept pairs keep their own spacing and ';' separators, and only the
// whitespace in front of a pair that comes first now goes. A line that
// keeps no pair comes back empty, for the caller to drop. It allocates only
// when it removes something.
func (r *Rules) FilterCookieHeader(line string, granted Set, refused VendorSet, removed []Removal) (string, []Removal) {
	var b []byte
	cut := false // a pair was removed
	for start := 0; start <= len(line); {
		end := strings.IndexByte(line[start:], ';')
		if end < 0 {
			end = len(line)
		} else {
			end += start
		}
		seg := line[start:end]
		name, _, _ := strings.Cut(seg, "=")
		if v, deny := r.deniedCookie(httpfield.TrimWSP(name), granted, refused); deny {
			removed = append(removed, Removal{r.vendors[v].ID, r.cats[r.vendors[v].Category].ID})
			if !cut {
				cut = true
				b = make([]byte, 0, len(line))
				b = append(b, line[:max(start-1, 0)]...) // the pairs before, without this one's ';'
			}
		} else if cut && httpfield.TrimWSP(seg) != "" {
			if len(b) > 0 {
				b = append(b, ';')
			} else {
				seg = httpfield.TrimWSP(seg)
			}
			b = append(b, seg...)
		}
		start = end + 1
	}
	if !cut {
		return line, removed
	}
	return string(b), removed
}

// SetCookie decides one Set-Cookie header value for a visitor with consent
// granted: drop (a tracking cookie of a denied category or a refused
// vendor), or keep, with its
// lifetime capped at the vendor's retention when it is longer. The name is
// read as browsers read it (RFC 6265 §5.2: up to the first '=' of the part
// before the first ';', trimmed). now is the time the cap counts from.
func (r *Rules) SetCookie(value string, granted Set, refused VendorSet, now time.Time) (out string, drop bool, v *Removal) {
	pair, attrs, _ := strings.Cut(value, ";")
	name, _, ok := strings.Cut(pair, "=")
	if !ok {
		return value, false, nil // a nameless cookie is no vendor's
	}
	vi := r.cookieVendor(httpfield.TrimWSP(name))
	if vi < 0 {
		return value, false, nil
	}
	vendor := r.vendors[vi]
	rm := &Removal{vendor.ID, r.cats[vendor.Category].ID}
	if !granted.Has(vendor.Category) || refused.has(vi) {
		return "", true, rm
	}
	limit, ok := retention(vendor.Retention)
	if !ok {
		return value, false, nil
	}
	if capped, changed := capLifetime(pair, attrs, limit, now); changed {
		return capped, false, rm
	}
	return value, false, nil
}

// retention reads a rules file retention ("90d", "4w", "2y"; a year is 365
// days).
func retention(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, false
	}
	day := 24 * time.Hour
	switch s[len(s)-1] {
	case 'd':
		return time.Duration(n) * day, true
	case 'w':
		return time.Duration(n) * 7 * day, true
	case 'y':
		return time.Duration(n) * 365 * day, true
	}
	return 0, false
}

// capLifetime rewrites a cookie whose lifetime exceeds limit so that it
// ends at limit: Max-Age takes precedence over Expires in every browser
// (RFC 6265 §5.3 step 3), so one "Max-Age=<limit>" replaces any Max-Age and
// leaves Expires as it was. A cookie that is a deletion (Max-Age <= 0, or
// Expires in the past) or a session cookie stays as it is: capping must
// never revive a cookie nor make a session cookie persistent.
func capLifetime(pair, attrs string, limit time.Duration, now time.Time) (string, bool) {
	maxAge, hasMaxAge := int64(0), false
	var expires time.Time
	hasExpires := false
	for _, a := range strings.Split(attrs, ";") {
		k, v, _ := strings.Cut(a, "=")
		k, v = httpfield.TrimWSP(k), httpfield.TrimWSP(v)
		switch {
		case strings.EqualFold(k, "max-age"):
			// RFC 6265 §5.2.2: a leading '-' or a digit, else ignored.
			if n, ok := parseMaxAge(v); ok {
				maxAge, hasMaxAge = n, true
			}
		case strings.EqualFold(k, "expires"):
			if t, ok := parseCookieDate(v); ok {
				expires, hasExpires = t, true
			}
		}
	}
	secs := int64(limit / time.Second)
	switch {
	case hasMaxAge:
		if maxAge <= secs {
			return "", false
		}
	case hasExpires:
		if !expires.After(now.Add(limit)) {
			return "", false
		}
	default:
		return "", false // a session cookie
	}
	var b strings.Builder
	b.Grow(len(pair) + len(attrs) + 24)
	b.WriteString(pair)
	for _, a := range strings.Split(attrs, ";") {
		k, _, _ := strings.Cut(a, "=")
		if strings.EqualFold(httpfield.TrimWSP(k), "max-age") || httpfield.TrimWSP(a) == "" {
			continue
		}
		b.WriteByte(';')
		b.WriteString(a)
	}
	b.WriteString("; Max-Age=")
	b.WriteString(strconv.FormatInt(secs, 10))
	return b.String(), true
}

// parseMaxAge reads a Max-Age value per RFC 6265 §5.2.2: an optional '-'
// and digits; anything else makes browsers ignore the attribute. Huge values
// saturate.
func parseMaxAge(v string) (int64, bool) {
	neg := strings.HasPrefix(v, "-")
	digits := strings.TrimPrefix(v, "-")
	if digits == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<50 {
			n = n*10 + int64(c-'0')
		}
	}
	if neg {
		return -n, true
	}
	return n, true
}
