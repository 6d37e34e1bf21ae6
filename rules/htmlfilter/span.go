package htmlfilter

import (
	"encoding/binary"
	"math/bits"
)

// Unquoted attribute values (URLs, ids) can be long; the scan over them looks
// at eight bytes per step (SWAR): a word is tested for any byte <= 0x20 (HTML
// whitespace is among them) or equal to one of three delimiters, and only a
// hit is looked at byte by byte. Names are short: measured, a byte loop beats
// this for them on real pages (the benchmark corpus), so the fast path uses one.

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

// spanUnquoted is span(d, i, unquotedEnd) with its one delimiter, '>', as a
// constant: unquoted values are the long URLs of minified pages
// (html-parsing-spec.html), where the three-delimiter test costs.
func spanUnquoted(d []byte, i int) int {
	const gt = lsb * '>'
	for i+8 <= len(d) {
		x := binary.LittleEndian.Uint64(d[i:])
		m := (x-lsb*0x21)&^x&msb | zeroBytes(x^gt)
		if m == 0 {
			i += 8
			continue
		}
		j := i + bits.TrailingZeros64(m)>>3
		if unquotedEnd.in[d[j]] {
			return j
		}
		i = j + 1
	}
	for i < len(d) && !unquotedEnd.in[d[i]] {
		i++
	}
	return i
}

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
