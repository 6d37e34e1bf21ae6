package caddymodule

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Caps on decoded upstream HTML, against compression bombs. Deflate reaches
// about 1000:1 and zstd and brotli far more on repetitive input, while real
// HTML compresses about 5-20:1; past the first MiB the output may be at most
// ratioCap times the encoded bytes read so far, and never more than the
// absolute cap (Handler.MaxDecoded, default defaultMaxDecoded).
const (
	defaultMaxDecoded = 256 << 20
	ratioFloor        = 1 << 20
	ratioCap          = 100
	// zstdMaxWindow is RFC 9659 §3: a decoder of "zstd" content coding
	// need not support windows over 8 MiB, and an encoder must not exceed
	// it; we refuse larger ones instead of allocating them.
	zstdMaxWindow = 8 << 20
	// zstdMaxMemory bounds what one zstd decoder may allocate for a frame.
	zstdMaxMemory = 64 << 20
	decodeBufSize = 32 << 10
)

var (
	errDecodedTooLarge = errors.New("decoded html exceeds the size cap")
	errDecodeRatio     = errors.New("decoded html exceeds the compression ratio cap")
	errTrailingData    = errors.New("data after the end of the encoded html")
	errDecodeStopped   = errors.New("decoding stopped")
)

// decodable reports the coding name we decode for the Content-Encoding
// value enc ("" when we cannot: unknown codings, and stacked codings, which
// origins send only by mistake and which would multiply the bomb surface).
func decodable(enc string) string {
	switch strings.ToLower(enc) {
	case "gzip", "x-gzip": // RFC 9110 §8.4.1.3: x-gzip is gzip
		return "gzip"
	case "br":
		return "br"
	case "zstd":
		return "zstd"
	}
	return ""
}

// decoder turns the encoded body written to it into decoded bytes written
// to dst, streaming. Decoders pull their input (io.Reader) while upstream
// pushes it (Write); a coroutine (iter.Pull) joins the two without a
// goroutine of our own running in parallel: Write hands over p and resumes
// the decoder, which runs until it has consumed all of p, then yields. So
// the decoder writes to dst (and so to the response) only while Write or
// Close is on the stack, and every decoded byte that the input allows is
// out before Write returns (flushes keep working).
type decoder struct {
	dst    io.Writer
	coding string
	max    int64

	// input state, touched by the coroutine between yields only
	cur   []byte
	eof   bool
	yield func(struct{}) bool
	in    int64
	out   int64

	next    func() (struct{}, bool)
	stop    func()
	done    bool
	stopped bool
	err     error

	gz  gzip.Reader
	br  *brotli.Reader
	zr  *zstd.Decoder
	buf []byte
}

var decoderPool = sync.Pool{New: func() any { return &decoder{buf: make([]byte, decodeBufSize)} }}

func getDecoder(dst io.Writer, coding string, maxDecoded int64) *decoder {
	d := decoderPool.Get().(*decoder)
	d.dst, d.coding, d.max = dst, coding, maxDecoded
	d.next, d.stop = iter.Pull(d.run)
	return d
}

// release stops the coroutine (if still running) and pools the decoder.
func (d *decoder) release() {
	if d.stop != nil {
		d.stop()
	}
	if d.err != nil || !d.done {
		// A reader that failed or was stopped mid-stream may keep state
		// that Reset does not clear (a brotli reader after a corrupt
		// stream failed the next, valid one in CI): do not reuse it.
		if d.zr != nil {
			d.zr.Close()
		}
		d.br, d.zr = nil, nil
	}
	if d.br != nil {
		_ = d.br.Reset(nil)
	}
	if d.zr != nil {
		_ = d.zr.Reset(nil)
	}
	*d = decoder{gz: d.gz, br: d.br, zr: d.zr, buf: d.buf}
	decoderPool.Put(d)
}

// run is the coroutine body: decode until the input ends or fails.
func (d *decoder) run(yield func(struct{}) bool) {
	d.yield = yield
	d.err = d.decode()
	d.done = true
}

