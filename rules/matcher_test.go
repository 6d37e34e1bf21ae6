package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// matchesOf runs m over s as scanScript does, with or without the skip of
// positions where no pattern begins, and returns each pattern found with
// the index of its last byte.
func matchesOf(m *matcher, s []byte, skip bool) [][2]int32 {
	var out [][2]int32
	row := uint32(0)
	for i := 0; i < len(s); i++ {
		if skip && row == 0 && !(m.pairStarts(s, i) && m.quadStarts(s, i)) {
			continue
		}
		row = m.step(row, s[i])
		if row&hasOut != 0 {
			st := m.state(row)
			for _, pat := range m.outs[m.outOff[st]:m.outOff[st+1]] {
				out = append(out, [2]int32{int32(i), pat})
			}
		}
	}
	return out
}

// TestMatcherSkipFindsTheSame: skipping at the root over positions where
// no pattern begins finds every match the plain scan finds, with the
// default rules' automaton, with a small one that has patterns of one to
// three bytes, and with one of longer patterns only, over a small alphabet,
// where four bytes rule out many positions that their first two let by.
func TestMatcherSkipFindsTheSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"googletagmanager.com", "connect.facebook.net", "fbq(", "gtag(", "static.hotjar.com",
		"www.google-analytics.com/analytics.js", "snap.licdn.com", "'", "//", ".", "-", "a", "g", "go", "goo",
		"window.__config__={'env':'production'}", " ", "=", "https:", "notfacebook.net", "\xe9", "ｔ"}
	text := func(alphabet string, withPieces bool) []byte {
		var b []byte
		for range rng.IntN(80) {
			if withPieces && rng.IntN(3) == 0 {
				b = append(b, pieces[rng.IntN(len(pieces))]...)
			} else {
				b = append(b, alphabet[rng.IntN(len(alphabet))])
			}
		}
		return b
	}
	for _, tc := range []struct {
		name       string
		m          *matcher
		alphabet   string
		withPieces bool
	}{
		{"default rules", Default().ac, "abcdefghijklmnopqrstuvwxyz0123456789.-/:'()=_ \x80", true},
		{"short patterns", newMatcher([]string{"a", "ab", "bc", "abcd", "x.", "d", "xyz", "yzyz"}), "abcdx.yz", false},
		{"four bytes and more", newMatcher([]string{"abcd", "bcde", "abab", "dddd", "cabcab", "eeeee"}), "abcde", false},
	} {
		found := 0
		for range 20000 {
			s := text(tc.alphabet, tc.withPieces)
			want, got := matchesOf(tc.m, s, false), matchesOf(tc.m, s, true)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %q: skipping finds %v, the plain scan %v", tc.name, s, got, want)
			}
			found += len(want)
		}
		if found == 0 {
			t.Errorf("%s: no text held a pattern", tc.name)
		}
	}
}

// FuzzMatcherSkip: on any text, the scan that skips finds what the plain
// scan finds, with the default rules' automaton.
func FuzzMatcherSkip(f *testing.F) {
	f.Add([]byte(`window.__config__={'env':'production','csrf':'t0k3n-5zqx2c9mv7'};`))
	f.Add([]byte(`(function(w,d,s,l,i){w[l]=w[l]||[];})(window,document,'script','datalayer','gtm-xxxx');`))
	f.Add([]byte(`!function(f,b,e,v,n,t,s){}(window,document,'script','https://connect.facebook.net/en_us/fbevents.js');fbq('init','1');`))
	m := Default().ac
	f.Fuzz(func(t *testing.T, s []byte) {
		if want, got := matchesOf(m, s, false), matchesOf(m, s, true); !slices.Equal(got, want) {
			t.Fatalf("%q: skipping finds %v, the plain scan %v", s, got, want)
		}
	})
}
