package rules

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// pairNames lists the trimmed names of a Cookie line's pairs, skipping empty
// segments, as a server reads them.
func pairNames(line string) []string {
	var out []string
	for _, seg := range strings.Split(line, ";") {
		if httpfield.TrimWSP(seg) == "" {
			continue
		}
		n, _, _ := strings.Cut(seg, "=")
		out = append(out, httpfield.TrimWSP(n))
	}
	return out
}

// FuzzCookieHeader: no denied tracking cookie survives, every other pair does,
// in order and unchanged, and a second pass changes nothing.
func FuzzCookieHeader(f *testing.F) {
	for _, s := range []string{"", "session=abc; _ga=GA1.2.3.4; theme=dark", "_ga=1;_fbp=2", " ;;_gid=1 ; a", "a=1;  _gcl_au =x; b=\"q;\"", "_hjx=1;\t_uet=2; li_at=3;x"} {
		f.Add(s, byte(0))
	}
	r := Default()
	f.Fuzz(func(t *testing.T, line string, grant byte) {
		granted := Set(grant)&r.AllCategories() | 1<<Necessary
		out, removed := r.FilterCookieHeader(line, granted, nil, nil)
		var want []string
		for _, seg := range strings.Split(line, ";") {
			if httpfield.TrimWSP(seg) == "" {
				continue
			}
			n, _, _ := strings.Cut(seg, "=")
			if _, deny := r.deniedCookie(httpfield.TrimWSP(n), granted, nil); !deny {
				want = append(want, httpfield.TrimWSP(seg))
			}
		}
		var got []string
		for _, seg := range strings.Split(out, ";") {
			if httpfield.TrimWSP(seg) != "" {
				got = append(got, httpfield.TrimWSP(seg))
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("FilterCookieHeader(%q) = %q: pairs %q, want %q", line, out, got, want)
		}
		if len(removed) != len(pairNames(line))-len(pairNames(out)) {
			t.Fatalf("%d removals reported for %q → %q", len(removed), line, out)
		}
		if again, rm := r.FilterCookieHeader(out, granted, nil, nil); again != out || len(rm) != 0 {
			t.Fatalf("not idempotent: %q → %q → %q", line, out, again)
		}
	})
}

// FuzzSetCookie: a denied tracking cookie is dropped, anything else is kept,
// and a rewritten header names the same cookie and lives no longer than the
// vendor's retention.
func FuzzSetCookie(f *testing.F) {
	for _, s := range []string{"_ga=1; Path=/; Max-Age=99999999", "_fbp=1; Expires=Fri, 01 Jan 2038 00:00:00 GMT", "session=1; Max-Age=9", "_ga=; Max-Age=0", "=x; Max-Age=1", "_ga=1; max-age=-1; Max-Age=99999999999999999999"} {
		f.Add(s, byte(0))
	}
	r := Default()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, grant byte) {
		granted := Set(grant)&r.AllCategories() | 1<<Necessary
		out, drop, _ := r.SetCookie(v, granted, nil, now)
		pair, _, _ := strings.Cut(v, ";")
		name, _, hasEq := strings.Cut(pair, "=")
		_, deny := r.deniedCookie(httpfield.TrimWSP(name), granted, nil)
		if drop != (deny && hasEq) {
			t.Fatalf("SetCookie(%q): drop %v, denied %v", v, drop, deny)
		}
		if drop || out == v {
			return
		}
		if !strings.HasPrefix(out, pair) {
			t.Fatalf("SetCookie(%q) = %q: the pair changed", v, out)
		}
		c := (&http.Response{Header: http.Header{"Set-Cookie": {out}}}).Cookies()
		limit, _ := retention(r.vendors[r.cookieVendor(httpfield.TrimWSP(name))].Retention)
		if len(c) == 1 && (c[0].MaxAge <= 0 || time.Duration(c[0].MaxAge)*time.Second > limit) {
			t.Fatalf("SetCookie(%q) = %q: Max-Age %d, limit %v", v, out, c[0].MaxAge, limit)
		}
	})
}

