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
			if got := transcodeChecked(t, c.ct, c.body, size); got != want.String() {
				t.Errorf("%s in pieces of %d, the check left to a UTF8Check: %q, want %q", c.name, size, got, want.String())
			}
		}
	}
}

// transcodeChecked transcodes body in pieces of size, leaving the UTF-8
// check to a UTF8Check after the Transcoder, and returns what that writes.
func transcodeChecked(t *testing.T, ct, body string, size int) string {
	t.Helper()
	var out bytes.Buffer
	var check UTF8Check
	check.Reset(&out)
	var tc Transcoder
	tc.Reset(&check, ct)
	tc.LeaveUTF8Check()
	for b := []byte(body); len(b) > 0; {
		n := min(size, len(b))
		if _, err := tc.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := tc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := check.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestTranscoderLeavesUTF8Check: a UTF-8 document passes as it comes, but
// for its BOM, invalid sequences and all; any other is decoded.
func TestTranscoderLeavesUTF8Check(t *testing.T) {
	for _, c := range []struct{ name, ct, body, want string }{
		{"invalid utf-8", "text/html; charset=utf-8", "<p>a\xff\xc3</p>\xe2\x82", "<p>a\xff\xc3</p>\xe2\x82"},
		{"a bom", "text/html", "\xef\xbb\xbf<p>\xc3\xa9\x80", "<p>\xc3\xa9\x80"},
		{"latin-1", "text/html; charset=iso-8859-1", "<p>\xfc\xff", "<p>\xc3\xbc\xc3\xbf"},
		{"utf-16 by its bom", "text/html; charset=utf-8", "\xff\xfe<\x00\x00\xd8", "<\xef\xbf\xbd"},
	} {
		var out bytes.Buffer
		var tc Transcoder
		tc.Reset(&out, c.ct)
		tc.LeaveUTF8Check()
		tc.Write([]byte(c.body))
		tc.Close()
		if out.String() != c.want {
			t.Errorf("%s: %q, want %q", c.name, out.String(), c.want)
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
