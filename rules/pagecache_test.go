package rules_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// cachedRun filters doc, named key, through a pagecache.Filter on c in
// chunks, and reports the output, the removals and whether it was a replay.
func cachedRun(t testing.TB, c *pagecache.Cache, key []byte, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, chunks func() int, doc []byte, declared int64) ([]byte, []htmlfilter.Removal, bool) {
	t.Helper()
	out, removed, replayed, err := tryCachedRun(c, key, rs, set, mode, chunks, doc, declared)
	if err != nil {
		t.Fatal(err)
	}
	return out, removed, replayed
}

// tryCachedRun is cachedRun for goroutines other than the test's.
func tryCachedRun(c *pagecache.Cache, key []byte, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, chunks func() int, doc []byte, declared int64) ([]byte, []htmlfilter.Removal, bool, error) {
	var out bytes.Buffer
	var r pagecache.Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	r.Reset(c, f, &out, rs.NewClassifier(oraclePageURL, set), htmlfilter.Options{Mode: mode},
		pagecache.Document{URL: string(key), Length: declared})
	for rest := doc; len(rest) > 0; {
		n := min(chunks(), len(rest))
		if _, err := r.Write(rest[:n]); err != nil {
			return nil, nil, false, fmt.Errorf("write: %w", err)
		}
		rest = rest[n:]
	}
	if err := r.Close(); err != nil {
		return nil, nil, false, fmt.Errorf("close: %w", err)
	}
	return out.Bytes(), slices.Clone(r.Removed()), r.Replayed(), nil
}

func uncachedRun(t testing.TB, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, doc []byte) ([]byte, []htmlfilter.Removal) {
	t.Helper()
	var out bytes.Buffer
	f := htmlfilter.New(&out, rs.NewClassifier(oraclePageURL, set), htmlfilter.Options{Mode: mode})
	if _, err := f.Write(doc); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), f.Removed()
}

func cacheTestPages(t testing.TB) map[string][]byte {
	t.Helper()
	pages := map[string][]byte{}
	for _, name := range []string{"adsense-gpt.html", "bypass-svg-loads.html", "bypass-script-escape-states.html", "bypass-noscript-attr.html", "benign-only.html"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "pages", name))
		if err != nil {
			t.Fatal(err)
		}
		pages[name] = b
	}
	return pages
}

// TestPageCache: the first sighting filters live, the second records, the
// third and later replay; every output and count equals the uncached
// filter's, whatever the chunking of each run.
func TestPageCache(t *testing.T) {
	rs := rules.Default()
	c, err := pagecache.New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for name, doc := range cacheTestPages(t) {
		for _, mode := range []htmlfilter.Mode{htmlfilter.Strip, htmlfilter.Defer} {
			key := []byte(name + mode.String())
			want, wantRemoved := uncachedRun(t, rs, 0, mode, doc)
			for i := range 5 {
				maxChunk := 1 + rng.IntN(3000)
				out, removed, replayed := cachedRun(t, c, key, rs, 0, mode, func() int { return 1 + rng.IntN(maxChunk) }, doc, -1)
				c.Wait()
				if !bytes.Equal(out, want) {
					d := firstDiff(want, out)
					t.Fatalf("%s %s run %d: output differs at %d: %q, want %q", name, mode, i, d, around(out, d), around(want, d))
				}
				if !slices.Equal(removed, wantRemoved) {
					t.Errorf("%s %s run %d: removed %v, want %v", name, mode, i, removed, wantRemoved)
				}
				if wantReplay := i >= 2; replayed != wantReplay {
					t.Errorf("%s %s run %d: replayed %v, want %v", name, mode, i, replayed, wantReplay)
				}
			}
		}
	}
}

