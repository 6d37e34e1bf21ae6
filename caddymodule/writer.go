package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"github.com/consentedge/consentedge/rules"
)

var errAborted = errors.New("aborting a filtered response after its headers went out")
var errFinished = errors.New("write after the consent handler returned")

// responseWriter is the per-response wrapper: it decides late (at the first
// Write, or WriteHeader with a final status) whether the body is filtered,
// and if so, adjusts the headers for the variant (decide.go) and sends the
// body through its pipeline (body.go). Modelled on Caddy's
// encode.responseWriter.
type responseWriter struct {
	http.ResponseWriter
	h *Handler
	r *http.Request
	response

	phase      phase
	statusCode int   // final status set by WriteHeader; 0 = implicit 200
	refusal    error // why the response is refused (phaseRefused)
	// held: the first bytes, held until they settle the body's type
	// (resolveBodyType); the buffer is kept across responses.
	held       []byte
	body       body
	etag       string          // the upstream's strong ETag, if it sent one
	setCookies []rules.Removal // Set-Cookie fields dropped
	// linkPolicy classifies URLs in header fields (Link, Refresh);
	// headerPolicy makes it.
	linkPolicy *rules.Classifier
	// stripe is where the writer's responses are counted in the metrics
	// (responseCounts), kept for the writer's life.
	stripe uint8
}

// phase is where a response is: the writer's state.
type phase uint8

const (
	phaseUndecided phase = iota // the headers wait for the first bytes, or a final status
	phasePassing                // decided: the body passes as it comes
	phaseFiltering              // decided: the body goes through the pipeline
	phaseRefused                // ServeHTTP answers instead (refusal); the body is swallowed
	phaseBroken                 // a promised length was not kept: the transfer is to be broken off
	phaseDone                   // the next handler failed, or the filtered body ended: nothing more
)

var writerPool = sync.Pool{New: func() any { return &responseWriter{stripe: nextStripe()} }}

func getResponseWriter(h *Handler, w http.ResponseWriter, r *http.Request, resp response) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	rw.ResponseWriter, rw.h, rw.r, rw.response = w, h, r, resp
	return rw
}

func putResponseWriter(rw *responseWriter) {
	rw.body.release()
	*rw = responseWriter{body: rw.body, held: rw.held[:0], stripe: rw.stripe}
	writerPool.Put(rw)
}

// WriteHeader records the final status and decides the headers. 1xx
// responses pass through at once and decide nothing: RFC 9110 §15.2 makes
// them interim, and 103 Early Hints must reach the client before the final
// response (Caddy's encode passes them the same way).
func (rw *responseWriter) WriteHeader(status int) {
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		// A Link header on a 103 Early Hints makes the browser connect
		// or preload as one on the final response does (RFC 8297 §2).
		rw.filterHeaders()
		rw.ResponseWriter.WriteHeader(status)
		return
	}
	if rw.phase != phaseUndecided {
		// Superfluous; let net/http report it.
		rw.ResponseWriter.WriteHeader(status)
		return
	}
	rw.statusCode = status
	if bodyAllowed(rw.r, status) && rw.needsBody() {
		// The type alone does not settle it: the decision waits for the
		// first bytes, which browsers sniff (resolveBodyType).
		return
	}
	rw.decide(nil)
}

// Write filters or passes p.
func (rw *responseWriter) Write(p []byte) (int, error) {
	// As encode: an empty write decides nothing (likely a HEAD response).
	if len(p) == 0 {
		return 0, nil
	}
	if rw.phase == phaseUndecided {
		held := len(rw.held)
		first, rest, ok := rw.holdFirst(p)
		if !ok {
			return len(p), nil
		}
		rw.decide(first)
		if held > 0 || len(rest) > 0 {
			// The held bytes, then what the decision did not need.
			if _, err := rw.write(first); err != nil || len(rest) == 0 {
				return len(p) - len(rest), err
			}
			n, err := rw.write(rest)
			return len(p) - len(rest) + n, err
		}
	}
	return rw.write(p)
}

