package charset

import (
	"errors"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// outSize bounds the output buffer of a writer; valid UTF-8 longer than
// directMin bypasses it.
const (
	outSize   = 4096
	directMin = 512
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("charset: write after close")

const fffd = "\uFFFD"

// NewUTF8Writer returns a writer that decodes the bytes written to it from enc
// to UTF-8 on w, as the Encoding standard's "decode" does (§6): a leading BOM
// overrides enc and is dropped, and invalid input becomes U+FFFD. Output is
// written before each Write returns, except for an incomplete sequence at the
// end of the input so far (at most a few bytes), which waits for the next
// Write or for Close. Close flushes it and returns the first error of w; it
// does not close w.
func NewUTF8Writer(w io.Writer, enc Encoding) io.WriteCloser {
	return &utf8Writer{w: w, enc: enc}
}

type utf8Writer struct {
	w   io.Writer
	enc Encoding
	err error

	// BOM sniffing: up to 2 bytes held until a BOM is ruled in or out.
	head    [3]byte
	nhead   int
	decided bool
	closed  bool

	// UTF-8: an incomplete but so far valid sequence.
	pend  [4]byte
	npend int

	// UTF-16 (Encoding §14.2.1): lead byte and lead surrogate.
	leadByte      int // -1 when null
	leadSurrogate uint16

	// replaced: whether U+FFFD was emitted.
	replaced bool
	// unchecked: UTF-8 passes as it comes; the next writer checks it
	// (Transcoder.LeaveUTF8Check).
	unchecked bool

	// single-byte encodings: the UTF-8 of bytes 0x80-0xFF.
	sb *[128][4]byte

	// other legacy encodings.
	tw *transform.Writer

	out []byte
}

func (u *utf8Writer) Write(p []byte) (int, error) {
	if u.closed {
		return 0, ErrClosed
	}
	if u.err != nil {
		return 0, u.err
	}
	n := len(p)
	if !u.decided {
		// Encoding §6 "BOM sniff" peeks three bytes: hold the start of the
		// stream while it can still be a BOM.
		for len(p) > 0 && u.nhead < 3 && isBOMPrefix(u.head[:u.nhead]) {
			u.head[u.nhead] = p[0]
			u.nhead++
			p = p[1:]
		}
		if isBOMPrefix(u.head[:u.nhead]) {
			return n, nil // still undecided; all of p is held
		}
		held := u.decide()
		u.decode(held)
	}
	u.decode(p)
	u.flush()
	if u.err != nil {
		return 0, u.err
	}
	return n, nil
}

// decide settles the encoding from the held head bytes and returns the held
// bytes that follow the BOM, if any.
func (u *utf8Writer) decide() []byte {
	u.decided = true
	u.leadByte = -1
	head := u.head[:u.nhead]
	if e, ok := bomEncoding(head); ok {
		u.enc = e
		if e.IsUTF8() {
			head = head[3:]
		} else {
			head = head[2:]
		}
	}
	switch u.enc.id {
	case idUTF8, idUTF16BE, idUTF16LE, idReplacement:
	default:
		d := u.enc.decoder()
		if cm, ok := d.(*charmap.Charmap); ok {
			u.sb = singleByteTable(cm)
		} else if d != nil {
			u.tw = transform.NewWriter(writerFunc(u.writeOut), d.NewDecoder())
		} else {
			u.enc = Encoding{idReplacement} // cannot happen: every id has a decoder
		}
	}
	return head
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// writeOut is the sink of the legacy transform.Writer: it writes straight to
// w (transform.Writer already buffers).
func (u *utf8Writer) writeOut(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		u.err = err
	}
	return n, err
}

func (u *utf8Writer) decode(p []byte) {
	if len(p) == 0 || u.err != nil {
		return
	}
	switch u.enc.id {
	case idUTF8:
		if u.unchecked {
			u.flush()
			u.writeOut(p)
			return
		}
		u.decodeUTF8(p)
	case idUTF16BE:
		u.decodeUTF16(p, true)
	case idUTF16LE:
		u.decodeUTF16(p, false)
	case idReplacement:
		// Encoding §14.1: the first byte is an error, then the decoder is
		// finished: one U+FFFD for any non-empty stream.
		if !u.replaced {
			u.replaced = true
			u.put([]byte(fffd))
		}
	default:
		if u.sb != nil {
			u.decodeSingleByte(p)
		} else if _, err := u.tw.Write(p); err != nil && u.err == nil {
			u.err = err
		}
	}
}

// singleByteTable returns the UTF-8 for the bytes 0x80-0xFF of a single-byte
// encoding (Encoding §9). The WHATWG indexes give every byte 0x80-0x9F a code
// point (the C1 control when nothing else: windows-1252 0x81 is U+0081, and
// ISO-8859-2 0x80 is U+0080) where x/text's charmaps say U+FFFD; other
// unmapped bytes stay errors (U+FFFD).
func singleByteTable(cm *charmap.Charmap) *[128][4]byte {
	var t [128][4]byte
	for i := range t {
		b := byte(0x80 + i)
		r := cm.DecodeByte(b)
		if r == utf8.RuneError && b < 0xA0 {
			r = rune(b)
		}
		utf8.EncodeRune(t[i][:], r)
	}
	return &t
}

// decodeSingleByte maps p into the output buffer; long ASCII runs go to w
// directly.
func (u *utf8Writer) decodeSingleByte(p []byte) {
	if u.out == nil {
		u.out = make([]byte, 0, outSize)
	}
	out := u.out
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			j := i + 1
			for j < len(p) && p[j] < utf8.RuneSelf && j-i < directMin {
				j++
			}
			if j-i >= directMin {
				for j < len(p) && p[j] < utf8.RuneSelf {
					j++
				}
				u.out = out
				u.put(p[i:j])
				out = u.out
			} else {
				if len(out)+(j-i) > outSize {
					u.out = out
					u.flush()
					out = u.out
				}
				out = append(out, p[i:j]...)
			}
			i = j
			continue
		}
		if len(out)+3 > outSize {
			u.out = out
			u.flush()
			out = u.out
		}
		s := &u.sb[c-0x80]
		if s[0] < 0xE0 {
			out = append(out, s[0], s[1])
		} else {
			out = append(out, s[0], s[1], s[2])
		}
		i++
	}
	u.out = out
}

