package rules_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/internal/benchpage"
	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// cacheRun is what one run through the page cache made of a document.
type cacheRun struct {
	out      []byte
	removed  []htmlfilter.Removal
	replayed bool // written from the cache whole
	resumed  int  // bytes replayed of a document that differed
	spliced  int  // pieces of unread values written anew
}

// cachedRun filters doc, named key, through a pagecache.Filter on c in
// chunks.
func cachedRun(t testing.TB, c *pagecache.Cache, key []byte, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, chunks func() int, doc []byte, declared int64) cacheRun {
	t.Helper()
	res, err := tryCachedRun(c, key, rs, set, mode, chunks, doc, declared)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tryCachedRun is cachedRun for goroutines other than the test's.
func tryCachedRun(c *pagecache.Cache, key []byte, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, chunks func() int, doc []byte, declared int64) (cacheRun, error) {
	var out bytes.Buffer
	var r pagecache.Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	r.Reset(c, f, &out, rs.NewClassifier(oraclePageURL, set), htmlfilter.Options{Mode: mode},
		pagecache.Document{URL: string(key), Length: declared})
	for rest := doc; len(rest) > 0; {
		n := min(chunks(), len(rest))
		if _, err := r.Write(rest[:n]); err != nil {
			return cacheRun{}, fmt.Errorf("write: %w", err)
		}
		rest = rest[n:]
	}
	if err := r.Close(); err != nil {
		return cacheRun{}, fmt.Errorf("close: %w", err)
	}
	return cacheRun{out.Bytes(), slices.Clone(r.Removed()), r.Replayed(), r.Resumed(), r.Spliced()}, nil
}

// uncachedRun filters doc, read as UTF-8 by its decoder, without the
// cache.
func uncachedRun(t testing.TB, rs *rules.Rules, set rules.Set, mode htmlfilter.Mode, doc []byte) ([]byte, []htmlfilter.Removal) {
	t.Helper()
	var out bytes.Buffer
	f := htmlfilter.New(&out, rs.NewClassifier(oraclePageURL, set), htmlfilter.Options{Mode: mode})
	utf8, _ := charset.Lookup("utf-8")
	dec := charset.NewUTF8Writer(f, utf8)
	if _, err := dec.Write(doc); err != nil {
		t.Fatal(err)
	}
	if err := dec.Close(); err != nil {
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
				res := cachedRun(t, c, key, rs, 0, mode, func() int { return 1 + rng.IntN(maxChunk) }, doc, -1)
				out, removed, replayed := res.out, res.removed, res.replayed
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
			if !cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, doc, int64(len(doc))).replayed {
				t.Fatalf("%s: not remembered", name)
			}
			want, wantRemoved := uncachedRun(t, rs, 0, htmlfilter.Strip, v)
			res := cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, v, int64(len(v)))
			out, removed := res.out, res.removed
			c.Wait()
			if res.replayed {
				t.Errorf("%s, chunks of %d: replayed", name, chunk)
			}
			if !bytes.Equal(out, want) {
				d := firstDiff(want, out)
				t.Fatalf("%s, chunks of %d: output differs at %d: %q, want %q", name, chunk, d, around(out, d), around(want, d))
			}
			if !slices.Equal(removed, wantRemoved) {
				t.Errorf("%s, chunks of %d: removed %v, want %v", name, chunk, removed, wantRemoved)
			}
			// Unless most of the variant was replayed all the same, the key
			// now differs from time to time: the original is not replayed
			// nor recorded again at once.
			kept := len(v) > 0 && 2*res.resumed >= len(v)
			for range 3 {
				if replayed := cachedRun(t, c, key, rs, 0, htmlfilter.Strip, next, doc, int64(len(doc))).replayed; replayed != kept {
					t.Fatalf("%s, chunks of %d: replayed %v after a divergence (%d of %d bytes replayed)", name, chunk, replayed, res.resumed, len(v))
				}
				c.Wait()
			}
			c.Close()
		}
	}
}

