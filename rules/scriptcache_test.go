package rules

import (
	"fmt"
	"testing"
)

// testCaches are a copy of the default rules and its script cache, as the
// handler has them; the test closes it.
type testCaches struct {
	r       *Rules
	scripts *ScriptCache
}

func newTestCaches(t testing.TB) testCaches {
	r, err := Parse("copy.rules", nil, Default())
	if err != nil {
		t.Fatal(err)
	}
	tc := testCaches{r: r}
	if tc.scripts, err = r.NewScriptCache(1 << 20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.scripts.Close)
	return tc
}

// page is a classifier of the copy that reads scripts through the cache.
func (tc testCaches) page(granted Set) *Classifier {
	p := tc.r.NewClassifier(testPage, granted)
	p.UseScriptCache(tc.scripts)
	return p
}

// TestScriptCache: through the cache, every script gets the verdict it gets
// without it, in every consent state, on a miss and on a hit.
func TestScriptCache(t *testing.T) {
	plain := Default()
	cached := newTestCaches(t)
	states := []Set{0, Set(0).With(Analytics), Set(0).With(Advertising), Set(0).With(Functional).With(Analytics).With(Advertising)}
	for round := range 3 {
		for _, st := range states {
			p, q := plain.NewClassifier(testPage, st), cached.page(st)
			for _, tt := range scriptTests {
				text := []byte(tt.text + "\n/* " + string(make([]byte, 0)) + "padding to be cached: " +
					"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" +
					"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 */")
				if got, want := q.Script(text), p.Script(text); got != want {
					t.Errorf("round %d, state %b, %s: cached %+v, plain %+v", round, st, tt.name, got, want)
				}
			}
		}
		cached.scripts.c.Wait() // let the sets land before the next round
	}
	// The last round read from the cache: the entries are there. A tag's
	// short config line is kept too: pages rendered per request have it
	// read on every response, beside a nonce.
	c := cached.scripts.c
	p := cached.page(0)
	for _, s := range []string{firstPartyScript(), gtagConfig} {
		text := []byte(s)
		p.Script(text)
		p.Script(text)
		c.Wait()
		if _, ok := c.Get(c.Key(text)); !ok {
			t.Errorf("a script of %d bytes seen twice is not in the cache", len(text))
		}
	}
}

// TestRecentScripts: a classifier kept across responses (Reset) answers
// from the scripts it found last as the shared cache and a plain reading
// do, whatever the consent state, also when more scripts than it keeps
// share its places; and it forgets them for another cache, whose keys are
// hashes under other seeds.
func TestRecentScripts(t *testing.T) {
	plain := Default()
	cached := newTestCaches(t)
	states := []Set{0, Set(0).With(Analytics), Set(0).With(Advertising), Set(0).With(Functional).With(Analytics).With(Advertising)}
	q := cached.page(0)
	hits := 0
	for round := range 4 {
		for _, st := range states {
			p := plain.NewClassifier(testPage, st)
			q.Reset(cached.r, testPage, st)
			q.UseScriptCache(cached.scripts)
			for _, tt := range scriptTests {
				text := []byte(tt.text + "/* padded past minCachedScript: 0123456789012345678901234567890123456789012345678901234567890123 */")
				if _, ok := q.recent.get(cached.scripts.c.Key(text)); ok {
					hits++
				}
				if got, want := q.Script(text), p.Script(text); got != want {
					t.Errorf("round %d, state %b, %s: through the recent scripts %+v, plain %+v", round, st, tt.name, got, want)
				}
			}
		}
		cached.scripts.c.Wait()
	}
	if hits == 0 {
		t.Fatal("no script was answered from the recent ones")
	}

	// Two scripts of one place: the later one has it, and the earlier is
	// read again rather than answered for by the other's entry.
	c := cached.scripts.c
	first := []byte(gtagConfig)
	slot := c.Key(first).Slot(len(q.recent.entries))
	var second []byte
	for i := 0; second == nil; i++ {
		text := fmt.Appendf(nil, "%s/* %d */", firstPartyScript(), i)
		if c.Key(text).Slot(len(q.recent.entries)) == slot {
			second = text
		}
	}
	q.Reset(cached.r, testPage, 0)
	q.UseScriptCache(cached.scripts)
	for _, text := range [][]byte{first, first, second, second} {
		q.Script(text) // seen twice: cached, and recent
	}
	c.Wait()
	if _, ok := q.recent.get(c.Key(first)); ok {
		t.Error("a script whose place another took is still answered for")
	}
	if got, want := q.Script(first), plain.NewClassifier(testPage, 0).Script(first); got != want {
		t.Errorf("a script whose place another took: %+v, plain %+v", got, want)
	}
	if _, ok := q.recent.get(c.Key(first)); !ok {
		t.Error("a script found in the shared cache did not take its place back")
	}

	text := []byte(gtagConfig)
	q.Script(text)
	q.Script(text)
	if _, ok := q.recent.get(cached.scripts.c.Key(text)); !ok {
		t.Fatal("a script just read is not among the recent ones")
	}
	other := newTestCaches(t)
	q.Reset(other.r, testPage, 0)
	q.UseScriptCache(other.scripts)
	if _, ok := q.recent.get(cached.scripts.c.Key(text)); ok {
		t.Error("a classifier given another cache kept the last one's scripts")
	}
}

// gtagConfig is the Google tag's config lines, minified as sites often
// serve them.
const gtagConfig = `window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-ABC123');`

// BenchmarkScriptCache: what the cache buys on a hit, and costs on a miss.
func BenchmarkScriptCache(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"first-party-2KB", firstPartyScript()},
		{"meta-pixel", scriptTests[7].text},
		{"gtag-config-129B", gtagConfig},
		{"config-72B", `window.__CONFIG__={"env":"production","release":"2026.11.3","locale":"en"};`},
		{"short-40B", `document.documentElement.className='js';`},
	} {
		text := []byte(bc.text)
		b.Run(bc.name+"/uncached", func(b *testing.B) {
			p := Default().NewClassifier(testPage, 0)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				p.Script(text)
			}
		})
		b.Run(bc.name+"/hit", func(b *testing.B) {
			tc := newTestCaches(b)
			p := tc.page(0)
			p.Script(text)
			p.Script(text) // cached on the second sighting
			tc.scripts.c.Wait()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				p.Script(text)
			}
		})
		b.Run(bc.name+"/miss", func(b *testing.B) {
			p := newTestCaches(b).page(0)
			// A different script each time: vary its last bytes.
			t := append([]byte(nil), text...)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				t[len(t)-1], t[len(t)-2] = byte(i), byte(i>>8)
				p.Script(t)
			}
		})
	}
}
