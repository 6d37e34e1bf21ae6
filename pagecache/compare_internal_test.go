package pagecache

import (
	"bytes"
	"testing"
)

// TestEqualPrefix: the common start of two inputs, wherever they first
// differ: in the first byte, at the edges of the blocks compared, in the
// last byte, nowhere, and where one input ends first.
func TestEqualPrefix(t *testing.T) {
	a := bytes.Repeat([]byte("<p class=x>a paragraph</p>\n"), 700) // 18,900 bytes
	for _, at := range []int{0, 1, 63, 64, 65, 4095, 4096, 4097, 4160, 8191, 12345, len(a) - 1} {
		b := bytes.Clone(a)
		b[at] ^= 1
		if got := equalPrefix(a, b); got != at {
			t.Errorf("difference at %d: equalPrefix %d", at, got)
		}
		if got := equalPrefix(b, a); got != at {
			t.Errorf("difference at %d, the other way: equalPrefix %d", at, got)
		}
	}
	if got := equalPrefix(a, a); got != len(a) {
		t.Errorf("equal: %d, want %d", got, len(a))
	}
	for _, n := range []int{0, 5, 64, 4096, 4100} {
		if got := equalPrefix(a[:n], a); got != n {
			t.Errorf("a prefix of %d bytes: %d", n, got)
		}
	}
}

// TestMarksFrom: a search from any mark already passed counts the marks at
// or before a place as a search from the first does.
func TestMarksFrom(t *testing.T) {
	e := &entry{}
	for in := int32(10); in <= 1000; in += 10 {
		e.marks = append(e.marks, mark{in: in})
	}
	for in := 0; in <= 1010; in += 5 {
		want := min(in/10, len(e.marks))
		for from := 0; from <= want; from++ {
			if got := e.marksFrom(from, in); got != want {
				t.Fatalf("marksFrom(%d, %d) = %d, want %d", from, in, got, want)
			}
		}
	}
}
