package caddymodule

import (
	"io"

	"github.com/consentedge/consentedge/rules/charset"
)

// transcoder stands in front of the filter, which reads UTF-8: it holds the
// first bytes of a document until its encoding is known as a browser would
// know it (BOM, then the Content-Type charset, then a <meta> in the first
// 1024 bytes: HTML §13.2.3), then writes the document on as UTF-8. The
// response is relabelled charset=utf-8, which outranks any <meta>, so the
// browser decodes exactly the bytes the filter read: a UTF-16 page cannot
// hide markup from it.
type transcoder struct {
	next   io.Writer
	ct     string // Content-Type as the origin sent it
	prefix []byte
	w      io.WriteCloser // nil until the encoding is known
}

func (t *transcoder) reset(next io.Writer, ct string) {
	t.next, t.ct, t.w = next, ct, nil
	t.prefix = t.prefix[:0]
}

func (t *transcoder) Write(p []byte) (int, error) {
	if t.w != nil {
		return t.w.Write(p)
	}
	if len(t.prefix) == 0 {
		// Most bodies are decided by their first write (a charset in the
		// Content-Type, a BOM, an early <meta>): no copy of it.
		if enc, ok := charset.Sniff(t.ct, p); ok {
			t.w = charset.NewUTF8Writer(t.next, enc)
			return t.w.Write(p)
		}
	}
	t.prefix = append(t.prefix, p...)
	enc, ok := charset.Sniff(t.ct, t.prefix)
	if !ok {
		return len(p), nil
	}
	return len(p), t.start(enc)
}

func (t *transcoder) start(enc charset.Encoding) error {
	t.w = charset.NewUTF8Writer(t.next, enc)
	_, err := t.w.Write(t.prefix)
	t.prefix = t.prefix[:0]
	if cap(t.prefix) > 64<<10 {
		t.prefix = nil // a huge first write: do not keep it in the pool
	}
	return err
}

// flush decides the encoding on the bytes there are, so that a flush is not
// held up by a prefix shorter than 1024 bytes. Browsers decide early too
// when data stalls; a <meta> that comes later is ignored, which at worst
// garbles text, since the response says charset=utf-8 either way.
func (t *transcoder) flush() error {
	if t.w != nil || len(t.prefix) == 0 {
		return nil
	}
	enc, _ := charset.Sniff(t.ct, t.prefix)
	return t.start(enc)
}

// Close ends the document: a short one is decided on what there is.
func (t *transcoder) Close() error {
	if t.w == nil {
		enc, _ := charset.Sniff(t.ct, t.prefix)
		if err := t.start(enc); err != nil {
			return err
		}
	}
	return t.w.Close()
}