// holdFirst gathers the first bytes of the body until they settle its
// type (resolveBodyType; at most the resource header). It returns the bytes
// to decide on and what p has beyond them, or ok false while it holds them.
func (rw *responseWriter) holdFirst(p []byte) (first, rest []byte, ok bool) {
	if len(rw.held) == 0 {
		if _, ok := rw.resolve(p, true); ok {
			return p, nil, true
		}
	}
	if n := resourceHeaderLen - len(rw.held); len(p) > n {
		p, rest = p[:n], p[n:]
	}
	rw.held = append(rw.held, p...)
	if _, ok := rw.resolve(rw.held, len(rw.held) < resourceHeaderLen); !ok {
		return nil, nil, false
	}
	return rw.held, rest, true
}

// write filters or passes p, once the headers are decided.
func (rw *responseWriter) write(p []byte) (int, error) {
	switch rw.phase {
	case phaseRefused:
		return len(p), nil
	case phaseDone:
		return 0, errFinished
	case phaseBroken:
		return 0, errLengthBroken
	case phaseFiltering:
		return rw.writeFiltered(p)
	}
	return rw.ResponseWriter.Write(p)
}

// writeFiltered sends p through the body pipeline.
func (rw *responseWriter) writeFiltered(p []byte) (int, error) {
	n, paused, err := rw.body.write(p)
	switch {
	case err != nil && rw.body.dec != nil:
		rw.decodeFailed(err)
		return len(p), nil
	case errors.Is(err, errLengthBroken):
		rw.lengthBroken()
	case err == nil && paused && !rw.body.ahead && rw.body.sent():
		// The page's first bytes are out of the filter and the rest
		// may come later: send them with the status now rather than
		// when net/http's buffer fills, which would wait for the next
		// upstream read to be filtered (time to first byte). A writer
		// that cannot flush sends them later: that is no error.
		rw.body.ahead = true
		//nolint:bodyclose
		if ferr := http.NewResponseController(rw.ResponseWriter).Flush(); !errors.Is(ferr, http.ErrNotSupported) {
			err = ferr
		}
	}
	return n, err
}

// lengthBroken: the page cache's promised length cannot be kept.
func (rw *responseWriter) lengthBroken() {
	rw.phase = phaseBroken
	if c := rw.h.logger.Check(zap.ErrorLevel, "page changed under its strong etag"); c != nil {
		c.Write(zap.String("host", rw.r.Host), zap.String("path", rw.r.URL.Path), zap.String("etag", rw.etag))
	}
}

// decodeFailed handles a corrupt, truncated or over-cap encoded body: no
// encoded byte and no part of an undecided element ever leaves. Before the
// status is out the response becomes a 502; after, the only honest ending
// is a broken transfer (a clean end would present a truncated page as
// complete), which Caddy and net/http make of http.ErrAbortHandler.
func (rw *responseWriter) decodeFailed(err error) {
	rw.logDecodeError(err)
	if !rw.body.sent() {
		rw.body.release()
		rw.refuse(err)
		return
	}
	// What was decided and gathered leaves first, as it would have
	// without the gathering.
	_ = rw.body.hold.flush()
	panic(http.ErrAbortHandler)
}

func (rw *responseWriter) logDecodeError(err error) {
	if c := rw.h.logger.Check(zap.ErrorLevel, "decoding upstream html"); c != nil {
		c.Write(zap.Error(err), zap.String("host", rw.r.Host), zap.String("path", rw.r.URL.Path),
			zap.Int64("encoded_bytes", rw.body.dec.in), zap.Int64("decoded_bytes", rw.body.dec.out),
			zap.Bool("headers_sent", rw.body.sent()))
	}
}

// writerOnly masks ReadFrom so io.Copy goes through Write.
type writerOnly struct{ io.Writer }

