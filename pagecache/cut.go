package pagecache

import (
	"bytes"
	"encoding/binary"
)

// A document is cut, for the points a replay may resume from, after some
// of its '>': those whose preceding window of bytes hashes to a value with
// its low bits clear. The rule looks at nothing but those bytes, so a page
// and a variant of it with a token changed in its head are cut at the same
// places after the token, whatever lies before: that is how a replay finds
// its place again.
const (
	window  = 16 // bytes before a cut that the rule (and a match) looks at
	cutMask = 3  // about one '>' in 4 is a cut
)

// windowHash hashes a window of bytes (len(w) == window).
func windowHash(w []byte) uint64 {
	a := binary.LittleEndian.Uint64(w)
	b := binary.LittleEndian.Uint64(w[8:])
	h := (a ^ 0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	h = (h ^ b) * 0x94d049bb133111eb
	return h ^ h>>31
}

// isCut reports whether a window's hash makes a cut after it.
func isCut(h uint64) bool { return h&cutMask == 0 }

// nextCut returns the end of the first cut in d[from:] (an offset after a
// '>', at least window bytes into d) and its window's hash, or -1.
func nextCut(d []byte, from int) (int, uint64) {
	for i := max(from, window-1); i < len(d); {
		j := bytes.IndexByte(d[i:], '>')
		if j < 0 {
			return -1, 0
		}
		end := i + j + 1
		if h := windowHash(d[end-window : end]); isCut(h) {
			return end, h
		}
		i = end
	}
	return -1, 0
}

// tail keeps the last window bytes of a stream, for the windows of cuts
// that straddle two writes.
type tail struct {
	b [window]byte
	n int // bytes of b in use, at its end
}

func (t *tail) add(p []byte) {
	var joined [2 * window]byte
	k := copy(joined[:], t.b[window-t.n:])
	k += copy(joined[k:], p[max(0, len(p)-window):])
	from := max(0, k-window)
	t.n = k - from
	copy(t.b[window-t.n:], joined[from:k])
}

// windowBefore returns the window before p[:end], made of the tail and
// p's first bytes where end < window, in buf; false if the stream is
// shorter.
func (t *tail) windowBefore(buf *[window]byte, p []byte, end int) ([]byte, bool) {
	if end >= window {
		return p[end-window : end], true
	}
	need := window - end
	if t.n < need {
		return nil, false
	}
	copy(buf[:need], t.b[window-need:])
	copy(buf[need:], p[:end])
	return buf[:], true
}
