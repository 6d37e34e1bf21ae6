package charset

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func enc(t testing.TB, name string) Encoding {
	t.Helper()
	e, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) failed", name)
	}
	return e
}

// decodeAll writes in to a NewUTF8Writer in chunks of the given sizes
// (cycled; nil = one write) and returns the output.
func decodeAll(t testing.TB, e Encoding, in []byte, sizes []int) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewUTF8Writer(&out, e)
	for k := 0; len(in) > 0; k++ {
		n := len(in)
		if len(sizes) > 0 {
			n = min(sizes[k%len(sizes)], len(in))
		}
		m, err := w.Write(in[:n])
		if err != nil || m != n {
			t.Fatalf("Write = %d, %v; want %d, nil", m, err, n)
		}
		in = in[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out.Bytes()
}

func utf16le(s string) string {
	var b []byte
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func utf16be(s string) string {
	le := []byte(utf16le(s))
	for i := 0; i+1 < len(le); i += 2 {
		le[i], le[i+1] = le[i+1], le[i]
	}
	return string(le)
}

func TestUTF8Writer(t *testing.T) {
	hidden := `<p>hi</p><script src="https://tracker.example/t.js"></script>`
	tests := []struct {
		name string
		enc  string
		in   string
		want string
	}{
		// UTF-8 (Encoding §8.1.1): pass-through, BOM stripped, maximal subparts.
		{"utf8 ascii", "utf-8", "<p>hello</p>", "<p>hello</p>"},
		{"utf8 multibyte", "utf-8", "caf\u00e9 \u20ac \U0001F600", "caf\u00e9 \u20ac \U0001F600"},
		{"utf8 BOM stripped", "utf-8", "\xEF\xBB\xBF<p>", "<p>"},
		{"utf8 second BOM kept", "utf-8", "\xEF\xBB\xBF\xEF\xBB\xBF<p>", "\uFEFF<p>"},
		{"utf8 lone continuation", "utf-8", "a\x80b", "a\uFFFDb"},
		{"utf8 truncated 3-byte then ascii", "utf-8", "\xE2\x82<", "\uFFFD<"},
		{"utf8 truncated 4-byte", "utf-8", "\xF0\x9F\x98<", "\uFFFD<"},
		{"utf8 overlong", "utf-8", "\xC0\xAF", "\uFFFD\uFFFD"},
		{"utf8 overlong E0", "utf-8", "\xE0\x80\xAF", "\uFFFD\uFFFD\uFFFD"},
		{"utf8 surrogate", "utf-8", "\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"utf8 above U+10FFFF", "utf-8", "\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"utf8 F5", "utf-8", "\xF5<", "\uFFFD<"},
		{"utf8 FF", "utf-8", "\xFF<\xFE", "\uFFFD<\uFFFD"},
		{"utf8 declared, utf-16le BOM", "utf-8", "\xFF\xFE", ""},
		{"utf8 truncated at end", "utf-8", "ab\xE2\x82", "ab\uFFFD"},
		{"utf8 partial BOM at end", "utf-8", "\xEF\xBB", "\uFFFD"},
		{"utf8 real U+FFFD", "utf-8", "\uFFFD", "\uFFFD"},
		{"empty", "utf-8", "", ""},

		// A BOM overrides the given encoding (Encoding §6 "decode").
		{"BOM utf-16le over windows-1252", "windows-1252", "\xFF\xFE" + utf16le("<a>"), "<a>"},
		{"BOM utf-8 over shift_jis", "shift_jis", "\xEF\xBB\xBF\u00e9", "\u00e9"},
		{"BOM utf-16be over replacement", "iso-2022-kr", "\xFE\xFF" + utf16be("<a>"), "<a>"},
		{"no BOM: EF then other", "windows-1252", "\xEF<", "\u00EF<"},

		// UTF-16 (Encoding §14.2.1): hidden markup becomes visible.
		{"utf16le hidden script", "utf-16le", utf16le(hidden), hidden},
		{"utf16le BOM hidden script", "utf-16le", "\xFF\xFE" + utf16le(hidden), hidden},
		{"utf16be hidden script", "utf-16be", utf16be(hidden), hidden},
		{"utf16be BOM", "utf-16be", "\xFE\xFF" + utf16be("\u00e9\U0001F600"), "\u00e9\U0001F600"},
		{"utf16le astral", "utf-16le", utf16le("x\U0001F600y"), "x\U0001F600y"},
		{"utf16le lone lead then ascii", "utf-16le", "\x00\xD8<\x00", "\uFFFD<"},
		{"utf16le lone trail", "utf-16le", "\x00\xDC<\x00", "\uFFFD<"},
		{"utf16le two trails", "utf-16le", "\x00\xDC\x00\xDC", "\uFFFD\uFFFD"},
		{"utf16le lead lead trail", "utf-16le", "\x00\xD8\x3D\xD8\x00\xDE", "\uFFFD\U0001F600"},
		{"utf16le odd byte at end", "utf-16le", "<\x00a", "<\uFFFD"},
		{"utf16le lead surrogate at end", "utf-16le", "<\x00\x00\xD8", "<\uFFFD"},
		{"utf16le lead surrogate and odd byte at end", "utf-16le", "\x00\xD8a", "\uFFFD"},
		{"utf16le NUL", "utf-16le", "\x00\x00", "\x00"},

		// replacement (Encoding §14.1).
		{"replacement", "iso-2022-kr", "<script src=x>", "\uFFFD"},
		{"replacement empty", "hz-gb-2312", "", ""},

		// Legacy single- and multi-byte encodings.
		{"windows-1252 high", "windows-1252", "caf\xE9 \x80 \x81 \x9F", "caf\u00e9 \u20ac \u0081 \u0178"},
		{"iso-8859-1 is 1252", "iso-8859-1", "\x80", "\u20ac"},
		{"iso-8859-2 C1", "iso-8859-2", "\x80\x9F\xA1", "\u0080\u009F\u0104"},
		{"iso-8859-8-i", "iso-8859-8-i", "\x80\xE0", "\u0080\u05D0"},
		{"iso-8859-3 unmapped", "iso-8859-3", "\xA5", "\uFFFD"},
		{"windows-1253 unmapped", "windows-1253", "\x81\xAA", "\u0081\uFFFD"},
		{"x-user-defined", "x-user-defined", "a\x80\xFF", "a\uF780\uF7FF"},
		{"koi8-r", "koi8-r", "\xF0\xD2\xC9\xD7\xC5\xD4", "\u041f\u0440\u0438\u0432\u0435\u0442"},
		{"shift_jis", "shift_jis", "\x93\xfa\x96\x7b<p>", "\u65e5\u672c<p>"},
		{"shift_jis invalid trail keeps ascii", "shift_jis", "\x81<p>", "\uFFFD<p>"},
		{"gbk decodes gb18030 four-byte", "gbk", "\x81\x30\x81\x30", "\u0080"},
		{"gbk 0x80 euro", "gbk", "\x80", "\u20ac"},
		{"euc-kr", "euc-kr", "\xc7\xd1", "\ud55c"},
		{"big5", "big5", "\xa4\xa4", "\u4e2d"},
		{"iso-2022-jp", "iso-2022-jp", "a\x1b$B$\"\x1b(Bb", "a\u3042b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := enc(t, tt.enc)
			got := decodeAll(t, e, []byte(tt.in), nil)
			if string(got) != tt.want {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
			// Chunking invariance: every split point, and byte-at-a-time.
			for i := 0; i <= len(tt.in); i++ {
				got := decodeAll(t, e, []byte(tt.in), []int{i, len(tt.in)})
				if i == 0 {
					got = decodeAll(t, e, []byte(tt.in), []int{1})
				}
				if string(got) != tt.want {
					t.Fatalf("split at %d: got %q; want %q", i, got, tt.want)
				}
			}
		})
	}
}

// TestRoundTrip encodes documents with x/text's encoders and checks the
// writer returns them byte for byte, under several chunkings.
func TestRoundTrip(t *testing.T) {
	doc := "<!doctype html><title>t</title><p>"
	tests := []struct {
		name string
		e    encoding.Encoding
		text string
	}{
		{"shift_jis", japanese.ShiftJIS, doc + "日本語のテキスト、カタカナ、ｶﾀｶﾅ ＡＢＣ" + `<script src="/a.js"></script>`},
		{"euc-jp", japanese.EUCJP, doc + "日本語のテキスト"},
		{"windows-1252", charmap.Windows1252, doc + "Café crème, naïve — “quotes” €5 ÿ"},
		{"gb18030", simplifiedchinese.GB18030, doc + "中文文本 𠀀 €"},
	}
	for _, tt := range tests {
		in, err := tt.e.NewEncoder().String(tt.text)
		if err != nil {
			t.Fatalf("%s: encode: %v", tt.name, err)
		}
		name, _ := Lookup(tt.name)
		for _, sizes := range [][]int{nil, {1}, {2}, {3}, {7, 1, 2}, {4096}} {
			got := decodeAll(t, name, []byte(in), sizes)
			if string(got) != tt.text {
				t.Errorf("%s sizes %v: got %q; want %q", tt.name, sizes, got, tt.text)
			}
		}
	}
}

// TestChunkInvariance splits several longer documents at every point (and
// into three at a sample of pairs) and compares with one write.
func TestChunkInvariance(t *testing.T) {
	long := strings.Repeat("<p>caf\u00e9 \U0001F600 \u65e5</p>", 60)
	docs := []struct {
		enc string
		in  string
	}{
		{"utf-8", "\xEF\xBB\xBF" + long + "\xE2\x82<\xF0\x9F\x98\xC3"},
		{"utf-8", long + "\x80\xBF\xC0" + long},
		{"utf-16le", "\xFF\xFE" + utf16le(long) + "\x00\xD8x"},
		{"utf-16be", utf16be(long) + "\x00\xDC\x00"},
		{"windows-1252", "\xEF\xBB" + strings.Repeat("caf\xE9 ", 300)},
		{"shift_jis", strings.Repeat("\x93\xfa\x96\x7b\x81<", 200) + "\x93"},
		{"gb18030", strings.Repeat("\x81\x30\x81\x30\xd6\xd0", 200) + "\x81\x30"},
		{"iso-2022-jp", strings.Repeat("a\x1b$B$\"\x1b(Bb", 150) + "\x1b$"},
		{"replacement", long},
	}
	for _, d := range docs {
		e := enc(t, d.enc)
		want := decodeAll(t, e, []byte(d.in), nil)
		if !utf8.Valid(want) {
			t.Errorf("%s: output not valid UTF-8", d.enc)
		}
		for i := 0; i <= len(d.in); i++ {
			if got := decodeAll(t, e, []byte(d.in), []int{i, len(d.in)}); !bytes.Equal(got, want) {
				t.Fatalf("%s: split at %d differs:\n got %q\nwant %q", d.enc, i, got, want)
			}
		}
		for i := 1; i < len(d.in); i += 37 {
			for j := 1; j < 9; j++ {
				if got := decodeAll(t, e, []byte(d.in), []int{i, j, len(d.in)}); !bytes.Equal(got, want) {
					t.Fatalf("%s: split at %d,%d differs", d.enc, i, i+j)
				}
			}
		}
	}
}

// TestUTF8WriterNoCopy checks that valid UTF-8 reaches w as the caller's
// slice (no copy) once past the BOM check.
func TestUTF8WriterNoCopy(t *testing.T) {
	var seen [][]byte
	w := NewUTF8Writer(writerFunc(func(p []byte) (int, error) {
		seen = append(seen, p)
		return len(p), nil
	}), Encoding{})
	chunk := bytes.Repeat([]byte("<p>caf\u00e9</p>"), 100)
	if _, err := w.Write(chunk[:10]); err != nil { // decides: no BOM
		t.Fatal(err)
	}
	seen = nil
	if _, err := w.Write(chunk); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || &seen[0][0] != &chunk[0] || len(seen[0]) != len(chunk) {
		t.Fatalf("valid chunk was not passed through as is: %d writes", len(seen))
	}
}

type errWriter struct{ n int }

var errBoom = errors.New("boom")

func (e *errWriter) Write(p []byte) (int, error) {
	if e.n--; e.n < 0 {
		return 0, errBoom
	}
	return len(p), nil
}

func TestUTF8WriterErrors(t *testing.T) {
	for _, name := range []string{"utf-8", "utf-16le", "shift_jis", "replacement"} {
		w := NewUTF8Writer(&errWriter{}, enc(t, name))
		in := []byte(strings.Repeat("<p>x</p>", 1000))
		if _, err := w.Write(in); !errors.Is(err, errBoom) {
			t.Errorf("%s: Write error = %v; want boom", name, err)
		}
		if _, err := w.Write(in); !errors.Is(err, errBoom) {
			t.Errorf("%s: second Write error = %v; want boom", name, err)
		}
		if err := w.Close(); !errors.Is(err, errBoom) {
			t.Errorf("%s: Close error = %v; want boom", name, err)
		}
	}
	// Buffered tail surfaces at Close.
	w := NewUTF8Writer(&errWriter{n: 1}, Encoding{})
	if _, err := w.Write([]byte("ab\xE2")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errBoom) {
		t.Errorf("Close error = %v; want boom", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v; want ErrClosed", err)
	}
	// A held BOM prefix is decoded at Close.
	var out bytes.Buffer
	w = NewUTF8Writer(&out, enc(t, "windows-1252"))
	w.Write([]byte{0xEF, 0xBB})
	if err := w.Close(); err != nil || out.String() != "\u00EF\u00BB" {
		t.Errorf("Close = %v, out %q", err, out.String())
	}
	var _ io.WriteCloser = w
}