// Close flushes a pending incomplete sequence (as U+FFFD, Encoding §8.1.1
// and §14.2.1 at end of queue) and reports the first error.
func (u *utf8Writer) Close() error {
	if u.closed {
		return u.err
	}
	u.closed = true
	if u.err != nil {
		return u.err
	}
	if !u.decided {
		u.decode(u.decide())
	}
	switch u.enc.id {
	case idUTF8:
		if u.npend > 0 {
			u.npend = 0
			u.replace()
		}
	case idUTF16BE, idUTF16LE:
		if u.leadByte >= 0 || u.leadSurrogate != 0 {
			u.leadByte, u.leadSurrogate = -1, 0
			u.put([]byte(fffd))
		}
	case idReplacement:
	default:
		if u.tw == nil {
			break
		}
		if err := u.tw.Close(); err != nil && u.err == nil {
			u.err = err
		}
	}
	u.flush()
	return u.err
}

// put appends to the output buffer; long runs go straight to w.
func (u *utf8Writer) put(b []byte) {
	if len(b) >= directMin {
		u.flush()
		u.writeOut(b)
		return
	}
	if len(u.out)+len(b) > outSize {
		u.flush()
	}
	// Grown as needed: a UTF-8 body puts only a few bytes here (the
	// three held while a BOM was possible, a sequence cut between
	// writes), and should not cost outSize.
	u.out = append(u.out, b...)
}

func (u *utf8Writer) flush() {
	if len(u.out) > 0 && u.err == nil {
		u.writeOut(u.out)
	}
	u.out = u.out[:0]
}