// TestPageCacheChecksUTF8: the page cache reads a document as UTF-8 the
// way its decoder does, though it checks only what the live filter reads:
// a page with an invalid sequence is filtered as the decoder would have it
// every time, and never remembered; a remembered page and its variants
// with invalid sequences where they differ (before a point's '<', in a
// token, cut off at the end) come out as the decoder and the filter make
// them.
func TestPageCacheChecksUTF8(t *testing.T) {
	rs := rules.Default()
	page := slices.Concat([]byte("<!DOCTYPE html><html><head><meta name=\"csrf\" content=\"tok\">\n"+
		"<script async src=\"https://www.googletagmanager.com/gtag/js?id=G-1\"></script>\n</head><body><p>caf\xc3\xa9 \xe2\x82\xac</p>\n"),
		fuzzFiller(0), []byte("<p>na\xc3\xafve</p>\n"), fuzzFiller(1), []byte("</body></html>\n"))
	if !utf8.Valid(page) {
		t.Fatal("the page is not valid UTF-8")
	}
	invalid := bytes.Replace(page, []byte("caf\xc3\xa9"), []byte("caf\xc3<"), 1)
	variants := []struct {
		name string
		doc  []byte
	}{
		{"a lone lead byte in the token", bytes.Replace(page, []byte(`"tok"`), []byte("\"t\xe2\x82\""), 1)},
		{"a continuation byte in the token", bytes.Replace(page, []byte(`"tok"`), []byte("\"\x80ok\""), 1)},
		{"a lead byte before a point's '<'", bytes.Replace(page, []byte("\n<script"), []byte("\xc3<script"), 1)},
		{"cut off inside a sequence", page[:bytes.Index(page, []byte("\xe2\x82\xac"))+2]},
		{"a bad sequence further down", bytes.Replace(page, []byte("na\xc3\xafve"), []byte("na\xc3\xc3ve"), 1)},
		{"the invalid page", invalid},
	}
	for _, chunk := range []int{1, 7, 4096, len(page)} {
		next := func() int { return chunk }
		c, err := pagecache.New(1<<20, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := uncachedRun(t, rs, 0, htmlfilter.Strip, invalid)
		for i := range 4 {
			res := cachedRun(t, c, []byte("invalid"), rs, 0, htmlfilter.Strip, next, invalid, -1)
			c.Wait()
			if n := firstDiff(want, res.out); !bytes.Equal(res.out, want) || res.replayed {
				t.Fatalf("pieces of %d, run %d of the invalid page: replayed %v, output differs at %d: %q, want %q", chunk, i, res.replayed, n, around(res.out, n), around(want, n))
			}
		}
		for range 3 {
			cachedRun(t, c, []byte("page"), rs, 0, htmlfilter.Strip, next, page, -1)
			c.Wait()
		}
		for _, v := range variants {
			want, wantRemoved := uncachedRun(t, rs, 0, htmlfilter.Strip, v.doc)
			res := cachedRun(t, c, []byte("page"), rs, 0, htmlfilter.Strip, next, v.doc, -1)
			c.Wait()
			if !bytes.Equal(res.out, want) || !slices.Equal(res.removed, wantRemoved) {
				n := firstDiff(want, res.out)
				t.Errorf("pieces of %d, %s: output differs at %d: %q, want %q", chunk, v.name, n, around(res.out, n), around(want, n))
			}
			if res.resumed == 0 {
				t.Errorf("pieces of %d, %s: nothing replayed", chunk, v.name)
			}
			// The remembered page again: the next variant is a first
			// difference too.
			if !cachedRun(t, c, []byte("page"), rs, 0, htmlfilter.Strip, next, page, -1).replayed {
				t.Fatalf("pieces of %d, after %s: the page was not replayed", chunk, v.name)
			}
			c.Wait()
		}
		c.Close()
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
			if cachedRun(t, c, []byte("long"), rs, 0, htmlfilter.Strip, whole, doc, declared).replayed {
				t.Fatalf("declared %d: a document over maxDoc was replayed", declared)
			}
			c.Wait()
		}
	}
}