// ReadFrom keeps io.Copy (and so net/http's sendfile path) from going
// around the filter: filtered and undecided bodies go through Write, only
// unfiltered ones may use the next writer's ReadFrom.
func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	var ns int64
	if rw.phase == phaseUndecided && rw.statusCode == 0 && !rw.needsBody() {
		// Typed: decide now, so that an unfiltered body keeps the
		// sendfile path from its first byte.
		rw.decide(nil)
	}
	if rw.phase == phaseUndecided {
		// Decide on the first bytes: at most the resource header.
		var buf [resourceHeaderLen]byte
		var err error
		ns, err = io.CopyBuffer(writerOnly{rw}, io.LimitReader(r, resourceHeaderLen), buf[:])
		if err != nil || ns < resourceHeaderLen {
			return ns, err
		}
	}
	if rf, ok := rw.ResponseWriter.(io.ReaderFrom); ok && (rw.phase == phasePassing || rw.phase == phaseUndecided) {
		n, err := rf.ReadFrom(r)
		return ns + n, err
	}
	n, err := io.Copy(writerOnly{rw}, r)
	return ns + n, err
}

// FlushError flushes what the filter has decided, then the next writer.
// reverse_proxy flushes through http.ResponseController, which finds this
// method; without it flushes would stop here and streaming would wait for
// the whole upstream body.
func (rw *responseWriter) FlushError() error {
	if rw.phase == phaseUndecided {
		if rw.needsBody() {
			// Flushing now would commit headers before we know whether to
			// filter (encode delays for the same reason, caddy#4314),
			// whether or not the status is set.
			return nil
		}
		rw.decide(nil)
	}
	switch rw.phase {
	case phaseRefused, phaseBroken, phaseDone:
		return nil
	case phaseFiltering:
		if err := rw.body.flush(); err != nil {
			return err
		}
		if !rw.body.sent() {
			// The first bytes stay held (earlyLen), and nothing reached
			// the next writer: committing the status now would rule out
			// a 502 if the upstream fails or its stream turns out
			// corrupt. reverse_proxy flushes after every write of a body
			// of unknown length, so the flush that comes right before it
			// aborts looks like any other.
			return nil
		}
	}
	//nolint:bodyclose
	return http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the next writer (Hijack for
// websockets, SetWriteDeadline, ...).
func (rw *responseWriter) Unwrap() http.ResponseWriter {
	return rw.ResponseWriter
}

// finish ends a response whose handler returned normally: the filter
// decides what it still holds, the buffer is written on, one log entry. It
// returns errAborted when the response must end as a broken transfer.
func (rw *responseWriter) finish() error {
	if rw.phase == phaseUndecided && !rw.decideAtEnd() {
		return nil
	}
	switch rw.phase {
	case phaseBroken:
		return errAborted
	case phaseFiltering:
	default:
		return nil
	}
	if err := rw.body.closeInput(); err != nil {
		if rw.body.sent() {
			rw.logDecodeError(err)
			rw.phase = phaseDone
			return errAborted
		}
		rw.decodeFailed(err)
		return nil
	}
	err := rw.body.Close()
	if errors.Is(err, errLengthBroken) {
		rw.lengthBroken()
		return errAborted
	}
	rw.phase = phaseDone
	rw.logFiltered()
	if err != nil {
		// The status and part of the body are out: an error returned now
		// would only make Caddy write a superfluous status. A failed write
		// here means the client went away (encode ignores its Close error
		// for the same reason).
		if c := rw.h.logger.Check(zap.DebugLevel, "finishing filtered response"); c != nil {
			c.Write(zap.Error(err), zap.String("host", rw.r.Host), zap.String("path", rw.r.URL.Path))
		}
	}
	return nil
}

// decideAtEnd decides a response whose handler returned before the bytes
// that settle its type came. It reports false when nothing is left to do.
func (rw *responseWriter) decideAtEnd() bool {
	switch {
	case len(rw.held) > 0:
		// A short body: decided on what there is.
		rw.decide(rw.held)
		if _, err := rw.write(rw.held); err != nil {
			return false // as in finish: the client went away
		}
	case rw.statusCode == 0:
		// Nothing written: net/http sends its implicit 200 (Caddy
		// issue #5059: do not write a status that was not set).
		rw.filterHeaders()
		return false
	default:
		rw.decide(nil)
	}
	return true
}

// unsent reports whether a filtered response still holds its status: an
// upstream body that failed now can still be answered with a 502.
func (rw *responseWriter) unsent() bool {
	return rw.phase == phaseFiltering && !rw.body.sent()
}

// Interface guards
var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
	_ interface {
		FlushError() error
		Unwrap() http.ResponseWriter
	} = (*responseWriter)(nil)
)