// TestPageCacheDiverges: a document that differs from the remembered one
// at any byte, or is longer or shorter, comes out as the live filter makes
// it, and its key is not replayed again for a while.
func TestPageCacheDiverges(t *testing.T) {
	rs := rules.Default()
	doc := cacheTestPages(t)["adsense-gpt.html"]
	variants := map[string][]byte{
		"shorter":              doc[:len(doc)/2],
		"empty":                {},
		"longer":               append(slices.Clone(doc), `<script src="https://connect.facebook.net/en_US/fbevents.js"></script>`...),
		"tracker at the start": append([]byte(`<img src="https://www.facebook.com/tr?id=1">`), doc...),
	}
	for _, at := range []int{0, 1, 100, len(doc) / 3, len(doc) - 1} {
		v := slices.Clone(doc)
		v[at] ^= 0x20
		variants["byte "+string(rune('a'+at%26))+string(rune('0'+at%10))] = v
	}
	// A tracker's URL made harmless in the remembered document, and live
	// again in the variant, deep in the page.
	if i := bytes.Index(doc, []byte("googletagservices")); i > 0 {
		v := slices.Clone(doc)
		v[i] = 'G'
		variants["tracker case"] = v
	}
	for name, v := range variants {
		for _, chunk := range []int{1, 7, 512, 4096, 1 << 20} {
			c, err := pagecache.New(64<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			key := []byte("k")
			next := func() int { return chunk }
			for range 2 {
				cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, doc, int64(len(doc)))
				c.Wait()
			}
			if _, _, replayed := cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, doc, int64(len(doc))); !replayed {
				t.Fatalf("%s: not remembered", name)
			}
			want, wantRemoved := uncachedRun(t, rs, 0, htmlfilter.Strip, v)
			out, removed, replayed := cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, v, int64(len(v)))
			c.Wait()
			if replayed {
				t.Errorf("%s, chunks of %d: replayed", name, chunk)
			}
			if !bytes.Equal(out, want) {
				d := firstDiff(want, out)
				t.Fatalf("%s, chunks of %d: output differs at %d: %q, want %q", name, chunk, d, around(out, d), around(want, d))
			}
			if !slices.Equal(removed, wantRemoved) {
				t.Errorf("%s, chunks of %d: removed %v, want %v", name, chunk, removed, wantRemoved)
			}
			// The key now differs from time to time: the original is not
			// replayed nor recorded again at once.
			for range 3 {
				if _, _, replayed := cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, doc, int64(len(doc))); replayed {
					t.Fatalf("%s, chunks of %d: replayed after a divergence", name, chunk)
				}
				c.Wait()
			}
			c.Close()
		}
	}
}

// TestPageCacheLimits: a document longer than maxDoc is never remembered,
// declared or not; a key of its own per visitor state keeps states apart.
func TestPageCacheLimits(t *testing.T) {
	rs := rules.Default()
	doc := cacheTestPages(t)["adsense-gpt.html"]
	c, err := pagecache.New(64<<20, len(doc)-1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	whole := func() int { return 1 << 30 }
	for _, declared := range []int64{-1, int64(len(doc))} {
		for range 4 {
			if _, _, replayed := cachedRun(t, c, []byte("long"), rs, 0, htmlfilter.Strip, whole, doc, declared); replayed {
				t.Fatalf("declared %d: a document over maxDoc was replayed", declared)
			}
			c.Wait()
		}
	}
}

// FuzzPageCache: a remembered document and a variant of it (one byte
// changed, some cut off or added at a point the input picks), in chunkings
// the input picks, each come out exactly as the uncached filter makes them.
func FuzzPageCache(f *testing.F) {
	// The input: FuzzFilterRules's, then the variant's edit at its end:
	// position (2 bytes), kind, byte.
	for i, s := range []struct{ pre, mid, post string }{
		{"<p>", "", "</p>"},
		{"<script>", "var x='", "'</script>"},
		{"<svg><style>", "", "</style></svg>"},
		{"<!-- ", "", " -->"},
	} {
		seed := fuzzSeed(0, byte(i), byte(i), byte(i*41+3), s.pre, s.mid, s.post)
		f.Add(append(seed, byte(i), byte(i*7), byte(i%3), '<'))
	}
	rs := rules.Default()
	var cats [3]rules.Category
	for i, id := range []string{"functional", "analytics", "advertising"} {
		cats[i], _ = rs.CategoryByID(id)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		edit := data[len(data)-4:]
		granted, mode, chunk, doc, ok := fuzzDoc(data[:len(data)-4])
		if !ok {
			return
		}
		var set rules.Set
		for i, on := range granted {
			if on {
				set = set.With(cats[i])
			}
		}
		v := slices.Clone(doc)
		at := (int(edit[0])<<8 | int(edit[1])) % (len(doc) + 1)
		switch edit[2] % 3 {
		case 0:
			if at < len(v) {
				v[at] = edit[3]
			}
		case 1:
			v = v[:at]
		case 2:
			v = slices.Insert(v, at, edit[3])
		}
		c, err := pagecache.New(1<<20, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(uint64(chunk), uint64(len(doc))))
		maxChunk := 1 + int(chunk)%64
		next := func() int { return 1 + rng.IntN(maxChunk) }
		key := []byte("fuzz")
		for i, d := range [][]byte{doc, doc, doc, v} {
			want, wantRemoved := uncachedRun(t, rs, set, mode, d)
			out, removed, _ := cachedRun(t, c, key, rs, set, mode, next, d, -1)
			c.Wait()
			if !bytes.Equal(out, want) {
				n := firstDiff(want, out)
				t.Fatalf("run %d: output differs at %d: %q, want %q\ndoc: %q", i, n, around(out, n), around(want, n), d)
			}
			if !slices.Equal(removed, wantRemoved) {
				t.Fatalf("run %d: removed %v, want %v", i, removed, wantRemoved)
			}
		}
	})
}

