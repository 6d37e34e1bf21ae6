package rules

// matcher is an Aho–Corasick automaton over lowercase bytes, compiled to a
// dense DFA: one table lookup per input byte, whatever the number of
// patterns. Input bytes that occur in no pattern share one byte class, which
// keeps the table small (states × classes).
type matcher struct {
	class  [256]uint8
	nclass int
	outOff []int32 // patterns ending in state s: outs[outOff[s]:outOff[s+1]]
	outs   []int32
	plen   []int32 // pattern length, by pattern id
	// next is the transition table (next[state*nclass+class]) as the
	// scan loop reads it: the next state's row offset
	// (state*nclass), with hasOut set when patterns end there. One load
	// per byte and no multiply; the outputs are looked up only on a flag.
	next []uint32
	// starts has a bit for each pair of bytes that begins a pattern (every
	// pair after a one-byte pattern's byte): see mayStart.
	starts *[1 << 16 / 64]uint64
}

const hasOut = 1 << 31

// step returns the row offset (and flag) after reading c from row.
func (m *matcher) step(row uint32, c byte) uint32 {
	return m.next[row&^hasOut+uint32(m.class[c])]
}

// mayStart reports whether a pattern may begin at s[i]. At the root, a
// pair of bytes that begins no pattern leads where its second byte alone
// does, so a scan there skips the first: it reaches the states it would
// have and finds the same matches, and reads the table (2.7 MB with the
// default rules, cold between responses) only where a pattern may begin.
func (m *matcher) mayStart(s []byte, i int) bool {
	if i+1 >= len(s) {
		return true
	}
	k := uint(s[i])<<8 | uint(s[i+1])
	return m.starts[k>>6]&(1<<(k&63)) != 0
}

// state is the state number of a row offset returned by step.
func (m *matcher) state(row uint32) int32 { return int32((row &^ hasOut) / uint32(m.nclass)) }

// newMatcher compiles pats (pattern id = index). Empty patterns never match.
func newMatcher(pats []string) *matcher {
	m := &matcher{nclass: 1}
	m.classify(pats)
	m.plen = make([]int32, len(pats))
	for id, p := range pats {
		m.plen[id] = int32(len(p))
	}
	m.startPairs(pats)
	delta, term := m.trie(pats)
	link(delta, term, m.nclass)
	m.pack(delta, term)
	return m
}

// startPairs sets starts from pats.
func (m *matcher) startPairs(pats []string) {
	m.starts = new([1 << 16 / 64]uint64)
	set := func(a, b byte) {
		k := uint(a)<<8 | uint(b)
		m.starts[k>>6] |= 1 << (k & 63)
	}
	for _, p := range pats {
		switch {
		case len(p) == 1:
			for c := range 256 {
				set(p[0], byte(c))
			}
		case len(p) > 1:
			set(p[0], p[1])
		}
	}
}

// classify gives each byte value that occurs in pats a class of its own;
// all others share class 0.
func (m *matcher) classify(pats []string) {
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				if m.nclass == 256 {
					// Every byte value in some pattern: the last one shares
					// class 0, which is still exact because class 0 is then a
					// real byte. Cannot happen with a 255-value alphabet.
					break
				}
				m.class[p[i]] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
}

// trie returns the trie of pats: child[state*nclass+class] is the next
// state or -1, term[state] the ids of the patterns that end there.
func (m *matcher) trie(pats []string) (child []int32, term [][]int32) {
	nc := m.nclass
	newState := func() int32 {
		for range nc {
			child = append(child, -1)
		}
		return int32(len(child)/nc - 1)
	}
	newState()
	term = [][]int32{nil}
	for id, p := range pats {
		if p == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(m.class[p[i]])
			if child[int(s)*nc+c] < 0 {
				t := newState()
				child[int(s)*nc+c] = t
				term = append(term, nil)
			}
			s = child[int(s)*nc+c]
		}
		term[s] = append(term[s], int32(id))
	}
	return child, term
}

// link completes the trie in place, breadth-first: failure links, full
// transitions and inherited outputs. delta[state*nc+class] = next state;
// its -1 entries become fallback transitions.
func link(delta []int32, term [][]int32, nc int) {
	nstates := len(delta) / nc
	fail := make([]int32, nstates)
	queue := make([]int32, 0, nstates)
	for c := range nc {
		if t := delta[c]; t < 0 {
			delta[c] = 0
		} else {
			fail[t] = 0
			queue = append(queue, t)
		}
	}
	for q := 0; q < len(queue); q++ {
		s := queue[q]
		for c := range nc {
			t := delta[int(s)*nc+c]
			f := delta[int(fail[s])*nc+c]
			if t < 0 {
				delta[int(s)*nc+c] = f
				continue
			}
			fail[t] = f
			term[t] = append(term[t], term[f]...)
			queue = append(queue, t)
		}
	}
}

// pack keeps only what matching reads: the outputs of each state, and the
// transitions as row offsets flagged when the next state has outputs.
func (m *matcher) pack(delta []int32, term [][]int32) {
	nc := m.nclass
	nstates := len(delta) / nc
	m.outOff = make([]int32, nstates+1)
	for s := range nstates {
		m.outs = append(m.outs, term[s]...)
		m.outOff[s+1] = int32(len(m.outs))
	}
	m.next = make([]uint32, len(delta))
	for i, t := range delta {
		m.next[i] = uint32(t) * uint32(nc)
		if m.outOff[t+1] > m.outOff[t] {
			m.next[i] |= hasOut
		}
	}
}
