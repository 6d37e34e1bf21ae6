package charset

import (
	"bytes"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzUTF8Writer: never panics, always emits valid UTF-8, and the output does
// not depend on how the input is cut into writes.
func FuzzUTF8Writer(f *testing.F) {
	f.Add([]byte("<p>caf\xc3\xa9</p>"), uint8(idUTF8), []byte{1, 2, 3})
	f.Add([]byte("\xEF\xBB\xBF\xE2\x82<\xF0\x9F\x98"), uint8(idUTF8), []byte{1})
	f.Add([]byte("\xFF\xFE<\x00s\x00\x00\xD8"), uint8(idWindows1252), []byte{3, 1})
	f.Add([]byte("\x00<\x00s\xD8\x00\xDC\x00\x00"), uint8(idUTF16BE), []byte{2, 5})
	f.Add([]byte("\x93\xfa\x96\x7b\x81<\x93"), uint8(len(names)-2), []byte{1})
	f.Add([]byte("a\x1b$B$\"\x1b(Bb\x1b$"), uint8(idISO2022JP), []byte{4, 1})
	f.Add([]byte("\x81\x30\x81\x30\x80\x81"), uint8(idGBK), []byte{1, 1, 2})
	f.Add([]byte("x"), uint8(idReplacement), []byte{})
	f.Fuzz(func(t *testing.T, in []byte, id uint8, cuts []byte) {
		e := Encoding{id % uint8(len(names))}
		var one bytes.Buffer
		w := NewUTF8Writer(&one, e)
		if _, err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(one.Bytes()) {
			t.Fatalf("%s: invalid UTF-8 output %q", e.Name(), one.Bytes())
		}
		var many bytes.Buffer
		w = NewUTF8Writer(&many, e)
		writeCut(t, w, in, cuts)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one.Bytes(), many.Bytes()) {
			t.Fatalf("%s: chunked output %q differs from %q", e.Name(), many.Bytes(), one.Bytes())
		}
		noBOM := !bytes.HasPrefix(in, bomUTF8) && !bytes.HasPrefix(in, bomUTF16BE) && !bytes.HasPrefix(in, bomUTF16LE)
		if e.IsUTF8() && utf8.Valid(in) && noBOM && !bytes.Equal(one.Bytes(), in) {
			t.Fatalf("valid UTF-8 changed: %q -> %q", in, one.Bytes())
		}
		if e.IsUTF8() && noBOM {
			checkLikeDecoder(t, in, cuts, one.Bytes())
		}
	})
}

// checkLikeDecoder: a UTF8Check makes of in, cut into writes, what the
// UTF-8 decoder made of it (want); it says when a sequence is pending at
// the end, and whether it replaced any.
func checkLikeDecoder(t *testing.T, in, cuts, want []byte) {
	t.Helper()
	var out bytes.Buffer
	var c UTF8Check
	c.Reset(&out)
	writeCut(t, &c, in, cuts)
	before, pending := out.Len(), c.Pending()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("check: %q, decoder: %q", out.Bytes(), want)
	}
	if pending != (out.Len() > before) {
		t.Fatalf("Pending() %v before Close, which wrote %q", pending, out.Bytes()[before:])
	}
	if c.Replaced() == utf8.Valid(in) {
		t.Fatalf("Replaced() %v for %q", c.Replaced(), in)
	}
}

// writeCut writes in to w in writes of the lengths cuts gives in turn.
func writeCut(t *testing.T, w io.Writer, in, cuts []byte) {
	t.Helper()
	for k := 0; len(in) > 0; k++ {
		n := len(in)
		if len(cuts) > 0 {
			n = min(max(int(cuts[k%len(cuts)]), 1), n) // a zero cut would never progress
		}
		if _, err := w.Write(in[:n]); err != nil {
			t.Fatal(err)
		}
		in = in[n:]
	}
}

// FuzzSniff: never panics; ok is always true from 1024 bytes on; and once
// ok, no continuation changes the answer.
func FuzzSniff(f *testing.F) {
	f.Add("text/html; charset=gbk", []byte("\xFE"), []byte("\xFF"))
	f.Add("", []byte("<meta charset=koi8-r>"), []byte("<meta charset=gbk>"))
	f.Add("", []byte("<meta http-equiv=content-type content='charset=big5'"), []byte(">"))
	f.Add("text/html;charset=\"a\\", []byte("<!-- <meta charset=gbk> --"), []byte(">"))
	f.Add("text/html; charset=utf-16be", []byte("\xFE"), []byte("\xFF\x00<"))
	f.Add("", []byte("<\x00?\x00"), []byte("x\x00"))
	f.Add("", bytes.Repeat([]byte("a"), 1020), []byte("<meta charset=gbk>"))
	f.Fuzz(func(t *testing.T, ct string, prefix, more []byte) {
		e, ok := Sniff(ct, prefix)
		if len(prefix) >= PrescanLen && !ok {
			t.Fatalf("not ok with %d bytes", len(prefix))
		}
		if int(e.id) >= len(names) {
			t.Fatalf("bad encoding id %d", e.id)
		}
		if ok {
			full := append(append([]byte(nil), prefix...), more...)
			if e2, _ := Sniff(ct, full); e2 != e {
				t.Fatalf("ok for %q gave %s, but %q gives %s", prefix, e.Name(), full, e2.Name())
			}
		}
		_ = RelabelContentType(ct)
	})
}
