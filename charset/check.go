package charset

import "io"

// UTF8Check is the UTF-8 decoder of NewUTF8Writer alone, for a reader that
// knows some of a document valid by other means and checks only the rest:
// a page cache, whose remembered pages were valid, checks only what it
// hands to the live filter. Valid text passes unchanged; each maximal
// subpart of an invalid sequence becomes U+FFFD (Encoding §8.1.1).
//
// The zero value is ready after Reset. A UTF8Check is not safe for
// concurrent use.
type UTF8Check struct{ u utf8Writer }

// Reset starts a document whose checked text goes to next. The output
// buffer is kept.
func (c *UTF8Check) Reset(next io.Writer) {
	c.u = utf8Writer{w: next, enc: Encoding{idUTF8}, decided: true, leadByte: -1, out: c.u.out[:0]}
}

// Write checks p and writes it on, a valid p as it is; an incomplete
// sequence at its end waits for the next Write or for Close.
func (c *UTF8Check) Write(p []byte) (int, error) {
	if c.u.closed {
		return 0, ErrClosed
	}
	n := len(p)
	if c.u.npend == 0 {
		// The valid run that starts p, most often all of it, goes on
		// as it is, not copied.
		i := validPrefix(p)
		c.u.writeOut(p[:i])
		p = p[i:]
	}
	c.u.decodeUTF8(p)
	c.u.flush()
	if c.u.err != nil {
		return 0, c.u.err
	}
	return n, nil
}

// Close writes an incomplete sequence at the end as U+FFFD, and reports
// the first error of the next writer.
func (c *UTF8Check) Close() error { return c.u.Close() }

// Pending reports whether the bytes written so far end in an incomplete
// sequence, held for the next Write. Right before or after an ASCII byte
// of valid text none is.
func (c *UTF8Check) Pending() bool { return c.u.npend > 0 }

// Replaced reports whether any invalid sequence was replaced.
func (c *UTF8Check) Replaced() bool { return c.u.replaced }