// TestPageCacheConcurrent: visitors of one page, of two versions of it and
// of two consent states at once (run it with -race, as CI does) each get
// the uncached filter's output.
func TestPageCacheConcurrent(t *testing.T) {
	rs := rules.Default()
	pages := cacheTestPages(t)
	a := pages["adsense-gpt.html"]
	b := bytes.Replace(a, []byte("<title>"), []byte("<title>B "), 1)
	c, err := pagecache.New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	analytics, _ := rs.CategoryByID("analytics")
	sets := []rules.Set{0, rules.Set(0).With(analytics)}
	type variant struct {
		doc []byte
		set rules.Set
	}
	want := map[int][]byte{}
	var variants []variant
	for _, doc := range [][]byte{a, b} {
		for _, set := range sets {
			out, _ := uncachedRun(t, rs, set, htmlfilter.Strip, doc)
			want[len(variants)] = out
			variants = append(variants, variant{doc, set})
		}
	}
	// Ristretto may drop a Set made under contention: fill the cache first,
	// one page at a time (seen, recorded, replayed), so that replays do
	// not depend on the scheduler.
	for i, v := range variants {
		for run := range 3 {
			_, _, replayed, err := tryCachedRun(c, []byte{byte(v.set), byte(i)}, rs, v.set, htmlfilter.Strip, func() int { return 4096 }, v.doc, -1)
			if err != nil {
				t.Fatal(err)
			}
			if replayed != (run == 2) {
				t.Fatalf("variant %d, run %d: replayed %v", i, run, replayed)
			}
			c.Wait()
		}
	}
	var wg sync.WaitGroup
	var replays atomic.Int32
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 40 {
				i := rng.IntN(len(variants))
				v := variants[i]
				// A key per version and consent state (replays), or one
				// per consent state that the two versions share
				// (divergences).
				key := []byte{byte(v.set), byte(i)}
				if g%2 == 1 {
					key = key[:1]
				}
				out, _, replayed, err := tryCachedRun(c, key, rs, v.set, htmlfilter.Strip, func() int { return 1 + rng.IntN(5000) }, v.doc, -1)
				if err != nil {
					t.Errorf("goroutine %d, variant %d: %v", g, i, err)
					return
				}
				if !bytes.Equal(out, want[i]) {
					t.Errorf("goroutine %d, variant %d: output differs", g, i)
					return
				}
				if replayed {
					replays.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if replays.Load() == 0 {
		t.Error("nothing replayed")
	}
}