// TestPageCacheResumes: a page rendered per request (a fresh token in its
// head, a nonce on its scripts, a cart count, a form's token near its end)
// replays all but the stretches around what changed, comes out as the
// uncached filter makes it, and keeps its entry: the one recording serves
// every later response.
func TestPageCacheResumes(t *testing.T) {
	rs := rules.Default()
	pages := map[string][]byte{"shop, 120 KB": benchpage.Shop(120 << 10), "shop, 5 KB": benchpage.Shop(5 << 10)}
	for name, doc := range cacheTestPages(t) {
		doc = bytes.Replace(doc, []byte("<head>"), []byte(`<head><meta name="csrf-token" content="{{csrf}}">`), 1)
		pages[name] = bytes.Replace(doc, []byte("</body>"), []byte(`<input type="hidden" name="token" value="{{csrf}}"></body>`), 1)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	token := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[rng.IntN(38)]
		}
		return b
	}
	render := func(tmpl []byte) []byte {
		doc := bytes.ReplaceAll(tmpl, []byte("{{csrf}}"), token(20+rng.IntN(30)))
		doc = bytes.ReplaceAll(doc, []byte("{{nonce}}"), token(22))
		return bytes.ReplaceAll(doc, []byte("{{cart}}"), fmt.Append(nil, rng.IntN(100)))
	}
	for name, tmpl := range pages {
		for _, mode := range []htmlfilter.Mode{htmlfilter.Strip, htmlfilter.Defer} {
			c, err := pagecache.New(64<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			least := len(tmpl)
			for i := range 8 {
				doc := render(tmpl)
				want, wantRemoved := uncachedRun(t, rs, 0, mode, doc)
				maxChunk := 1 + rng.IntN(32<<10)
				res := cachedRun(t, c, []byte(name), rs, 0, mode, func() int { return 1 + rng.IntN(maxChunk) }, doc, int64(len(doc)))
				c.Wait()
				if !bytes.Equal(res.out, want) {
					d := firstDiff(want, res.out)
					t.Fatalf("%s %s run %d: output differs at %d: %q, want %q", name, mode, i, d, around(res.out, d), around(want, d))
				}
				if !slices.Equal(res.removed, wantRemoved) {
					t.Errorf("%s %s run %d: removed %v, want %v", name, mode, i, res.removed, wantRemoved)
				}
				if i >= 2 {
					share := res.resumed * 100 / len(doc)
					if res.replayed {
						share = 100 // its fresh values spliced in
					}
					least = min(least, share)
				}
			}
			// A small page has few cuts to resume at: only the shop pages
			// are held to a share.
			if want := map[string]int{"shop, 120 KB": 95, "shop, 5 KB": 70}[name]; least < want {
				t.Errorf("%s %s: %d%% of a response replayed at least, want %d%%", name, mode, least, want)
			}
			c.Close()
		}
	}
}

// FuzzPageCache: a remembered page and two variants of it, each edited at
// a point the input picks (a byte changed, the rest cut off, a byte or a
// piece of markup that changes the filter's state inserted), and the
// second with fresh nonces and values, in chunkings the input picks, each
// come out exactly as the uncached filter makes them. The page is the
// fuzzed document twice, between runs of plain markup, so that a replay
// that differs has points to resume from.
func FuzzPageCache(f *testing.F) {
	// The input: FuzzFilterRules's, then two edits at its end, each
	// position (2 bytes), kind, byte.
	for i, s := range []struct{ pre, mid, post string }{
		{"<p>", "", "</p>"},
		{"<script>", "var x='", "'</script>"},
		{"<svg><style>", "", "</style></svg>"},
		{"<!-- ", "", " -->"},
	} {
		seed := fuzzSeed(0, byte(i), byte(i), byte(i*41+3), s.pre, s.mid, s.post)
		f.Add(append(seed, byte(i), byte(i*7), byte(i%3), '<', 2, byte(i*50), 3, byte(i)))
	}
	rs := rules.Default()
	var cats [3]rules.Category
	for i, id := range []string{"functional", "analytics", "advertising"} {
		cats[i], _ = rs.CategoryByID(id)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 8 {
			return
		}
		edits := data[len(data)-8:]
		granted, mode, chunk, doc, ok := fuzzDoc(data[:len(data)-8])
		if !ok {
			return
		}
		var set rules.Set
		for i, on := range granted {
			if on {
				set = set.With(cats[i])
			}
		}
		page := slices.Concat(fuzzFiller(0), doc, fuzzFiller(1), doc, fuzzFiller(2))
		v1 := fuzzEdit(page, edits[:4])
		v2 := fuzzEdit(v1, edits[4:])
		// v2 with fresh values in the fillers: spliced, around the edits.
		v3 := bytes.ReplaceAll(v2, []byte(`nonce="n`), []byte(`nonce="k`))
		v3 = bytes.ReplaceAll(v3, []byte(`value='v`), []byte(`value='w`))
		v3 = bytes.ReplaceAll(v3, []byte(`"csrf":"c`), []byte(`"csrf":"d`))
		c, err := pagecache.New(1<<20, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(uint64(chunk), uint64(len(doc))))
		maxChunk := 1 + int(chunk)%64*16
		next := func() int { return 1 + rng.IntN(maxChunk) }
		key := []byte("fuzz")
		for i, d := range [][]byte{page, page, page, v3, v1, v2, page} {
			want, wantRemoved := uncachedRun(t, rs, set, mode, d)
			res := cachedRun(t, c, key, rs, set, mode, next, d, -1)
			c.Wait()
			if !bytes.Equal(res.out, want) {
				n := firstDiff(want, res.out)
				t.Fatalf("run %d: output differs at %d: %q, want %q\ndoc: %q", i, n, around(res.out, n), around(want, n), d)
			}
			if !slices.Equal(res.removed, wantRemoved) {
				t.Fatalf("run %d: removed %v, want %v", i, res.removed, wantRemoved)
			}
		}
	})
}