// reader returns the decoding reader of d's coding, reading d.
func (d *decoder) reader() (io.Reader, error) {
	switch d.coding {
	case "gzip":
		// Reset on a zero Reader works; our input is a flate.Reader
		// (ReadByte), so gzip adds no bufio.Reader of its own.
		if err := d.gz.Reset(d); err != nil {
			return nil, d.wrap(err)
		}
		return &d.gz, nil
	case "br":
		if d.br == nil {
			d.br = brotli.NewReader(d)
		} else if err := d.br.Reset(d); err != nil {
			return nil, d.wrap(err)
		}
		return d.br, nil
	case "zstd":
		if d.zr == nil {
			// One goroutine (the decoder then runs synchronously in
			// ours, which the coroutine needs), the window of RFC 9659.
			zr, err := zstd.NewReader(d, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderMaxMemory(zstdMaxMemory),
				zstd.WithDecoderLowmem(true))
			if err != nil {
				return nil, err
			}
			d.zr = zr
		} else if err := d.zr.Reset(d); err != nil {
			return nil, d.wrap(err)
		}
		return d.zr, nil
	}
	return nil, fmt.Errorf("unsupported content coding %q", d.coding)
}

func (d *decoder) decode() error {
	r, err := d.reader()
	if err != nil {
		return err
	}
	for {
		n, err := r.Read(d.buf)
		if d.stopped {
			return errDecodeStopped
		}
		if n > 0 {
			d.out += int64(n)
			if d.out > d.max {
				return errDecodedTooLarge
			}
			if d.out > ratioFloor && d.out > ratioCap*d.in {
				return errDecodeRatio
			}
			if _, werr := d.dst.Write(d.buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			// The stream ended; so must its input (brotli stops at its
			// end marker): never ignore bytes we were sent.
			if d.more() {
				return errTrailingData
			}
			if d.stopped {
				return errDecodeStopped
			}
			return nil
		}
		if err != nil {
			return d.wrap(err)
		}
	}
}

// wrap names the coding in decoder errors; a premature end of input is a
// truncated stream.
func (d *decoder) wrap(err error) error {
	if errors.Is(err, errDecodeStopped) {
		return errDecodeStopped
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("decoding %s html: %w", d.coding, err)
}

// more waits for input: it reports false at the end of the body.
func (d *decoder) more() bool {
	for len(d.cur) == 0 {
		if d.eof {
			return false
		}
		if !d.yield(struct{}{}) {
			// stop: the response was abandoned.
			d.eof, d.stopped, d.cur = true, true, nil
			return false
		}
	}
	return true
}

// Read is the decoders' input.
func (d *decoder) Read(p []byte) (int, error) {
	if !d.more() {
		if d.stopped {
			return 0, errDecodeStopped
		}
		return 0, io.EOF
	}
	n := copy(p, d.cur)
	d.cur = d.cur[n:]
	d.in += int64(n)
	return n, nil
}

// ReadByte makes the input a flate.Reader.
func (d *decoder) ReadByte() (byte, error) {
	if !d.more() {
		if d.stopped {
			return 0, errDecodeStopped
		}
		return 0, io.EOF
	}
	c := d.cur[0]
	d.cur = d.cur[1:]
	d.in++
	return c, nil
}

// Write feeds encoded bytes; it returns once the decoder has consumed all of
// them and written what they decode to.
func (d *decoder) Write(p []byte) (int, error) {
	if d.done {
		if d.err != nil {
			return 0, d.err
		}
		return 0, errTrailingData
	}
	d.cur = p
	d.next()
	d.cur = nil
	if d.done && d.err != nil {
		return 0, d.err
	}
	return len(p), nil
}

// Close ends the input and reports whether the stream was complete.
func (d *decoder) Close() error {
	if !d.done {
		d.eof = true
		d.next()
	}
	if !d.done {
		return errDecodeStopped
	}
	return d.err
}
