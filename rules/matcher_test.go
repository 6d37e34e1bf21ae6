package rules

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// matchesOf runs m over s as scanScript does, with or without the skip of
// pairs that begin no pattern, and returns where each step with outputs
// ended and in which state.
func matchesOf(m *matcher, s []byte, skip bool) [][2]int32 {
	var out [][2]int32
	row := uint32(0)
	for i := 0; i < len(s); i++ {
		if skip && row == 0 && !m.mayStart(s, i) {
			continue
		}
		row = m.step(row, s[i])
		if row&hasOut != 0 {
			out = append(out, [2]int32{int32(i), m.state(row)})
		}
	}
	return out
}

// TestMatcherSkipFindsTheSame: skipping at the root over pairs of bytes
// that begin no pattern finds every match the plain scan finds, in the
// same states, with the default rules' automaton and with a small one that
// has one-byte patterns.
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
		{"one-byte patterns", newMatcher([]string{"a", "ab", "bc", "abcd", "x.", "d"}), "abcdx.y", false},
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