// decodeUTF8 is the UTF-8 decoder of Encoding §8.1.1: valid input passes
// through unchanged and each maximal subpart of an invalid sequence becomes
// one U+FFFD (so an ASCII byte after a truncated sequence is never eaten).
func (u *utf8Writer) decodeUTF8(p []byte) {
	if u.npend > 0 {
		// Complete the held sequence with at most 3 more bytes.
		var tmp [7]byte
		k := copy(tmp[:], u.pend[:u.npend])
		k += copy(tmp[k:], p)
		n, st := scanSeq(tmp[:k])
		switch st {
		case seqIncomplete:
			copy(u.pend[:], tmp[:k])
			u.npend = k
			return
		case seqValid:
			u.put(tmp[:n])
		case seqInvalid:
			u.replace()
		}
		p = p[n-u.npend:] // n >= npend: the held bytes were a valid prefix
		u.npend = 0
	}
	for len(p) > 0 {
		i := validPrefix(p)
		if i > 0 {
			u.put(p[:i])
			p = p[i:]
			if len(p) == 0 {
				return
			}
		}
		n, st := scanSeq(p)
		if st == seqIncomplete {
			u.npend = copy(u.pend[:], p)
			return
		}
		u.replace()
		p = p[n:]
	}
}

// replace writes the U+FFFD of an invalid sequence.
func (u *utf8Writer) replace() {
	u.replaced = true
	u.put([]byte(fffd))
}

const (
	seqValid = iota
	seqInvalid
	seqIncomplete
)

// scanSeq examines the sequence starting at b[0] (a byte >= 0x80 or one
// that follows an incomplete sequence) with the bounds of Encoding §8.1.1.
// For seqValid n is its length, for seqInvalid the length of the maximal
// subpart to replace by one U+FFFD (at least 1), for seqIncomplete len(b).
func scanSeq(b []byte) (n int, st int) {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c < 0x80:
		return 1, seqValid
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case 0xE0 <= c && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case 0xF0 <= c && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1, seqInvalid
	}
	for i := 1; i <= need; i++ {
		if i >= len(b) {
			return len(b), seqIncomplete
		}
		if b[i] < lo || b[i] > hi {
			return i, seqInvalid
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, seqValid
}

// validPrefix returns the length of the longest prefix of p that is valid
// UTF-8 made of complete sequences.
func validPrefix(p []byte) int {
	body := len(p) - incompleteTail(p)
	if utf8.Valid(p[:body]) {
		return body
	}
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		n, st := scanSeq(p[i:])
		if st != seqValid {
			return i
		}
		i += n
	}
	return len(p)
}

// incompleteTail returns the length of a valid but incomplete sequence at the
// end of p (0 to 3).
func incompleteTail(p []byte) int {
	for k := 1; k <= 3 && k <= len(p); k++ {
		c := p[len(p)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a lead byte (or an invalid one)
			if _, st := scanSeq(p[len(p)-k:]); st == seqIncomplete {
				return k
			}
			return 0
		}
	}
	return 0
}

// decodeUTF16 is the shared UTF-16 decoder of Encoding §14.2.1.
func (u *utf8Writer) decodeUTF16(p []byte, be bool) {
	var buf [4]byte
	for _, b := range p {
		if u.leadByte < 0 {
			u.leadByte = int(b)
			continue
		}
		var cu uint16
		if be {
			cu = uint16(u.leadByte)<<8 | uint16(b)
		} else {
			cu = uint16(b)<<8 | uint16(u.leadByte)
		}
		u.leadByte = -1
		if ls := u.leadSurrogate; ls != 0 {
			u.leadSurrogate = 0
			if 0xDC00 <= cu && cu <= 0xDFFF {
				r := 0x10000 + (rune(ls)-0xD800)<<10 + (rune(cu) - 0xDC00)
				u.put(buf[:utf8.EncodeRune(buf[:], r)])
				continue
			}
			// "restore byte, byte to ioQueue; return error": the code unit
			// is processed afresh below.
			u.put([]byte(fffd))
		}
		switch {
		case 0xD800 <= cu && cu <= 0xDBFF:
			u.leadSurrogate = cu
		case 0xDC00 <= cu && cu <= 0xDFFF:
			u.put([]byte(fffd))
		default:
			u.put(buf[:utf8.EncodeRune(buf[:], rune(cu))])
		}
	}
}
