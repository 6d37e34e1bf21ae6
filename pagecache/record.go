package pagecache

import (
	"bytes"
	"slices"
)

// startRecording makes r record its document, which it may.
func (r *Filter) startRecording(doc Document) {
	r.mode = recording
	// The copies go into the cache: fresh ones each time.
	size := markStep
	if doc.Length > 0 {
		size = int(doc.Length)
	}
	r.in = make([]byte, 0, size)
	out := make([]byte, 0, size)
	r.out.copy = &out
	r.f.Journal(&r.journal)
	r.f.Trace(&r.trace)
	// The start is a point whatever the filter: one that has no points
	// (XML) is handed a document from its start.
	_, ok := r.f.At()
	r.pointless = !ok
	r.sbuf = r.p.AppendState(r.sbuf[:0])
	r.states = append(r.states, bytes.Clone(r.sbuf))
	r.points = append(r.points, point{})
}

// record filters p and copies it, with a mark at each cut and every
// markStep bytes, and writes on the output p made.
func (r *Filter) record(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && r.mode == recording {
		k := min(len(p), markStep)
		r.in = append(r.in, p[:k]...)
		if err := r.feedRecorded(); err != nil {
			_ = r.out.sendCopy() // what the filter wrote before its error, as live
			r.abandon()
			return 0, err
		}
		p = p[k:]
		if len(r.in) > r.c.maxDoc {
			// Too long to remember: not worth trying again soon.
			r.c.leaveAlone(r.h, r.key, r.misses+1)
			err := r.out.sendCopy()
			r.abandon()
			if err != nil {
				return 0, err
			}
		}
	}
	if err := r.out.sendCopy(); err != nil {
		r.abandon()
		return 0, err
	}
	if len(p) > 0 {
		if err := r.feed(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// feedRecorded gives the filter in[fed:] a piece at a time, with a mark
// after each: to each cut, where a point may be; to the first '>' a
// pointStep after the last point, and to each script's start tag, where
// one may be too, so that a replay that differs hands over from no
// further back than need be (a script's nonce or token is the common
// difference); and at most markStep bytes.
func (r *Filter) feedRecorded() error {
	for r.fed < len(r.in) {
		end, h := nextCut(r.in, r.fed)
		if r.pointless {
			end = -1
		}
		cut := end >= 0 && end-r.fed <= markStep
		if !cut {
			end = min(len(r.in), r.fed+markStep)
		}
		last := int(r.points[len(r.points)-1].in)
		point := false
		if !r.pointless {
			end, cut, point = r.pointBefore(last, end, cut)
		}
		if err := r.feed(r.in[r.fed:end]); err != nil {
			return err
		}
		r.fed = end
		r.marks = append(r.marks, mark{int32(end), int32(len(*r.out.copy))})
		if cut || point {
			r.addPoint(end, h, cut)
		}
	}
	return nil
}

// pointBefore moves the end of the next piece, in[fed:end], to the start
// of a script's start tag in it, or else to the first '>' a pointStep
// after the last point, where a point may be; point says so. Where the
// filter is not at a point (an SVG, a script), a '>' every 64 bytes is
// tried, not each.
func (r *Filter) pointBefore(last, end int, cut bool) (int, bool, bool) {
	if i := bytes.Index(r.in[r.fed+1:end], []byte("<script")); i >= 0 {
		return r.fed + 1 + i, false, true
	}
	from := max(last+pointStep, r.fed+64)
	if from < end {
		if i := bytes.IndexByte(r.in[from:end], '>'); i >= 0 && from+i+1 < end {
			return from + i + 1, false, true
		}
	}
	return end, cut, !cut && r.in[end-1] == '>' && end >= last+pointStep
}

// addPoint records a point after in[:in], where the recording's filter
// is, if the filter is at one there.
func (r *Filter) addPoint(in int, h uint64, cut bool) {
	at, ok := r.f.At()
	if !ok || r.check.Pending() {
		return
	}
	r.sbuf = r.p.AppendState(r.sbuf[:0])
	state := slices.IndexFunc(r.states, func(s []byte) bool { return bytes.Equal(s, r.sbuf) })
	if state < 0 {
		if len(r.states) == maxStates {
			return
		}
		state = len(r.states)
		r.states = append(r.states, bytes.Clone(r.sbuf))
	}
	pt := point{in: int32(in), out: int32(len(*r.out.copy)), at: at, state: int32(state), events: int32(len(r.journal))}
	if cut {
		r.cuts = append(r.cuts, cutRef{h, int32(len(r.points))})
	}
	r.points = append(r.points, pt)
}

// recorded is the entry a recording that ended well makes. What it
// gathered by appending is copied to its length: the cache holds it long.
func (r *Filter) recorded() *entry {
	e := &entry{
		key: bytes.Clone(r.key), in: r.in, out: *r.out.copy, misses: r.misses,
		marks: slices.Clone(r.marks), points: slices.Clone(r.points), cuts: slices.Clone(r.cuts),
		states: r.states, events: slices.Clone(r.journal),
		removed: slices.Clone(r.f.Removed()),
		spans:   resolveSpans(r.in, r.trace.Values, r.trace.Runs),
	}
	sortCuts(e)
	return e
}

// sortCuts orders cuts for candidate.
func sortCuts(e *entry) {
	slices.SortFunc(e.cuts, func(a, b cutRef) int {
		if a.h != b.h {
			if a.h < b.h {
				return -1
			}
			return 1
		}
		return int(e.points[a.pt].in - e.points[b.pt].in)
	})
}