// fuzzFiller is plain markup with many cuts, different for each n, with
// values a replay may splice (a nonce on a tracker's script and on a kept
// one, a hidden field's value, a config script's token) now and then.
func fuzzFiller(n int) []byte {
	var b []byte
	for i := range 40 {
		b = fmt.Appendf(b, "<li><a href=\"/p/%d\">item %d</a></li>\n", n*40+i, i)
		switch i % 10 {
		case 3:
			b = fmt.Appendf(b, "<script nonce=\"n%03d\">gtag('config','G-%d')</script>\n", i, n)
		case 6:
			b = fmt.Appendf(b, "<input type=hidden name='t' value='v%03d'><script nonce=\"n%03d\" src=\"/a.js\"></script>\n", i, i)
		case 8:
			b = fmt.Appendf(b, "<script>var cfg={\"page\":%d,\"csrf\":\"c%03d\"};</script>\n", n, i)
		}
	}
	return b
}

// fuzzInserts are pieces of markup that change the filter's state.
var fuzzInserts = []string{
	"<svg>", "<math>", "<script>", "<style>", "<!--", "<select>", "<noscript>", "<template>",
	`<base href="https://www.google-analytics.com/">`, `<img src="https://www.facebook.com/tr?id=1">`,
	"<iframe>", "<textarea>", "</script>", "-->", "<a href='", "<p title=\"",
}

