package pagecache

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestPageCacheTooLong: a document of unknown length found too long as it
// arrives is not recorded again at its next sighting, nor while its
// remembered length is known to be too long; nor is a document that just
// differed from the remembered one.
func TestPageCacheTooLong(t *testing.T) {
	rs := rules.Default()
	c, err := New(64<<20, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	long := []byte(strings.Repeat("<p>a paragraph</p>\n", 10000))
	var r Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	run := func(key string, declared int64, doc []byte) mode {
		return filterOnce(t, &r, c, f, rs, Document{URL: key, Length: declared}, doc)
	}
	if m := run("long", -1, long); m != live {
		t.Fatalf("first sighting: mode %d", m)
	}
	if m := run("long", -1, long); m != recording {
		t.Fatalf("second sighting: mode %d, want recording", m)
	}
	for i := range 3 {
		if m := run("long", -1, long); m != live {
			t.Errorf("sighting %d after the too long one: mode %d, want live", i, m)
		}
	}
	if m := run("declared", int64(len(long)), long); m != live {
		t.Errorf("declared too long: mode %d", m)
	}
	if m := run("declared", int64(len(long)), long); m != live {
		t.Errorf("declared too long, second sighting: mode %d", m)
	}
	short := []byte("<p>short</p>")
	for range 2 {
		run("short", -1, short)
	}
	if m := run("short", -1, short); m != replaying {
		t.Fatalf("short page: mode %d, want replaying", m)
	}
	if m := run("short", -1, bytes.ToUpper(short)); m != replaying {
		t.Fatalf("short page that differs: mode %d, want replaying until it differs", m)
	}
	for i := range 3 {
		if m := run("short", -1, short); m != live {
			t.Errorf("sighting %d after a difference: mode %d, want live", i, m)
		}
	}
	if c.active.Load() != 0 {
		t.Errorf("%d recordings still counted", c.active.Load())
	}
}

// TestPageCacheBacksOff: a page that differs every time, too much to be
// replayed in part, is left alone a minute after its first difference, two after a
// second in a row, and so on, rather than recorded and compared once a
// minute for ever; a page that replayed in between starts again at a
// minute.
func TestPageCacheBacksOff(t *testing.T) {
	rs := rules.Default()
	c, err := New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	clock := time.Unix(1_000_000_000, 0)
	c.now = func() time.Time { return clock }
	var r Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	token := 0
	// run filters the page with a new token (or the last one, same) and
	// returns what the cache did with it at first. The token is most of
	// the page, in an attribute the filter may read.
	run := func(same bool) mode {
		t.Helper()
		if !same {
			token++
		}
		doc := fmt.Appendf(nil, `<p class="%s">x</p>`, strings.Repeat(fmt.Sprint(token), 40))
		return filterOnce(t, &r, c, f, rs, Document{URL: "/", Length: int64(len(doc))}, doc)
	}
	want := func(step string, got, want mode) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: mode %d, want %d", step, got, want)
		}
	}
	want("first sighting", run(false), live)
	want("second sighting", run(false), recording)
	want("first difference", run(false), replaying)
	want("right after it", run(false), live)
	clock = clock.Add(volatileFor + time.Second)
	want("a minute after the first difference", run(false), recording)
	want("second difference", run(false), replaying)
	clock = clock.Add(volatileFor + time.Second)
	want("a minute after the second difference", run(false), live)
	clock = clock.Add(volatileFor)
	want("two minutes after the second difference", run(false), recording)
	want("the page repeats", run(true), replaying)
	if !r.Replayed() {
		t.Fatal("the page that repeats was not replayed")
	}
	want("a difference after a replay", run(false), replaying)
	clock = clock.Add(volatileFor + time.Second)
	want("a minute after it", run(false), recording)
	for i := range 20 {
		want("another difference", run(false), replaying)
		clock = clock.Add(volatileFor << min(i+1, maxMisses-1))
		want("the longest wait after it", run(false), recording)
	}
}

// countWriter counts the writes that reach it and keeps their bytes.
type countWriter struct {
	writes int
	bytes.Buffer
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestRecordingWritesOnce: a recording makes one write of output per input
// write, as the live filter does for a page it keeps whole, however many
// pieces it feeds the filter for its marks; and writes what the live
// filter writes.
func TestRecordingWritesOnce(t *testing.T) {
	rs := rules.Default()
	c, err := New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc := []byte("<html><head><title>t</title></head><body>" + strings.Repeat("<p>a paragraph of text</p>\n", 1200))
	var r Filter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	var outs [2]countWriter
	for i := range outs {
		r.Reset(c, f, &outs[i], rs.NewClassifier("https://www.example.com/", 0), htmlfilter.Options{},
			Document{URL: "/", Length: -1})
		if i == 1 && r.mode != recording {
			t.Fatalf("second sighting: mode %d, want recording", r.mode)
		}
		if _, err := r.Write(doc); err != nil {
			t.Fatal(err)
		}
		if outs[i].writes > 1 {
			t.Errorf("sighting %d: %d writes for one input write of %d bytes", i, outs[i].writes, len(doc))
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		c.Wait()
	}
	if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Error("the recording wrote other bytes than the live filter")
	}
}

// filterOnce filters doc through r and the cache c for a visitor without
// consent, waits for the cache to take what it was given, and returns what
// r did with the document at first (live, replaying or recording).
func filterOnce(t *testing.T, r *Filter, c *Cache, f *htmlfilter.Filter, rs *rules.Rules, doc Document, b []byte) mode {
	t.Helper()
	r.Reset(c, f, io.Discard, rs.NewClassifier("https://www.example.com/", 0), htmlfilter.Options{}, doc)
	m := r.mode
	if _, err := r.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	return m
}