// FuzzParams: Strip's output is the input without whole removed pairs, in
// order and byte for byte, joined as they were sent; it removes exactly the
// pairs whose name a parser reads as a click id (by paramNames, written
// plainly); and stripping again changes nothing. StripLenient likewise for
// pairs split at ';' too.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"", "q=1&gclid=2", "gcl%69d=1;x=2", "&&fbclid&", "utm_source=a&utm_x=b&q=c", "%zz=1&gclid%3d=2",
		"a=1;gclid=x;b=2", "gclid[]=1&li.fat.id=2", "+%20gclid%00x[=1", "li[fat.id&q", "[gclid]=1&gclid["} {
		f.Add(s)
	}
	p := NewParams(append(slices.Clone(testClickIDs), "utm_*"))
	listed := func(pair string) bool {
		name, _, _ := strings.Cut(pair, "=")
		for _, n := range paramNames(name) {
			if p.exact[n] != 0 || strings.HasPrefix(n, "utm_") {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, n := p.Strip(raw)
		var kept []string
		for _, pair := range strings.Split(raw, "&") {
			if !listed(pair) {
				kept = append(kept, pair)
			}
		}
		if want, wantN := strings.Join(kept, "&"), len(strings.Split(raw, "&"))-len(kept); out != want || n != wantN {
			t.Fatalf("Strip(%q) = %q, %d; want %q, %d", raw, out, n, want, wantN)
		}
		if again, m := p.Strip(out); again != out || m != 0 {
			t.Fatalf("Strip(%q) = %q, then %q, %d", raw, out, again, m)
		}
		lenient, ln := p.StripLenient(raw)
		isSep := func(r rune) bool { return r == '&' || r == ';' }
		var keptLenient []string
		for _, pair := range splitKeepEmpty(raw, isSep) {
			if !listed(pair) {
				keptLenient = append(keptLenient, pair)
			}
		}
		got := splitKeepEmpty(lenient, isSep)
		if lenient != "" && !slices.Equal(got, keptLenient) || lenient == "" && len(keptLenient) > 1 ||
			ln != len(splitKeepEmpty(raw, isSep))-len(keptLenient) {
			t.Fatalf("StripLenient(%q) = %q, %d: pairs %q, want %q", raw, lenient, ln, got, keptLenient)
		}
		if again, m := p.StripLenient(lenient); again != lenient || m != 0 {
			t.Fatalf("StripLenient(%q) = %q, then %q, %d", raw, lenient, again, m)
		}
	})
}

// splitKeepEmpty splits s at every separator, keeping empty pairs.
func splitKeepEmpty(s string, sep func(rune) bool) []string {
	var out []string
	start := 0
	for i, r := range s {
		if sep(r) {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// paramNames is how the parsers Params.match follows read a raw name,
// written plainly with whole strings: as it is, as Rack reads it, as PHP
// reads it.
func paramNames(raw string) []string {
	var dec []byte
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '+' {
			c = ' '
		} else if c == '%' && i+2 < len(raw) {
			if b, err := hex.DecodeString(raw[i+1 : i+3]); err == nil {
				c = b[0]
				i += 2
			}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dec = append(dec, c)
	}
	name := string(dec)
	names := []string{name}
	if i := strings.IndexByte(name, '['); i > 0 {
		names = append(names, name[:i])
	}
	php, _, _ := strings.Cut(name, "\x00")
	php = strings.TrimLeft(php, " ")
	php = strings.NewReplacer(" ", "_", ".", "_").Replace(php)
	switch i := strings.IndexByte(php, '['); {
	case i == 0:
		php = ""
	case i > 0 && strings.Contains(php[i:], "]"):
		php = php[:i]
	case i > 0:
		php = strings.ReplaceAll(php, "[", "_")
	}
	return append(names, php)
}
