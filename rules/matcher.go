package rules

import "encoding/binary"

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
	// pairs has a bit for each pair of bytes that begins a pattern (every
	// pair after a one-byte pattern's byte); quads one for the hash of the
	// first four bytes of each pattern of four or more (quadHash); short
	// one for each pair that begins a shorter pattern, nil when there is
	// none. See pairStarts.
	pairs *bitset16
	quads *bitset16
	short *bitset16
}

// bitset16 is a set of 16-bit values.
type bitset16 [1 << 16 / 64]uint64

func (b *bitset16) add(k uint32)      { b[k>>6] |= 1 << (k & 63) }
func (b *bitset16) has(k uint32) bool { return b[k>>6]&(1<<(k&63)) != 0 }

const hasOut = 1 << 31

// step returns the row offset (and flag) after reading c from row.
func (m *matcher) step(row uint32, c byte) uint32 {
	return m.next[row&^hasOut+uint32(m.class[c])]
}

// pairStarts and quadStarts report whether a pattern may begin at s[i]:
// by the pair of bytes there, then by the four (two calls, each inlined
// into the scan loop, which tries the cheaper first). At the root, a
// position where no pattern begins can be skipped: the states the scan
// then reaches differ from the plain scan's only by prefixes that start
// there, and those lead to no match, so it finds the same matches. The
// scan reads the table (2.7 MB with the default rules, cold between
// responses) only where four bytes begin a pattern, or may by their hash.
func (m *matcher) pairStarts(s []byte, i int) bool {
	return i+1 >= len(s) || m.pairs.has(uint32(s[i])<<8|uint32(s[i+1]))
}

func (m *matcher) quadStarts(s []byte, i int) bool {
	return i+4 > len(s) || m.quads.has(quadHash(s[i:])) ||
		m.short != nil && m.short.has(uint32(s[i])<<8|uint32(s[i+1]))
}

// quadHash hashes the first four bytes of s (at least four) to 16 bits.
func quadHash(s []byte) uint32 {
	return binary.LittleEndian.Uint32(s) * 0x9e3779b1 >> 16
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
	m.startFilter(pats)
	delta, term := m.trie(pats)
	link(delta, term, m.nclass)
	m.pack(delta, term)
	return m
}

// startFilter sets pairs, quads and short from pats.
func (m *matcher) startFilter(pats []string) {
	m.pairs, m.quads = new(bitset16), new(bitset16)
	for _, p := range pats {
		if len(p) >= 4 {
			m.quads.add(quadHash([]byte(p)))
		} else if len(p) > 0 && m.short == nil {
			m.short = new(bitset16)
		}
		for c := range 256 {
			if len(p) == 1 || len(p) > 1 && byte(c) == p[1] {
				k := uint32(p[0])<<8 | uint32(c)
				m.pairs.add(k)
				if len(p) < 4 {
					m.short.add(k)
				}
			}
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