// fuzzEdit returns a copy of page with one edit: position (2 bytes), kind,
// byte.
func fuzzEdit(page, edit []byte) []byte {
	v := slices.Clone(page)
	at := (int(edit[0])<<8 | int(edit[1])) % (len(v) + 1)
	switch edit[2] % 4 {
	case 0:
		if at < len(v) {
			v[at] = edit[3]
		}
	case 1:
		v = v[:at]
	case 2:
		v = slices.Insert(v, at, edit[3])
	case 3:
		v = slices.Insert(v, at, []byte(fuzzInserts[int(edit[3])%len(fuzzInserts)])...)
	}
	return v
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
			res, err := tryCachedRun(c, []byte{byte(v.set), byte(i)}, rs, v.set, htmlfilter.Strip, func() int { return 4096 }, v.doc, -1)
			if err != nil {
				t.Fatal(err)
			}
			if res.replayed != (run == 2) {
				t.Fatalf("variant %d, run %d: replayed %v", i, run, res.replayed)
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
				res, err := tryCachedRun(c, key, rs, v.set, htmlfilter.Strip, func() int { return 1 + rng.IntN(5000) }, v.doc, -1)
				out, replayed := res.out, res.replayed
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

// spliceTemplate has the values a site renders per request in the
// attributes that the filter never reads (a meta tag's content, nonces in
// both quotes, on kept, deferred and removed scripts, a hidden field's
// value), in text, and in a kept script's text (a config with a token),
// beside attributes it reads ({{host}}: a refresh's URL, an image's): only
// the first three may be written anew into a replay.
const spliceTemplate = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="csrf-token" content="{{csrf}}"><title>{{title}}</title>
<meta name="description" content="Caf{{accent}} Example">
<script nonce="{{nonce}}" src="/app.js" defer></script>
<link rel="preload" as="script" nonce='{{nonce}}' href="/app.js">
<script nonce="{{nonce}}">window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-ABC123');</script>
<script nonce="{{nonce}}">window.__CONFIG__={"env":"production","cart":{{cart}},"csrf":"{{config}}"};</script>
<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView" height="1" width="1" alt="">
<meta http-equiv="refresh" content="600; url=https://{{host}}/next">
</head><body>
<p class="cart">Cart (<span class="cart-count">{{cart}}</span>)</p>
<ul>` + "{{filler}}" + `</ul>
<img src="https://{{host}}/p.gif" alt="">
<form method="post"><input type="hidden" name="authenticity_token" value="{{csrf}}"></form>
</body></html>`

// TestPageCacheSplices: a page whose only differences are fresh values of
// attributes the filter never reads, and of short text, is replayed whole,
// the new values in place, in any chunking; a difference in an attribute
// it reads, a new value of another length or with its quote byte in it,
// one that leaves the rest of a UTF-8 sequence invalid, and a difference
// elsewhere after a spliced value, all go through the live filter; every
// output and count is the uncached filter's.
func TestPageCacheSplices(t *testing.T) {
	rs := rules.Default()
	rng := rand.New(rand.NewPCG(5, 6))
	token := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_"
	filler := string(fuzzFiller(0))
	type values struct{ csrf, nonce, title, host, cart, accent, config string }
	fresh := func() values {
		return values{token(43, plain), token(24, plain), "Shop", "www.example.org", token(2, "0123456789"), "é",
			token(43, plain[:62]+"-_")}
	}
	render := func(v values) []byte {
		return []byte(strings.NewReplacer("{{csrf}}", v.csrf, "{{nonce}}", v.nonce, "{{title}}", v.title,
			"{{host}}", v.host, "{{cart}}", v.cart, "{{accent}}", v.accent, "{{config}}", v.config,
			"{{filler}}", filler).Replace(spliceTemplate))
	}
	for _, tc := range []struct {
		name    string
		vary    func(v values) values
		replays bool
	}{
		{"fresh tokens", func(v values) values { return v }, true},
		{"any printable byte", func(v values) values {
			v.csrf = token(43, plain+`<>&'!#$%()*,.:;?@[]^{|}~ `)
			return v
		}, true},
		{"a token of another length", func(v values) values { v.csrf += "x"; return v }, false},
		{"a quote in a double-quoted value", func(v values) values { v.nonce = v.nonce[:10] + `"` + v.nonce[11:]; return v }, false},
		{"a URL read", func(v values) values { v.host = "www.example.net"; return v }, false},
		{"a tracker's host read", func(v values) values { v.host = "doubleclick.net"; return v }, false},
		{"text after a spliced value", func(v values) values { v.title = "Sale"; return v }, false},
		{"a tag in text", func(v values) values { v.cart = "<b"; return v }, false},
		{"half a UTF-8 sequence", func(v values) values { v.accent = "e\xa9"; return v }, false},
		{"a quote in a script's text", func(v values) values { v.config = v.config[:10] + `"` + v.config[11:]; return v }, true},
		{"a tracker in a script's text", func(v values) values { v.config = `https://connect.facebook.net/en_US/fbevents`; return v }, false},
		{"an end tag in a script's text", func(v values) values { v.config = `</script><img src=//www.facebook.com/tr?a=1`; return v }, false},
		{"a comment in a script's text", func(v values) values { v.config = "<!--<script>" + v.config[12:]; return v }, false},
	} {
		for _, mode := range []htmlfilter.Mode{htmlfilter.Strip, htmlfilter.Defer} {
			c, err := pagecache.New(64<<20, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			key := []byte("splice")
			for i := range 3 {
				doc := render(fresh())
				cachedRun(t, c, key, rs, 0, mode, func() int { return len(doc) }, doc, -1)
				c.Wait()
				if i == 2 {
					break
				}
			}
			for i := range 6 {
				doc := render(tc.vary(fresh()))
				want, wantRemoved := uncachedRun(t, rs, 0, mode, doc)
				chunk := []int{1, 7, 64, 1 << 20, 13, 300}[i]
				res := cachedRun(t, c, key, rs, 0, mode, func() int { return chunk }, doc, -1)
				if !bytes.Equal(res.out, want) {
					d := firstDiff(want, res.out)
					t.Fatalf("%s %s run %d: output differs at %d: %q, want %q", tc.name, mode, i, d, around(res.out, d), around(want, d))
				}
				if !slices.Equal(res.removed, wantRemoved) {
					t.Errorf("%s %s run %d: removed %v, want %v", tc.name, mode, i, res.removed, wantRemoved)
				}
				if res.replayed != tc.replays || tc.replays && res.spliced == 0 {
					t.Errorf("%s %s run %d (chunks of %d): replayed %v, %d pieces spliced; want replayed %v", tc.name, mode, i, chunk, res.replayed, res.spliced, tc.replays)
				}
				if !tc.replays {
					c.Close() // a difference leaves the key alone: record anew
					c, _ = pagecache.New(64<<20, 1<<20)
					for range 2 {
						doc := render(fresh())
						cachedRun(t, c, key, rs, 0, mode, func() int { return len(doc) }, doc, -1)
						c.Wait()
					}
				}
			}
			c.Close()
		}
	}
}
