package textcache

import (
	"fmt"
	"testing"
)

// newTestCache is a cache of 1 MiB, closed when the test ends.
func newTestCache(t *testing.T) *Cache[string] {
	c, err := New[string](1<<20, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestCache: a text is kept from its second sighting, answers for itself
// only, and an entry whose length or check hash differs (a collision of
// the first hash) is no answer.
func TestCache(t *testing.T) {
	c := newTestCache(t)
	k := c.KeyString("var a = 1")
	if _, found, admit := c.Lookup(k); found || admit {
		t.Fatal("a text seen once is admitted")
	}
	if _, found, admit := c.Lookup(k); found || !admit {
		t.Fatal("a text seen twice is not admitted")
	}
	c.Set(k, "read", 64)
	c.Wait()
	if v, ok := c.Get(c.Key([]byte("var a = 1"))); !ok || v != "read" {
		t.Fatalf("Get = %q, %v", v, ok)
	}
	if _, ok := c.Get(c.KeyString("var a = 2")); ok {
		t.Error("another text answered")
	}
	for _, forged := range []Key{{k: k.k, check: k.check, n: k.n + 1}, {k: k.k, check: k.check + 1, n: k.n}} {
		if _, ok := c.Get(forged); ok {
			t.Errorf("%+v: a first-hash collision answered", forged)
		}
	}
}

// TestLookup: a text seen for the first time is not looked up; a text set
// is, even once its place in seen went to another, so that two cached
// texts sharing that place are both found.
func TestLookup(t *testing.T) {
	c := newTestCache(t)
	k := c.KeyString("var token = 'a1'")
	// An entry no Set noted (as if its notes were overwritten since).
	c.c.Set(k.k, &entry[string]{n: k.n, check: k.check, v: "planted"}, 64)
	c.c.Wait()
	if _, found, admit := c.Lookup(k); found || admit {
		t.Fatalf("first sighting: found %v, admit %v; want neither, and no lookup", found, admit)
	}
	if v, found, _ := c.Lookup(k); !found || v != "planted" {
		t.Fatalf("second sighting: %q, %v; want the entry", v, found)
	}

	// Two texts set, sharing a place in seen: each is found, whatever
	// the other did to that place.
	a := c.KeyString("var a = 1")
	var b Key
	for i := 0; ; i++ {
		if b = c.KeyString(fmt.Sprintf("var b = %d", i)); b.Slot(len(c.seen)) == a.Slot(len(c.seen)) && b.storedSlot(len(c.stored)) != a.storedSlot(len(c.stored)) {
			break
		}
	}
	c.Set(a, "a", 64)
	c.Set(b, "b", 64)
	c.Wait()
	for range 2 {
		for _, kv := range []struct {
			k Key
			v string
		}{{a, "a"}, {b, "b"}} {
			if v, found, _ := c.Lookup(kv.k); !found || v != kv.v {
				t.Errorf("%s: %q, %v; want it found", kv.v, v, found)
			}
		}
	}
}
