package textcache

import "testing"

// TestCache: a text is kept from its second sighting, answers for itself
// only, and an entry whose length or check hash differs (a collision of
// the first hash) is no answer.
func TestCache(t *testing.T) {
	c, err := New[string](1<<20, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k := c.KeyString("var a = 1")
	if c.Admit(k) {
		t.Fatal("a text seen once is admitted")
	}
	if !c.Admit(k) {
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
