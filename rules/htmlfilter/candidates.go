package htmlfilter

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Side loads are the loads an element does without: the image candidates of
// a srcset (img, picture source) or an imagesrcset (link rel=preload), and a
// video's poster. A blocked one goes alone, a candidate with its separating
// comma or the whole attribute, and the element stays with its main load
// (src, href, data), which alone decides whether the element goes. What is
// kept is copied as it came: only byte ranges are dropped.
const sideLoads = 1<<aSrcset | 1<<aImagesrcset | 1<<aPoster

// candidate is one image candidate of a srcset, as offsets into the value,
// split as HTML §4.8.4.3.10 "parse a srcset attribute" does.
type candidate struct {
	url, urlEnd int // the URL, its trailing commas excluded
	end         int // the end of its descriptors: its separating comma, or the end of the value
	next        int // where the search for the next candidate starts
}

// nextCandidate returns the first candidate of s at or after i: URLs are runs
// of non-whitespace, trailing commas end a candidate, descriptors run to a
// comma outside parentheses. ok is false when no candidate is left.
func nextCandidate(s []byte, i int) (c candidate, ok bool) {
	for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
		i++
	}
	if i >= len(s) {
		return c, false
	}
	c.url = i
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	c.urlEnd = i
	for c.urlEnd > c.url && s[c.urlEnd-1] == ',' {
		c.urlEnd--
	}
	if c.urlEnd < i {
		c.end, c.next = c.urlEnd, i
		return c, true
	}
	for depth := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth = 1
		case ')':
			depth = 0
		case ',':
			if depth == 0 {
				c.end, c.next = i, i+1
				return c, true
			}
		}
	}
	c.end, c.next = len(s), len(s)
	return c, true
}

// candidateVerdict asks the policy about candidate c of srcset s, its URL
// and every token of its descriptors. A browser drops a candidate whose
// descriptors are not plain (a number with w, x or h), but a script reading
// the attribute itself may split wider: at JavaScript's whitespace (\v,
// U+00A0) or at the commas inside parentheses, and find a URL there.
func (f *Filter) candidateVerdict(s []byte, c candidate) Verdict {
	if v := f.policy.URL(s[c.url:c.urlEnd]); v.Block {
		return v
	}
	for tok := range bytes.FieldsFuncSeq(s[c.urlEnd:c.end], descriptorSeparator) {
		if plainDescriptor(tok) {
			continue
		}
		if v := f.policy.URL(tok); v.Block {
			return v
		}
	}
	return Verdict{}
}

// descriptorSeparator reports the runes any reader may split a srcset's
// descriptors at: commas, parentheses, and whitespace as JavaScript's \s
// knows it (Unicode's, and U+FEFF), which holds HTML's ASCII whitespace.
func descriptorSeparator(r rune) bool {
	return r == ',' || r == '(' || r == ')' || r == 0xFEFF || unicode.IsSpace(r)
}

// plainDescriptor reports whether tok is a number followed by w, x or h, as
// srcset descriptors are: no reader takes one for a URL.
func plainDescriptor(tok []byte) bool {
	n := len(tok) - 1
	if n < 1 || (tok[n]|0x20 != 'w' && tok[n]|0x20 != 'x' && tok[n]|0x20 != 'h') {
		return false
	}
	for _, b := range tok[:n] {
		if (b < '0' || b > '9') && b != '.' && b != 'e' && b != 'E' && b != '+' && b != '-' {
			return false
		}
	}
	return true
}

// srcset asks about each candidate of a decoded srcset and returns the first
// blocking answer.
func (f *Filter) srcset(s []byte) Verdict {
	for i := 0; ; {
		c, ok := nextCandidate(s, i)
		if !ok {
			return Verdict{}
		}
		if v := f.candidateVerdict(s, c); v.Block {
			return v
		}
		i = c.next
	}
}

// sideSeen follows, over the attributes of one tag, which side load
// attributes (bits by index) have been met, and which went whole the first
// time they were met.
type sideSeen struct{ seen, dropped uint16 }

// trimLoad drops from the held start tag, which stays, what side load
// attribute a (of index i, see sideLoads) loads that the policy blocks. A
// browser takes the first of duplicates (HTML §13.2.5.33): once the first
// went whole, the later ones go too, as removing it would promote the next
// (a load the page did not make); after a kept first, each later one is
// still judged, for any reader that takes another.
func (f *Filter) trimLoad(s *sideSeen, i int, a attr) {
	bit := uint16(1) << i
	first := s.seen&bit == 0
	s.seen |= bit
	if s.dropped&bit != 0 {
		f.dropAttr(a)
		return
	}
	if f.trimValue(i, a) && first {
		s.dropped |= bit
	}
}

