package charset

import (
	"bytes"
	"strings"
	"testing"
)

// TestTranscoder: whatever the chunking, a Transcoder writes what
// NewUTF8Writer writes with the encoding Sniff decides on the whole body.
func TestTranscoder(t *testing.T) {
	long := strings.Repeat("a", PrescanLen)
	for _, c := range []struct{ name, ct, body string }{
		{"header charset", "text/html; charset=iso-8859-1", "<p>\xfcber</p>"},
		{"bom over header", "text/html; charset=utf-8", "\xff\xfe<\x00p\x00>\x00"},
		{"meta", "text/html", "<meta charset=windows-1252><p>caf\xe9</p>"},
		{"undeclared latin1", "text/html", "<p>caf\xe9</p>"},
		{"meta past the window", "text/html", long + "<meta charset=windows-1252>\xe9"},
		{"invalid utf-8 after the window", "", long + "\xff"},
		{"empty", "text/html", ""},
	} {
		enc, _ := Sniff(c.ct, []byte(c.body))
		var want bytes.Buffer
		w := NewUTF8Writer(&want, enc)
		w.Write([]byte(c.body))
		w.Close()
		for _, size := range []int{1, 3, 7, 1000, len(c.body) + 1} {
			var out bytes.Buffer
			var tc Transcoder
			tc.Reset(&out, c.ct)
			for b := []byte(c.body); len(b) > 0; {
				n := min(size, len(b))
				if m, err := tc.Write(b[:n]); m != n || err != nil {
					t.Fatalf("%s: Write = %d, %v", c.name, m, err)
				}
				b = b[n:]
			}
			if err := tc.Close(); err != nil {
				t.Fatalf("%s: Close: %v", c.name, err)
			}
			if out.String() != want.String() {
				t.Errorf("%s in pieces of %d: %q, want %q", c.name, size, out.String(), want.String())
			}
		}
	}
}

// TestTranscoderFlush: a flush decides on the bytes there are, so a page
// that stalls before PrescanLen bytes is not held back; a later <meta> no
// longer changes the encoding.
func TestTranscoderFlush(t *testing.T) {
	var out bytes.Buffer
	var tc Transcoder
	tc.Reset(&out, "text/html")
	tc.Write([]byte("<p>a</p>"))
	if out.Len() != 0 {
		t.Fatalf("undecided prefix written: %q", out.String())
	}
	if err := tc.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "<p>a</p>" {
		t.Fatalf("after Flush: %q", out.String())
	}
	tc.Write([]byte("<meta charset=windows-1252>\xe9"))
	tc.Close()
	if want := "<p>a</p><meta charset=windows-1252>\uFFFD"; out.String() != want {
		t.Errorf("got %q, want %q (decided as UTF-8 at the flush)", out.String(), want)
	}
}

// TestTranscoderRecycled: a recycled Transcoder keeps the prefix buffer and
// nothing of the document.
func TestTranscoderRecycled(t *testing.T) {
	var out bytes.Buffer
	var tc Transcoder
	tc.Reset(&out, "text/html")
	tc.Write([]byte("<p>"))
	r := tc.Recycled()
	if r.next != nil || r.ct != "" || r.w != nil || len(r.prefix) != 0 {
		t.Fatalf("recycled transcoder keeps the document: %+v", r)
	}
	if cap(r.prefix) == 0 {
		t.Error("prefix buffer not kept")
	}
}
