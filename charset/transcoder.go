package charset

import "io"

// Transcoder is the "intended use" of the package comment in one type: it
// holds the first bytes of a document until its encoding is known as a
// browser would know it (BOM, then the Content-Type charset, then a <meta>
// in the first PrescanLen bytes: HTML §13.2.3.2), then writes the document
// on as UTF-8 through NewUTF8Writer. The proxy and the scan command both
// read documents through it, so they read the same text.
//
// The zero value is ready after Reset. A Transcoder is not safe for
// concurrent use.
type Transcoder struct {
	next   io.Writer
	ct     string // Content-Type as the origin sent it
	prefix []byte
	w      io.WriteCloser // nil until the encoding is known, then &u
	u      utf8Writer     // in the Transcoder, so that a document costs no allocation
	// unchecked: a UTF-8 document passes unchecked (LeaveUTF8Check).
	unchecked bool
}

// maxKeptPrefix bounds the prefix buffer a Transcoder keeps for its next
// document, so that one huge first write does not stay in a pool.
const maxKeptPrefix = 64 << 10

// Reset starts a document with the given Content-Type whose UTF-8 text goes
// to next. The prefix buffer is kept.
func (t *Transcoder) Reset(next io.Writer, contentType string) {
	t.next, t.ct, t.w, t.unchecked = next, contentType, nil, false
	t.prefix = t.prefix[:0]
}

// LeaveUTF8Check makes the document, if it turns out to be UTF-8, pass as
// it comes (less a BOM), invalid sequences and all: the next writer checks
// it (UTF8Check). Other encodings are decoded as ever, into valid UTF-8.
// It holds until the next Reset.
func (t *Transcoder) LeaveUTF8Check() { t.unchecked = true }

// Recycled returns an idle Transcoder that keeps only t's prefix buffer, for
// a pooled owner that clears itself: nothing of t's document stays
// reachable from it.
func (t *Transcoder) Recycled() Transcoder {
	return Transcoder{prefix: t.prefix[:0]}
}

// Write takes the next bytes of the document. Until the encoding is known
// they are held, and the length of p is reported as written.
func (t *Transcoder) Write(p []byte) (int, error) {
	if t.w != nil {
		return t.w.Write(p)
	}
	if len(t.prefix) == 0 {
		// Most bodies are decided by their first write (a charset in the
		// Content-Type, a BOM, an early <meta>): no copy of it.
		if enc, ok := Sniff(t.ct, p); ok {
			t.decided(enc)
			return t.w.Write(p)
		}
	}
	t.prefix = append(t.prefix, p...)
	enc, ok := Sniff(t.ct, t.prefix)
	if !ok {
		return len(p), nil
	}
	return len(p), t.start(enc)
}

// decided starts the document's decoding from enc.
func (t *Transcoder) decided(enc Encoding) {
	t.u = utf8Writer{w: t.next, enc: enc, unchecked: t.unchecked}
	t.w = &t.u
}

func (t *Transcoder) start(enc Encoding) error {
	t.decided(enc)
	_, err := t.w.Write(t.prefix)
	t.prefix = t.prefix[:0]
	if cap(t.prefix) > maxKeptPrefix {
		t.prefix = nil
	}
	return err
}

// Flush decides the encoding on the bytes there are, so that a flush is not
// held up by a prefix shorter than PrescanLen bytes. Browsers decide early
// too when data stalls; a <meta> that comes later is ignored, which at
// worst garbles text when the output is relabelled charset=utf-8
// (RelabelContentType) as it must be.
func (t *Transcoder) Flush() error {
	if t.w != nil || len(t.prefix) == 0 {
		return nil
	}
	enc, _ := Sniff(t.ct, t.prefix)
	return t.start(enc)
}

// Close ends the document: a short one is decided on what there is.
func (t *Transcoder) Close() error {
	if t.w == nil {
		enc, _ := Sniff(t.ct, t.prefix)
		if err := t.start(enc); err != nil {
			return err
		}
	}
	return t.w.Close()
}
