package pagecache

import (
	"bytes"
	"sort"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// point is a place in a remembered document where the filter was at an
// htmlfilter.Point, after a cut (cut.go) or at the start. A replay whose
// document differs hands it to the live filter from the last point before
// the difference rather than from its start; a live filter that reaches a
// point's state again, after the same bytes, replays from there.
type point struct {
	in, out int32 // in[:in] was read and out[:out] written there
	at      htmlfilter.Point
	state   int32 // the policy's state there, an index in entry.states
	events  int32 // the removals before it: entry.events[:events]
}

// cutRef finds the points after cuts by their window's hash; sorted by
// hash, then place.
type cutRef struct {
	h  uint64
	pt int32
}

// maxStates bounds the distinct policy states a recording keeps points
// for: a page changes its policy's state once or twice (its base).
const maxStates = 8

// resumeTries bounds the places a live filter is stopped at to look for a
// point in one document: each costs a write of its own.
const resumeTries = 64

// candidate returns the point after a cut whose window hashes to h and
// equals w, nearest to the place expected; -1 if there is none.
func (e *entry) candidate(h uint64, w []byte, expected int) int32 {
	i := sort.Search(len(e.cuts), func(i int) bool {
		c := e.cuts[i]
		return c.h > h || c.h == h && int(e.points[c.pt].in) >= expected
	})
	best, dist := int32(-1), 0
	for _, j := range []int{i - 1, i} {
		if j < 0 || j >= len(e.cuts) || e.cuts[j].h != h {
			continue
		}
		pt := e.cuts[j].pt
		in := int(e.points[pt].in)
		if !bytes.Equal(e.in[in-window:in], w) {
			continue
		}
		if d := max(in-expected, expected-in); best < 0 || d < dist {
			best, dist = pt, d
		}
	}
	return best
}

// lastPoint returns the last point at or before in[:upto] from which a
// live filter at point base may go on, with the policy in state (-1: any
// state, the policy being put in it).
func (e *entry) lastPoint(upto int, base, state int32) int32 {
	i := int32(sort.Search(len(e.points), func(i int) bool { return int(e.points[i].in) > upto })) - 1
	for steps := 0; i > base && steps < 64; i, steps = i-1, steps+1 {
		if state < 0 || e.points[i].state == state {
			return i
		}
	}
	return base
}

// marksTo returns how many marks are at or before in[:in].
func (e *entry) marksTo(in int) int { return e.marksFrom(0, in) }

// marksFrom is marksTo for a caller who knows that marks[:from] are at or
// before in[:in]. A replay passes thousands of marks in one write of a
// large page: a search reads a few of them, a walk all.
func (e *entry) marksFrom(from, in int) int {
	return from + sort.Search(len(e.marks)-from, func(i int) bool { return int(e.marks[from+i].in) > in })
}

// countEvents counts on f the removals events[from:to].
func (e *entry) countEvents(f *htmlfilter.Filter, from, to int32) {
	for _, i := range e.events[from:to] {
		f.CountRemoved(e.removed[i].Vendor, e.removed[i].Category, 1)
	}
}
