package pagecache

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// toyPolicy blocks the URLs and scripts that contain "tracker"; its key is
// its name.
type toyPolicy struct{ name string }

func (p toyPolicy) URL(raw []byte) htmlfilter.Verdict {
	return htmlfilter.Verdict{Block: bytes.Contains(raw, []byte("tracker")), Vendor: "toy"}
}
func (p toyPolicy) Script(text []byte) htmlfilter.Verdict   { return p.URL(text) }
func (p toyPolicy) JudgeScript(t []byte) htmlfilter.Verdict { return p.Script(t) }
func (p toyPolicy) SetBase(href []byte) htmlfilter.Verdict  { return p.URL(href) }
func (p toyPolicy) AppendKey(dst []byte) []byte             { return append(dst, p.name...) }
func (p toyPolicy) AppendState(dst []byte) []byte           { return dst }
func (p toyPolicy) RestoreState([]byte) bool                { return true }

// TestKeyNamesEveryOption: every field of htmlfilter.Options changes the
// key, or (OnBlock) keeps the filter live. A field added to Options fails
// this test until the key names it.
func TestKeyNamesEveryOption(t *testing.T) {
	c, err := New(1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := toyPolicy{"p"}
	doc := Document{URL: "/", Version: `"v1"`}
	base := c.appendKey(nil, p, htmlfilter.Options{}, doc)
	set := map[string]func(*htmlfilter.Options){
		"Mode":        func(o *htmlfilter.Options) { o.Mode = htmlfilter.Defer },
		"MaxBuffer":   func(o *htmlfilter.Options) { o.MaxBuffer = 1 << 10 },
		"Dialect":     func(o *htmlfilter.Options) { o.Dialect = &htmlfilter.Dialect{} },
		"HeadPrelude": func(o *htmlfilter.Options) { o.HeadPrelude = []byte("<script>x</script>") },
		"BodyPrelude": func(o *htmlfilter.Options) { o.BodyPrelude = []byte("<div>banner</div>") },
		"XML":         func(o *htmlfilter.Options) { o.XML = true },
		"OnBlock":     nil, // never cached: TestOnBlockLive
	}
	for field := range reflect.TypeFor[htmlfilter.Options]().Fields() {
		change, ok := set[field.Name]
		if !ok {
			t.Errorf("htmlfilter.Options.%s is not named by the page cache key (appendKey)", field.Name)
			continue
		}
		if change == nil {
			continue
		}
		var opt htmlfilter.Options
		change(&opt)
		if bytes.Equal(c.appendKey(nil, p, opt, doc), base) {
			t.Errorf("Options.%s set: same key", field.Name)
		}
	}
	// Two dialects are two keys, and one dialect is one key.
	d1, d2 := &htmlfilter.Dialect{}, &htmlfilter.Dialect{}
	k1 := c.appendKey(nil, p, htmlfilter.Options{Dialect: d1}, doc)
	if bytes.Equal(k1, c.appendKey(nil, p, htmlfilter.Options{Dialect: d2}, doc)) {
		t.Error("two dialects, one key")
	}
	if !bytes.Equal(k1, c.appendKey(nil, p, htmlfilter.Options{Dialect: d1}, doc)) {
		t.Error("one dialect, two keys")
	}
	for name, other := range map[string][]byte{
		"policy":  c.appendKey(nil, toyPolicy{"q"}, htmlfilter.Options{}, doc),
		"url":     c.appendKey(nil, p, htmlfilter.Options{}, Document{URL: "/?a", Version: doc.Version}),
		"version": c.appendKey(nil, p, htmlfilter.Options{}, Document{URL: doc.URL, Version: `"v2"`}),
		// The document's name cannot run into the policy's key.
		"boundary": c.appendKey(nil, toyPolicy{`"p`}, htmlfilter.Options{}, Document{URL: "/", Version: `"v1`}),
	} {
		if bytes.Equal(other, base) {
			t.Errorf("another %s: same key", name)
		}
	}
}

// run filters doc through r on c and returns the output.
func run(t *testing.T, c *Cache, r *Filter, opt htmlfilter.Options, doc string) string {
	t.Helper()
	var out bytes.Buffer
	r.Reset(c, htmlfilter.New(io.Discard, nil, htmlfilter.Options{}), &out, toyPolicy{"p"}, opt, Document{URL: "/", Length: -1})
	if _, err := r.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	return out.String()
}

const toyDoc = `<p>a</p><img nonce="n1" src="/tracker.gif"><p>b</p><script>cfg="c1-0000";</script><input type=hidden value="v1">`

// remembered returns a cache that replays toyDoc under the zero options.
func remembered(t *testing.T) *Cache {
	t.Helper()
	c, err := New(1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var r Filter
	for range 2 {
		run(t, c, &r, htmlfilter.Options{}, toyDoc)
	}
	run(t, c, &r, htmlfilter.Options{}, toyDoc)
	if !r.Replayed() {
		t.Fatal("not remembered")
	}
	return c
}

// TestOnBlockLive: a filter with an OnBlock hook is never replayed, since a
// replay would not call the hook.
func TestOnBlockLive(t *testing.T) {
	c := remembered(t)
	var r Filter
	blocked := 0
	run(t, c, &r, htmlfilter.Options{OnBlock: func(htmlfilter.Blocked) { blocked++ }}, toyDoc)
	if r.Replayed() || blocked != 1 {
		t.Errorf("replayed %v, OnBlock called %d times, want live and once", r.Replayed(), blocked)
	}
}

// TestPromiseLength: a document that differs from the remembered one after
// its length was promised does nothing until the promise is withdrawn,
// then goes on live with nothing lost; in Close as in Write.
func TestPromiseLength(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"write", `<p>a</p><img src="/other-tracker.gif"><p>b</p>`},
		{"close", toyDoc[:len(toyDoc)-4]},
	} {
		c := remembered(t) // a divergence leaves the key alone for a while
		var r Filter
		var out bytes.Buffer
		f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
		r.Reset(c, f, &out, toyPolicy{"p"}, htmlfilter.Options{}, Document{URL: "/", Length: -1})
		in, n, ok := r.Remembered()
		if !ok || in != len(toyDoc) || n >= in {
			t.Fatalf("%s: remembered %d, %d, %v", tc.name, in, n, ok)
		}
		r.PromiseLength()
		_, err := r.Write([]byte(tc.doc))
		if err == nil {
			err = r.Close()
		}
		if err != ErrPromised {
			t.Fatalf("%s: %v, want ErrPromised", tc.name, err)
		}
		r.WithdrawPromise()
		if tc.name == "write" {
			if _, err := r.Write([]byte(tc.doc)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		live := htmlfilter.New(&want, toyPolicy{"p"}, htmlfilter.Options{})
		_, _ = live.Write([]byte(tc.doc))
		_ = live.Close()
		if out.String() != want.String() {
			t.Errorf("%s: %q, want %q", tc.name, out.String(), want.String())
		}
	}
}

// TestPromiseKeptBySplice: a document that differs from the remembered one
// only in values the filter does not read, each as long as before, keeps
// the promised length: it is replayed whole, the new values in place, in
// any chunking.
func TestPromiseKeptBySplice(t *testing.T) {
	c := remembered(t)
	doc := strings.NewReplacer(`"n1"`, `"n2"`, `"v1"`, `"w7"`, `"c1-0000"`, `"c2-1234"`).Replace(toyDoc)
	var want bytes.Buffer
	f := htmlfilter.New(&want, toyPolicy{"p"}, htmlfilter.Options{})
	f.Write([]byte(doc))
	f.Close()
	for chunk := 1; chunk <= len(doc); chunk++ {
		var r Filter
		var out bytes.Buffer
		r.Reset(c, htmlfilter.New(io.Discard, nil, htmlfilter.Options{}), &out, toyPolicy{"p"}, htmlfilter.Options{}, Document{URL: "/", Length: -1})
		if _, n, ok := r.Remembered(); !ok || n != want.Len() {
			t.Fatalf("remembered output of %d bytes, %v; want %d", n, ok, want.Len())
		}
		r.PromiseLength()
		for b := []byte(doc); len(b) > 0; {
			k := min(chunk, len(b))
			if _, err := r.Write(b[:k]); err != nil {
				t.Fatalf("chunks of %d: %v", chunk, err)
			}
			b = b[k:]
		}
		if err := r.Close(); err != nil {
			t.Fatalf("chunks of %d: %v", chunk, err)
		}
		if out.String() != want.String() || !r.Replayed() || r.Spliced() != 3 {
			t.Fatalf("chunks of %d: %q, replayed %v, %d spliced; want %q replayed, 3 spliced", chunk, out.String(), r.Replayed(), r.Spliced(), want.String())
		}
	}
}

// TestPromiseScriptJudged: a script's new text that the policy does not let
// through breaks the promise when its last byte comes, in any chunking,
// whatever of it came before; once the promise is withdrawn the document
// goes on live from before the script, which it removes, as the filter
// without the cache does.
func TestPromiseScriptJudged(t *testing.T) {
	c := remembered(t)
	doc := strings.Replace(toyDoc, `cfg="c1-0000";`, `x="tracker00";`, 1)
	var want bytes.Buffer
	f := htmlfilter.New(&want, toyPolicy{"p"}, htmlfilter.Options{})
	f.Write([]byte(doc))
	f.Close()
	end := strings.Index(doc, "</script>")
	for chunk := 1; chunk <= len(doc); chunk++ {
		var r Filter
		var out bytes.Buffer
		r.Reset(c, htmlfilter.New(io.Discard, nil, htmlfilter.Options{}), &out, toyPolicy{"p"}, htmlfilter.Options{}, Document{URL: "/", Length: -1})
		r.PromiseLength()
		broken := -1
		for at := 0; at < len(doc); {
			k := min(chunk, len(doc)-at)
			_, err := r.Write([]byte(doc[at : at+k]))
			if err == ErrPromised && broken < 0 {
				broken = at
				r.WithdrawPromise()
				continue
			}
			if err != nil {
				t.Fatalf("chunks of %d: %v", chunk, err)
			}
			at += k
		}
		if err := r.Close(); err != nil {
			t.Fatalf("chunks of %d: %v", chunk, err)
		}
		if broken < 0 || broken >= end || broken+chunk < end {
			t.Errorf("chunks of %d: the promise broke at %d, want with the write that ends the text at %d", chunk, broken, end)
		}
		if out.String() != want.String() || r.Replayed() {
			t.Fatalf("chunks of %d: %q, replayed %v; want %q live", chunk, out.String(), r.Replayed(), want.String())
		}
	}
}
