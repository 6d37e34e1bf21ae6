package pagecache

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCutsWhateverTheWrites: a stream written in any pieces has the cuts
// of the whole document, windows that straddle two writes included: a
// live document and its remembered copy are cut alike however they
// arrive.
func TestCutsWhateverTheWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var doc []byte
	for i := range 2000 {
		doc = append(doc, "<p class=x"...)
		doc = append(doc, byte('a'+rng.IntN(26)), byte('0'+i%10))
		doc = append(doc, '>')
	}
	var want []int
	for end := 0; ; {
		e, h := nextCut(doc, end)
		if e < 0 {
			break
		}
		if !isCut(h) || doc[e-1] != '>' || windowHash(doc[e-window:e]) != h {
			t.Fatalf("cut at %d is no cut", e)
		}
		want = append(want, e)
		end = e
	}
	if len(want) < 2000/cutMask/2 {
		t.Fatalf("%d cuts in 2000 '>'", len(want))
	}
	for range 20 {
		var got []int
		var tl tail
		var buf [window]byte
		for at := 0; at < len(doc); {
			p := doc[at:min(len(doc), at+1+rng.IntN(40))]
			for i, c := range p {
				end := i + 1
				if c != '>' || at+end < window {
					continue
				}
				w, ok := tl.windowBefore(&buf, p, end)
				if !ok {
					t.Fatalf("no window at %d", at+end)
				}
				if !bytes.Equal(w, doc[at+end-window:at+end]) {
					t.Fatalf("window at %d: %q, want %q", at+end, w, doc[at+end-window:at+end])
				}
				if isCut(windowHash(w)) {
					got = append(got, at+end)
				}
			}
			tl.add(p)
			at += len(p)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("cuts of a stream in pieces: %v, want %v", got, want)
		}
	}
}
