package htmlfilter

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Unquoted attribute values (URLs, ids) can be long; the scan over them looks
// at eight bytes per step (SWAR): a word is tested for any byte <= 0x20 (HTML
// whitespace is among them) or equal to one of three delimiters, and only a
// hit is looked at byte by byte. Names are short: measured, a byte loop beats
// this for them on the pages in ../shared/corpus, so the fast path uses one.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// A byteSet is a set of delimiters: a lookup table for the exact test and
// the broadcast words of up to three delimiter bytes besides whitespace.
type byteSet struct {
	in      [256]bool
	a, b, c uint64
}

func newByteSet(delims string) *byteSet {
	s := &byteSet{}
	for _, c := range []byte(" \t\n\f\r" + delims) {
		s.in[c] = true
	}
	w := [3]uint64{}
	for i := range w {
		w[i] = lsb * uint64(delims[min(i, len(delims)-1)])
	}
	s.a, s.b, s.c = w[0], w[1], w[2]
	return s
}

var (
	tagNameEnd  = newByteSet("/>")  // HTML §13.2.5.8 tag name state
	attrNameEnd = newByteSet("/>=") // §13.2.5.33 attribute name state
	unquotedEnd = newByteSet(">")   // §13.2.5.38 attribute value (unquoted) state
)

// zeroBytes flags (in the byte's high bit) a zero byte of v; the lowest flag
// is always exact.
func zeroBytes(v uint64) uint64 { return (v - lsb) &^ v & msb }

// span returns the offset of the first byte at or after i that is in s, or
// len(d).
func span(d []byte, i int, s *byteSet) int {
	for i+8 <= len(d) {
		x := binary.LittleEndian.Uint64(d[i:])
		// Bytes below 0x21 (among bytes below 0x80), or one of the delimiters.
		m := (x-lsb*0x21)&^x&msb | zeroBytes(x^s.a) | zeroBytes(x^s.b) | zeroBytes(x^s.c)
		if m == 0 {
			i += 8
			continue
		}
		j := i + bits.TrailingZeros64(m)>>3
		if s.in[d[j]] {
			return j
		}
		i = j + 1 // a control byte that is not whitespace: go on
	}
	for i < len(d) && !s.in[d[i]] {
		i++
	}
	return i
}

// anyOf4 reports whether b holds a '"', '\”, '(' or '&'. Four IndexByte
// calls (vector instructions) beat one pass of word-at-a-time tests here.
func anyOf4(b []byte) bool {
	return bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\'') >= 0 ||
		bytes.IndexByte(b, '(') >= 0 || bytes.IndexByte(b, '&') >= 0
}

// hasFold reports whether d[i:end] contains the lowercase ASCII word w,
// ASCII case-insensitively. It looks with IndexByte (vector instructions)
// for w[at] in either case, a letter chosen to be rare in attribute values
// ('g' of ping, 'k' of background: URLs are full of p, i, n), and compares
// each candidate.
func hasFold(d []byte, i, end int, w string, at int) bool {
	for _, c := range [2]byte{w[at], w[at] - 'a' + 'A'} {
		for j := i + at; j < end; j++ {
			k := bytes.IndexByte(d[j:end], c)
			if k < 0 {
				break
			}
			j += k
			if foldAt(d, j-at, end, w) {
				return true
			}
		}
	}
	return false
}

// foldAt reports whether w stands at d[s:] wholly before end.
func foldAt(d []byte, s, end int, w string) bool {
	return s >= 0 && s+len(w) <= end && eqFold(d[s:s+len(w)], w)
}
