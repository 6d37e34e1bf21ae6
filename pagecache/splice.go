package pagecache

import (
	"sort"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// A page rendered per request differs from the last rendering mostly in
// values that the filter does not read: a script's nonce, a CSRF token in
// a meta tag or a hidden field, a cart count in text. The recording notes
// where each such value was in the document and where it went in the
// output (htmlfilter.Trace). A replay that finds its document different
// inside one writes the new bytes where the old ones went and goes on
// replaying: the live filter, given the same bytes, would have decided the
// same and written them in the same place. A new value must be as long as
// the old one, so that every offset of the remembered document holds, and
// of printable ASCII without its quote byte ('<' for text), so that it
// ends where the old one did and is valid UTF-8 in any piece.
//
// The text of an inline script the policy let through is such a value too
// (a page's config with its token), but one that the policy reads: a new
// text is written in only if it has no '<' (which could end the script or
// start a comment) and the policy, judging it again (ScriptJudge), lets it
// through as it did the old one.

// span is an unread value of a remembered document: in[in:in+n], between
// two quote bytes (text: before a '<'), written at out[out:out+n], or
// nowhere (out < 0: its element or attribute was removed).
type span struct {
	in, out, n int32
	quote      byte
}

// patch is a stretch of a document that differs from the remembered one
// inside a span: its bytes are patchBuf[at:at+n], in place of in[in:] and
// of out[out:] (out < 0: not written).
type patch struct{ in, out, n, at int32 }

const (
	maxSpan       = 1 << 10 // longer values are not spliced
	maxScriptSpan = 8 << 10 // nor longer scripts
	maxPatches    = 64      // a document with more differences than this goes live
)

// ScriptJudge is a Policy that can judge an inline script's text apart from
// the place in the document where it is: JudgeScript gives the verdict
// Script would give the text, without changing the policy's state. A
// replay writes a script's new text in only with a policy that is one.
type ScriptJudge interface {
	JudgeScript(text []byte) htmlfilter.Verdict
}

// resolveSpans finds where the unread values of a recording of in went in
// its output: inside a run written unchanged (an attribute's closing quote
// included), or nowhere. A value written in part is not a span, nor one
// with a byte beyond ASCII: a new byte in place of part of a UTF-8
// sequence would leave the rest of it invalid, unchecked.
func resolveSpans(in []byte, values []htmlfilter.Value, runs []htmlfilter.Run) []span {
	var spans []span
	j := 0
	for _, v := range values {
		limit := maxSpan
		if v.Quote == htmlfilter.ScriptText {
			limit = maxScriptSpan
		}
		if v.N == 0 || v.N > limit || !ascii(in[v.In:v.In+int64(v.N)]) {
			continue
		}
		end := v.In + int64(v.N)
		if v.Quote != '<' && v.Quote != htmlfilter.ScriptText {
			end++ // the closing quote too: the value is not the end of a run
		}
		for j < len(runs) && runs[j].In+int64(runs[j].N) <= v.In {
			j++
		}
		s := span{in: int32(v.In), out: -1, n: int32(v.N), quote: v.Quote}
		if j < len(runs) && runs[j].In < end {
			run := runs[j]
			if run.In > v.In || run.In+int64(run.N) < end {
				continue
			}
			s.out = int32(run.Out + v.In - run.In)
		}
		if n := len(spans); n > 0 && spans[n-1].in+spans[n-1].n > s.in {
			continue
		}
		spans = append(spans, s)
	}
	return spans
}

// ascii reports whether b has no byte beyond ASCII.
func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// spanAt returns the span that holds in[x], if any.
func (e *entry) spanAt(x int) (span, bool) {
	i := sort.Search(len(e.spans), func(i int) bool { return int(e.spans[i].in+e.spans[i].n) > x })
	if i < len(e.spans) && int(e.spans[i].in) <= x {
		return e.spans[i], true
	}
	return span{}, false
}

// take returns how much of p, the document's next bytes, the replay takes:
// bytes equal to the remembered ones, and new values spliced in.
func (r *Filter) take(p []byte) int {
	m := 0
	if r.judge.n > 0 && len(p) > 0 {
		// The rest of a script's text, whether it differs or not: the
		// text is judged whole before what follows it is taken.
		if m = r.spliceScript(p, 0, r.judge); m == 0 {
			return 0
		}
	}
	m += equalPrefix(p[m:], r.e.in[r.read+m:])
	for m < len(p) && r.read+m < len(r.e.in) {
		k := r.splice(p, m)
		if k == 0 {
			break
		}
		m += k
		m += equalPrefix(p[m:], r.e.in[r.read+m:])
	}
	return m
}

// splice takes p[m:], which differs from the remembered document at its
// first byte, as new bytes of the value there, up to the value's end or
// p's, and returns how many it took: 0 where there is no value there or
// a byte it may not take.
func (r *Filter) splice(p []byte, m int) int {
	x := r.read + m
	s, ok := r.e.spanAt(x)
	if !ok || len(r.patches) == maxPatches {
		return 0
	}
	if s.quote == htmlfilter.ScriptText {
		return r.spliceScript(p, m, s)
	}
	k := min(len(p)-m, int(s.in+s.n)-x)
	for _, c := range p[m : m+k] {
		if c < ' ' || c > '~' || c == s.quote {
			return 0
		}
	}
	r.addPatch(p[m:m+k], x, s)
	return k
}

// spliceScript is splice in the text of script s: from the first byte that
// differs it takes the rest of the text, up to p's end if the text goes on
// in a later write, and once it has the whole new text it asks the policy:
// a text it does not let through is not taken. The bytes that differ must
// be printable ASCII other than '<'. Until the judgement the replay writes
// nothing of the script: it holds it, as the filter did (no mark of the
// recording is inside a script's output).
func (r *Filter) spliceScript(p []byte, m int, s span) int {
	judge, ok := r.p.(ScriptJudge)
	if !ok {
		return 0
	}
	x, end := r.read+m, int(s.in+s.n)
	k := min(end-x, len(p)-m)
	for i, c := range p[m : m+k] {
		if c != r.e.in[x+i] && (c < ' ' || c > '~' || c == '<') {
			return 0
		}
	}
	before := r.splicing()
	r.addPatch(p[m:m+k], x, s)
	if x+k < end {
		r.judge = s
		return k
	}
	r.judge = span{}
	// The patch holds the text from its first difference on, the
	// remembered document what comes before.
	pc := r.patches[len(r.patches)-1]
	r.judged = append(append(r.judged[:0], r.e.in[s.in:pc.in]...), r.patchBuf[pc.at:pc.at+pc.n]...)
	if judge.JudgeScript(r.judged).Block {
		r.undo(before)
		return 0
	}
	return k
}

// addPatch writes b in place of in[x:] of span s.
func (r *Filter) addPatch(b []byte, x int, s span) {
	k := len(b)
	out := int32(-1)
	if s.out >= 0 {
		out = s.out + int32(x) - s.in
	}
	r.patchBuf = append(r.patchBuf, b...)
	if n := len(r.patches) - 1; n >= 0 && r.patches[n].in+r.patches[n].n == int32(x) {
		// The value goes on from the last write (spans never touch: a
		// quote or a '<' lies between two), so its output does too.
		r.patches[n].n += int32(k)
		return
	}
	r.patches = append(r.patches, patch{in: int32(x), out: out, n: int32(k), at: int32(len(r.patchBuf) - k)})
	r.splices++
}

// splicing is where a replay's splicing stands, to go back to (undo).
type splicing struct {
	patches, bytes, splices int
	lastN                   int32 // the last patch's length: a write may lengthen it
	judge                   span
}

func (r *Filter) splicing() splicing {
	s := splicing{patches: len(r.patches), bytes: len(r.patchBuf), splices: r.splices, judge: r.judge}
	if s.patches > 0 {
		s.lastN = r.patches[s.patches-1].n
	}
	return s
}

// undo takes back what was spliced since s.
func (r *Filter) undo(s splicing) {
	r.patches, r.patchBuf, r.splices = r.patches[:s.patches], r.patchBuf[:s.bytes], s.splices
	if s.patches > 0 {
		r.patches[s.patches-1].n = s.lastN
	}
	r.judge = s.judge
}

// emit writes the remembered output up to o, with the spliced values in
// their place.
func (r *Filter) emit(o int) error {
	if len(r.patches) == 0 && r.written < o {
		_, err := r.out.next.Write(r.e.out[r.written:o])
		r.written = o
		return err
	}
	for r.written < o {
		for r.emitted < len(r.patches) {
			pc := r.patches[r.emitted]
			if pc.out >= 0 && int(pc.out+pc.n) > r.written {
				break
			}
			r.emitted++
		}
		b := r.e.out[r.written:o]
		if r.emitted < len(r.patches) {
			pc := r.patches[r.emitted]
			if at := int(pc.out); at > r.written {
				b = r.e.out[r.written:min(o, at)]
			} else {
				from := int(pc.at) + r.written - at
				b = r.patchBuf[from : int(pc.at)+min(int(pc.n), o-at)]
			}
		}
		if _, err := r.out.next.Write(b); err != nil {
			r.written = o
			return err
		}
		r.written += len(b)
	}
	return nil
}

// withPatches returns src[from:to], of the remembered input (input) or
// output, as this document has it: with the patches in that stretch
// applied, in a copy in *buf if there are any.
func (r *Filter) withPatches(buf *[]byte, src []byte, from, to int, input bool) []byte {
	b := src[from:to]
	copied := false
	for _, pc := range r.patches {
		at := int(pc.out)
		if input {
			at = int(pc.in)
		}
		lo, hi := max(at, from), min(at+int(pc.n), to)
		if at < 0 || lo >= hi {
			continue
		}
		if !copied {
			*buf = append((*buf)[:0], b...)
			b, copied = *buf, true
		}
		copy(b[lo-from:hi-from], r.patchBuf[int(pc.at)+lo-at:])
	}
	return b
}

// Spliced reports how many pieces of unread values a replay wrote anew.
func (r *Filter) Spliced() int { return r.splices }
