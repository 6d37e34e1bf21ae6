package pagecache

import "bytes"

// handOver gives the document to the live filter, from the last point
// before read: the filter, which is at point base, is put at that point's
// state, counts what the replay removed since base, and reads the
// remembered bytes from the point to read. Its output up to what the
// replay wrote is checked against it and dropped.
func (r *Filter) handOver() error {
	e := r.e
	r.diverged = true
	// What the replay decided leaves first: the live filter starts at a
	// point at or before it.
	if err := r.Flush(); err != nil {
		return err
	}
	q := e.lastPoint(r.read, r.base, -1)
	if st := e.points[q].state; st != e.points[r.base].state && !r.p.RestoreState(e.states[st]) {
		q = e.lastPoint(r.read, r.base, e.points[r.base].state)
	}
	e.countEvents(r.f, e.points[r.base].events, e.points[q].events)
	if q != r.base {
		r.f.Resume(e.points[q].at)
	}
	r.mode, r.base = resuming, q
	r.delta = r.liveIn - r.read
	r.cursor = q + 1
	pt := e.points[q]
	r.out.skip = r.withPatches(&r.skipBuf, e.out, int(pt.out), r.written, false)
	in := r.withPatches(&r.feedBuf, e.in, int(pt.in), r.read, true)
	// The live filter writes what is left of the patches.
	r.patches, r.patchBuf, r.emitted, r.judge = r.patches[:0], r.patchBuf[:0], 0, span{}
	return r.feed(in)
}

// resume filters p live and, after each '>' of p where the remembered
// document has a point after the same bytes (nextCandidate), looks at the
// live filter: should it be in that point's state there, the rest of p is
// replayed.
func (r *Filter) resume(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		end, q := r.nextCandidate(p)
		if q < 0 {
			r.consume(p)
			if err := r.feed(p); err != nil {
				return 0, err
			}
			return n, nil
		}
		r.consume(p[:end])
		if err := r.feed(p[:end]); err != nil {
			return 0, err
		}
		p = p[end:]
		if r.resumable(q, p) {
			r.replayFrom(q)
			k, err := r.replay(p)
			return n - len(p) + k, err
		}
	}
	return n, nil
}

// nextCandidate returns the end of the first '>' of p after which the
// remembered document has a point, after the same bytes, and that point;
// -1 if there is none (or no more tries). A point is looked for where the
// document would be had what differed kept its length (a token of fixed
// length, the common case), else among the points after cuts, by the
// window's hash.
func (r *Filter) nextCandidate(p []byte) (int, int32) {
	if r.tries >= resumeTries {
		return -1, -1
	}
	e := r.e
	var buf [window]byte
	for i := 0; i < len(p); {
		j := bytes.IndexByte(p[i:], '>')
		if j < 0 {
			break
		}
		end := i + j + 1
		i = end
		at := r.liveIn + end
		if at < r.noResume {
			continue
		}
		w, ok := r.tl.windowBefore(&buf, p, end)
		if !ok {
			continue
		}
		q := r.alignedPoint(at - r.delta)
		if q < 0 || !bytes.Equal(e.in[e.points[q].in-window:e.points[q].in], w) {
			q = -1
			if h := windowHash(w); isCut(h) {
				q = e.candidate(h, w, at-r.delta)
			}
		}
		if q >= 0 {
			r.tries++
			return end, q
		}
	}
	return -1, -1
}

// alignedPoint returns the point at in[:in], or -1. Its cursor only moves
// forward: a document is read once.
func (r *Filter) alignedPoint(in int) int32 {
	pts := r.e.points
	for r.cursor < int32(len(pts)) && int(pts[r.cursor].in) < in {
		r.cursor++
	}
	if r.cursor < int32(len(pts)) && int(pts[r.cursor].in) == in && in >= window {
		return r.cursor
	}
	return -1
}

// resumable reports whether the live filter, here, is in the state of
// point q, and what follows (next) goes on as the remembered document
// does after q.
func (r *Filter) resumable(q int32, next []byte) bool {
	e := r.e
	pt := &e.points[q]
	if len(r.out.skip) > 0 || r.check.Pending() {
		return false
	}
	in := int(pt.in)
	k := min(len(next), 64, len(e.in)-in)
	if !bytes.Equal(next[:k], e.in[in:in+k]) {
		return false
	}
	if at, ok := r.f.At(); !ok || at != pt.at {
		return false
	}
	r.sbuf = r.p.AppendState(r.sbuf[:0])
	return bytes.Equal(r.sbuf, e.states[pt.state])
}

// replayFrom makes r replay the remembered document from point q, where
// the live filter is now.
func (r *Filter) replayFrom(q int32) {
	pt := r.e.points[q]
	r.mode, r.base = replaying, q
	r.read, r.written = int(pt.in), int(pt.out)
	r.passed = r.e.marksTo(r.read)
}
