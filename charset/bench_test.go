package charset

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func benchDoc(latin1 bool) []byte {
	p := "<div class=\"item\"><a href=\"/product/123\">Caf\u00e9 cr\u00e8me \u2014 na\u00efve</a><span>\u20ac12</span></div>\n"
	if latin1 {
		p = "<div class=\"item\"><a href=\"/product/123\">Caf\xe9 cr\xe8me \x97 na\xefve</a><span>\x8012</span></div>\n"
	}
	return []byte(strings.Repeat(p, 1<<20/len(p)))
}

// benchWriter writes doc in 32 KiB chunks, as a proxy's copy loop would.
func benchWriter(b *testing.B, e Encoding, doc []byte) {
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		w := NewUTF8Writer(io.Discard, e)
		for p := doc; len(p) > 0; {
			n := min(32<<10, len(p))
			w.Write(p[:n])
			p = p[n:]
		}
		w.Close()
	}
}

func BenchmarkUTF8Writer(b *testing.B) {
	b.Run("memmove-baseline", func(b *testing.B) {
		doc := benchDoc(false)
		dst := make([]byte, len(doc))
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			copy(dst, doc)
		}
	})
	b.Run("utf-8", func(b *testing.B) { benchWriter(b, Encoding{idUTF8}, benchDoc(false)) })
	b.Run("utf-8-ascii", func(b *testing.B) {
		benchWriter(b, Encoding{idUTF8}, bytes.Repeat([]byte("<p class=x>hello world</p>\n"), 40000))
	})
	b.Run("windows-1252", func(b *testing.B) { benchWriter(b, Encoding{idWindows1252}, benchDoc(true)) })
	b.Run("shift_jis", func(b *testing.B) {
		benchWriter(b, enc(b, "shift_jis"), bytes.Repeat([]byte("<p>\x93\xfa\x96\x7b\x8c\xea</p>\n"), 80000))
	})
}
