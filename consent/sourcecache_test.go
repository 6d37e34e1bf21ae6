package consent

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

// sourceCases are values of every cached source, well formed and not.
var sourceCases = []struct{ source, name, value string }{
	{SourceCookieConsent, "cc_cookie", ccV3},
	{SourceCookieConsent, "cc_cookie", ccV2},
	{SourceCookieConsent, "cc_cookie", `{"categories":`},
	{SourceKlaro, "klaro", url.PathEscape(`{"googleAnalytics":true,"facebook":false,"youtube":true}`)},
	{SourceKlaro, "klaro", `{"stats":true,"fbq":false}`},
	{SourceCookiebot, "CookieConsent", cookiebotStats},
	{SourceCookiebot, "CookieConsent", "-1"},
	{SourceOneTrust, "OptanonConsent", oneTrust},
	{SourceOneTrust, "OptanonConsent", "isGpcEnabled=0&version=1"},
	{SourceCookieYes, "cookieyes-consent", cookieYes},
	{SourceTCF, "euconsent-v2", tcVectors[0].s},
	{SourceTCF, "euconsent-v2", "not a tc string"},
}

// TestSourceCache: a cached reading is the reading, for every source, on
// the first sighting and on later ones; and an entry never answers for
// another source or another name map (an operator's `map` changes what a
// value means).
func TestSourceCache(t *testing.T) {
	r, sc := newTestCache(t)
	plain := defaultReader()
	maps := []*NameMap{nil, r.NewNameMap(map[string]rules.Category{"stats": rules.Analytics, "fbq": rules.Advertising}),
		r.NewNameMap(map[string]rules.Category{"stats": rules.Advertising, "fbq": rules.Analytics})}
	for round := range 3 {
		for _, m := range maps {
			for _, tc := range sourceCases {
				mm := m
				if mm == nil {
					mm = &NameMap{rules: r.rules}
				}
				pm := &NameMap{rules: plain.rules, operator: mm.operator}
				want, wantOK := plain.ReadSource(tc.source, tc.name, tc.value, pm)
				got, ok := r.readSource(sc, tc.source, tc.name, tc.value, mm)
				if !reflect.DeepEqual(got, want) || ok != wantOK {
					t.Errorf("round %d, map %d, %s %.30q: %+v %v, want %+v %v", round, mm.id, tc.source, tc.value, got, ok, want, wantOK)
				}
			}
		}
		sc.c.Wait() // ristretto admits sets asynchronously
	}
	// The doorkeeper is direct-mapped: another case may share the
	// value's slot by chance and keep it out above. Read twice in a row,
	// a value is admitted.
	defaults := &NameMap{rules: r.rules}
	r.readSource(sc, SourceOneTrust, "OptanonConsent", oneTrust, defaults)
	r.readSource(sc, SourceOneTrust, "OptanonConsent", oneTrust, defaults)
	sc.c.Wait()
	if _, ok := sc.c.Get(sc.c.KeyString(oneTrust)); !ok {
		t.Error("a value read twice in a row is not in the cache")
	}
	// The two operator maps read the same Klaro value differently, and
	// each got its own answer above; check it once more by the signals.
	h := http.Header{"Cookie": {"klaro=" + url.PathEscape(`{"stats":true,"fbq":false}`)}}
	a := r.Read(h, Config{Sources: []Source{{Name: SourceKlaro}}, Names: maps[1]})
	b := r.Read(h, Config{Sources: []Source{{Name: SourceKlaro}}, Names: maps[2]})
	if a.Granted == b.Granted {
		t.Errorf("two name maps, one answer: %v", a.Granted)
	}
}

// BenchmarkSourceCache: a consent tool's cookie read uncached, on a cache
// hit, and on a first sighting (the reading plus the insertion).
func BenchmarkSourceCache(b *testing.B) {
	r, sc := newTestCache(b)
	m := &NameMap{rules: r.rules}
	for _, tc := range []struct{ source, name, value, id string }{
		// id: a part of the value unique to each visitor (its consent id).
		{SourceOneTrust, "OptanonConsent", oneTrust, "0d8c5d3e"},
		{SourceCookieConsent, "cc_cookie", ccV3, "5c4b6c1e"},
		{SourceTCF, "euconsent-v2", tcVectors[0].s, ""},
	} {
		b.Run(tc.source+"/uncached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.ReadSource(tc.source, tc.name, tc.value, m)
			}
		})
		b.Run(tc.source+"/hit", func(b *testing.B) {
			r.readSource(sc, tc.source, tc.name, tc.value, m)
			sc.c.Wait()
			b.ReportAllocs()
			for b.Loop() {
				r.readSource(sc, tc.source, tc.name, tc.value, m)
			}
		})
		if tc.id == "" {
			continue
		}
		b.Run(tc.source+"/first-sighting", func(b *testing.B) {
			// Another visitor's value each time: the reading, and the
			// insertion.
			vals := make([]string, 1<<16)
			for i := range vals {
				vals[i] = strings.Replace(tc.value, tc.id, fmt.Sprintf("%08x", i), 1)
			}
			if _, ok := r.ReadSource(tc.source, tc.name, vals[1], m); !ok {
				b.Fatal("the varied value is malformed")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.readSource(sc, tc.source, tc.name, vals[i%len(vals)], m)
				i++
			}
		})
	}
}

// newTestCache is a reader over a copy of the default rules and a source
// cache of its own, as the handler has them; the test closes it.
func newTestCache(t testing.TB) (*Reader, *SourceCache) {
	rs, err := rules.Parse("copy.rules", nil, rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(rs)
	sc, err := r.NewSourceCache(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.Close)
	return r, sc
}
