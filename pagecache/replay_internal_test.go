package pagecache

import (
	"bytes"
	"io"
	"testing"

	"github.com/consentedge/consentedge/internal/benchpage"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// replayOnce replays doc, remembered under key, to a countWriter in writes
// of 32 KiB, calling Flush after the write flushAfter (-1: never), and
// returns the writer and what it held right after that Flush.
func replayOnce(t *testing.T, c *Cache, key string, opt htmlfilter.Options, doc []byte, flushAfter int) (*countWriter, int) {
	t.Helper()
	rs := rules.Default()
	var r Filter
	var w countWriter
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	r.Reset(c, f, &w, rs.NewClassifier("https://www.example.com/", 0), opt, Document{URL: key, Length: -1})
	held := -1
	for i := 0; len(doc) > 0; i++ {
		n := min(len(doc), 32<<10)
		if _, err := r.Write(doc[:n]); err != nil {
			t.Fatal(err)
		}
		doc = doc[n:]
		if i == flushAfter {
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			held = w.Len()
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	return &w, held
}

// TestReplayWritesLarge: a replay writes its first output at once and the
// rest in writes of at least emitAtLeast, however its input is cut; a
// Flush writes what it has decided.
func TestReplayWritesLarge(t *testing.T) {
	c, err := New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc := benchpage.Shop(512 << 10)
	live, _ := replayOnce(t, c, "/", htmlfilter.Options{}, doc, -1)
	replayOnce(t, c, "/", htmlfilter.Options{}, doc, -1)
	w, _ := replayOnce(t, c, "/", htmlfilter.Options{}, doc, -1)
	if !bytes.Equal(w.Bytes(), live.Bytes()) {
		t.Fatal("the replay wrote other bytes than the live filter")
	}
	if most := 2 + w.Len()/emitAtLeast; w.writes > most {
		t.Errorf("a replay of %d bytes made %d writes, want at most %d", w.Len(), w.writes, most)
	}
	// The live filter wrote the page in about one write per input write.
	if live.writes < len(doc)/(32<<10) {
		t.Errorf("the live filter made %d writes", live.writes)
	}
	_, held := replayOnce(t, c, "/", htmlfilter.Options{}, doc, 2)
	if held < 2*(32<<10)-markStep {
		t.Errorf("after three input writes and a Flush, %d bytes written", held)
	}
}

// TestReplayXML: an XML document, which has no points, is handed to the
// live filter from its start when it differs.
func TestReplayXML(t *testing.T) {
	c, err := New(64<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opt := htmlfilter.Options{XML: true}
	doc := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">` +
		string(bytes.Repeat([]byte(`<g><rect width="1" height="1"/></g>`+"\n"), 400)) +
		`<image href="https://www.facebook.com/tr?id=1"/></svg>`)
	variant := bytes.Replace(doc, []byte(`width="1"`), []byte(`width="2"`), 1)
	for range 3 {
		replayOnce(t, c, "/x", opt, doc, -1)
	}
	w, _ := replayOnce(t, c, "/x", opt, variant, -1)
	var want bytes.Buffer
	f := htmlfilter.New(&want, rules.Default().NewClassifier("https://www.example.com/", 0), opt)
	f.Write(variant)
	f.Close()
	if !bytes.Equal(w.Bytes(), want.Bytes()) {
		t.Fatal("the variant came out other than the live filter makes it")
	}
	if bytes.Contains(want.Bytes(), []byte("facebook")) {
		t.Fatal("the tracker was kept")
	}
}
