package pagecache

import (
	"testing"
)

// TestFrontFollowsRistretto: the front returns what ristretto has for a
// key, and lets go of an entry once ristretto replaced, evicted or dropped
// it. A touch always asks ristretto.
func TestFrontFollowsRistretto(t *testing.T) {
	c, err := New(1<<20, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := []byte("page key")
	const h = 42

	first := &entry{key: key, in: []byte("a"), out: []byte("a")}
	c.remember(h, first)
	c.Wait()
	if e := c.lookup(h, key, true); e != first {
		t.Fatalf("lookup after remember: %p, want %p", e, first)
	}
	if got := c.front[h%frontSlots].Load(); got != first {
		t.Fatalf("front slot holds %p after a found lookup, want %p", got, first)
	}
	if e := c.lookup(h, []byte("other key"), false); e != nil {
		t.Fatal("the front answered for another key of the same hash")
	}

	// Marked left alone: ristretto replaces the entry at once.
	c.leaveAlone(h, key, 1)
	if !first.gone.Load() {
		t.Fatal("a replaced entry is not marked gone")
	}
	if c.front[h%frontSlots].Load() == first {
		t.Fatal("a replaced entry is still held by the front")
	}
	c.Wait()
	e := c.lookup(h, key, false)
	if e == first || e == nil || !e.volatile {
		t.Fatalf("lookup after leaveAlone: %+v, want the volatile mark", e)
	}
	if got := c.front[h%frontSlots].Load(); got != nil {
		t.Fatalf("the front holds %+v after the volatile mark was found", got)
	}

	// An entry only the front holds is found without a touch, not with.
	const h2 = 7
	orphan := &entry{key: []byte("orphan")}
	c.front[h2%frontSlots].Store(orphan)
	if e := c.lookup(h2, orphan.key, false); e != orphan {
		t.Fatal("the front was not asked")
	}
	if e := c.lookup(h2, orphan.key, true); e != nil {
		t.Fatal("a touch did not go to ristretto")
	}

	// Dropped with the cache.
	second := &entry{key: []byte("second"), in: []byte("b"), out: []byte("b")}
	c.remember(h2, second)
	c.Wait()
	if e := c.lookup(h2, second.key, true); e != second {
		t.Fatal("second entry not found")
	}
	c.Close()
	if !second.gone.Load() {
		t.Fatal("an entry dropped by Close is not marked gone")
	}
	if e := c.lookup(h2, second.key, false); e != nil {
		t.Fatal("the front returned an entry after Close")
	}
}

// TestFrontEviction: an entry ristretto evicts for cost leaves the front,
// which holds its memory no longer.
func TestFrontEviction(t *testing.T) {
	c, err := New(64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var found []*entry
	for i := range 64 {
		key := []byte{'k', byte(i)}
		e := &entry{key: key, in: make([]byte, 8<<10), out: make([]byte, 8<<10)}
		c.remember(uint64(i), e)
		c.Wait()
		if c.lookup(uint64(i), key, true) == e {
			found = append(found, e)
		}
	}
	if len(found) == 0 {
		t.Fatal("no entry was kept")
	}
	for i := range 64 {
		key := []byte{'k', byte(i)}
		front := c.lookup(uint64(i), key, false)
		kept := c.lookup(uint64(i), key, true)
		if front != kept {
			t.Fatalf("key %d: front gives %p, ristretto %p", i, front, kept)
		}
	}
	gone := 0
	for _, e := range found {
		if e.gone.Load() {
			gone++
			if c.front[e.hash%frontSlots].Load() == e {
				t.Errorf("an evicted entry is still held by the front")
			}
		}
	}
	if gone == 0 {
		t.Fatalf("none of %d entries of 16 KiB each was evicted from a 64 KiB cache", len(found))
	}
}