// trimValue drops the blocked candidates of a, or a whole, and reports
// whether a went whole.
func (f *Filter) trimValue(i int, a attr) bool {
	if a.val < 0 {
		return false
	}
	raw := f.d[f.tok+int(a.val) : f.tok+int(a.valEnd)]
	if i == aPoster {
		v := f.policy.URL(f.decode(raw))
		if v.Block {
			f.count(v)
			f.dropAttr(a)
		}
		return v.Block
	}
	return f.srcset(f.decode(raw)).Block && f.trimSrcset(a, raw)
}

// dropAttr removes attribute a from the held start tag. An '=' after it
// starts the next attribute's name (a parse error, HTML §13.2.5.32), and
// would become the start of a value of the attribute before a once a is
// gone (§13.2.5.34): a then keeps its name, with an empty value, which
// loads nothing (FuzzFilter found `<img x" data-lazy-src="…" ="/pa>`).
func (f *Filter) dropAttr(a attr) {
	if f.skip == kOther && f.equalsAfter(f.tok+int(a.end)) {
		f.advance(f.tok + int(a.nameEnd))
		f.insert(emptyValue)
		f.dropTo(f.tok + int(a.end))
		return
	}
	f.advance(f.tok + int(a.name))
	f.dropTo(f.tok + int(a.end))
}

var emptyValue = []byte(`=""`)

// equalsAfter reports whether the first byte after whitespace from d[i] on
// is '='.
func (f *Filter) equalsAfter(i int) bool {
	for ; i < len(f.d); i++ {
		if !isSpace(f.d[i]) {
			return f.d[i] == '='
		}
	}
	return false
}

// trimSrcset drops the blocked candidates of srcset attribute a, whose raw
// value is raw: a blocked candidate up to the next candidate's URL, blocked
// candidates at the end from the last kept one's descriptors on, so that the
// kept candidates parse as they did. Without a kept candidate, or if the kept
// bytes would not decode to the kept text (a character reference cut into
// another: "&#44" before "5.png"), the attribute goes, and it reports so.
func (f *Filter) trimSrcset(a attr, raw []byte) bool {
	val, at := raw, []int(nil)
	if bytes.IndexByte(raw, '&') >= 0 || bytes.IndexByte(raw, 0) >= 0 {
		val, at = decodeAt(raw)
	}
	var cuts [][2]int // offsets in val
	from, keptEnd, kept := -1, 0, false
	for i := 0; ; {
		c, ok := nextCandidate(val, i)
		if !ok {
			break
		}
		i = c.next
		if v := f.candidateVerdict(val, c); v.Block {
			f.count(v)
			if from < 0 {
				from = c.url
			}
			continue
		}
		if from >= 0 {
			cuts = append(cuts, [2]int{from, c.url})
			from = -1
		}
		kept, keptEnd = true, c.end
		for keptEnd > c.urlEnd && isSpace(val[keptEnd-1]) {
			keptEnd--
		}
	}
	if from >= 0 {
		cuts = append(cuts, [2]int{keptEnd, len(val)})
	}
	want := without(val, cuts)
	if at != nil {
		for i := range cuts {
			cuts[i] = [2]int{at[cuts[i][0]], at[cuts[i][1]]}
		}
	}
	if !kept || !bytes.Equal(f.decode(without(raw, cuts)), want) || f.srcset(want).Block {
		f.dropAttr(a)
		return true
	}
	for _, c := range cuts {
		f.advance(f.tok + int(a.val) + c[0])
		f.dropTo(f.tok + int(a.val) + c[1])
	}
	return false
}

// without returns a copy of b with the ranges cuts (in order) left out.
func without(b []byte, cuts [][2]int) []byte {
	out := make([]byte, 0, len(b))
	last := 0
	for _, c := range cuts {
		out = append(out, b[last:c[0]]...)
		last = c[1]
	}
	return append(out, b[last:]...)
}

// decodeAt is decode into a new slice that also returns, for each decoded
// byte, the offset in v of the text it came from, and len(v) after the last:
// a cut between two decoded bytes maps to a cut between raw ones.
func decodeAt(v []byte) (out []byte, at []int) {
	for i := 0; i < len(v); {
		start := i
		switch c := v[i]; c {
		case 0:
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
		case '&':
			n, dec := charRef(v[i:])
			if n == 0 {
				out = append(out, '&')
				i++
				break
			}
			out = append(out, dec...)
			i += n
		default:
			out = append(out, c)
			i++
		}
		for len(at) < len(out) {
			at = append(at, start)
		}
	}
	return out, append(at, len(v))
}
