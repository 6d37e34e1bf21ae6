package pagecache

import (
	"bytes"
	"io"
	"strings"
	"testing"

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
	start := func(name string, declared int64) mode {
		r.Reset(c, f, io.Discard, rs.NewClassifier("https://www.example.com/", 0), htmlfilter.Options{},
			Document{URL: name, Length: declared})
		return r.mode
	}
	run := func(key string, declared int64, doc []byte) mode {
		mode := start(key, declared)
		if _, err := r.Write(doc); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		c.Wait()
		return mode
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
