package caddymodule

import (
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/privacylog"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// earlyLen: the first bytes of a filtered body are held until there are
// more than this many (or the body ends, or is flushed). The encode handler,
// which wraps us, decides on its first write whether to compress, and
// leaves a body whose first write is not above its minimum_length (512
// bytes by default) uncompressed: a small first write (an origin that sends
// its <head> early) must not cost the page its compression. Past them, the
// filter's output leaves as it makes it: one write per upstream write
// where nothing is removed (htmlfilter gathers what lies between removals).
const earlyLen = 512

var errEncodedHTML = errors.New("upstream html arrived with a content-encoding the filter cannot read")
var errAborted = errors.New("aborting a filtered response after its headers went out")
var errFinished = errors.New("write after the consent handler returned")
var errPartialHTML = errors.New("upstream answered a partial (206) html response, which the filter cannot read")

// responseWriter is the per-response wrapper: it decides late (at the first
// Write, or WriteHeader with a final status) whether the body is filtered,
// and if so, adjusts the headers for the variant and routes the body through
// the filter. Modelled on Caddy's encode.responseWriter.
type responseWriter struct {
	http.ResponseWriter

	h       *Handler
	r       *http.Request
	granted rules.Set
	vendors rules.VendorChoices // the visitor's choices vendor by vendor
	unseen  rules.Set           // denials the defer tool cannot see
	suffix  string              // ETag suffix of this visitor's variant
	// stripped: the request's validators named this variant (we removed our
	// suffix), so a 304 answers for a filtered representation.
	stripped bool

	caches     *caches         // held for this request
	reqFilter  requestFilter   // what the request side removed
	undecided  bool            // no consent decision yet: the banner asks
	setCookies []rules.Removal // Set-Cookie fields dropped

	statusCode int  // final status set by WriteHeader; 0 = implicit 200
	decided    bool // headers decided and written on (or refused)
	filtering  bool // the body goes through the filter
	disabled   bool // next failed: write nothing more
	refused    error
	// held: the first bytes, held until they settle the body's type
	// (resolveBodyType); the buffer is kept across responses.
	held []byte

	filter *htmlfilter.Filter
	page   *rules.Page  // the filter's classifier, kept with its buffers across responses
	replay rules.Replay // in front of the filter: the page cache
	key    []byte       // the page cache key, kept for its buffer
	// replayable: neither the origin nor the request forbids the page
	// cache to keep the page (replayable).
	replayable bool
	etag       string      // the upstream's strong ETag, if it sent one
	tc         transcoder  // in front of the filter: any encoding in, UTF-8 out
	linkPage   *rules.Page // classifies URLs in header fields (Link, Refresh); headerPage makes it
	dec        *decoder    // non-nil: the body is encoded and decoded before the filter
	out        countingWriter
	in         int64
	declared   int64 // the upstream body's length, -1 if not declared (or encoded)
}

// countingWriter counts what reaches the next writer. For filtered bodies
// it also holds the status back until the first body bytes (earlyLen): an
// upstream failure, a corrupt or a bomb-sized stream found before then can
// still be answered with a 502.
type countingWriter struct {
	w       http.ResponseWriter
	n       int64
	pending int    // status to write before the first byte
	sent    bool   // the status (or a body byte) went to the next writer
	early   []byte // the first bytes, held (earlyLen); from earlyPool
	// clock times the filter for the metrics, less these writes.
	clock filterClock
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.sent {
		return c.write(p)
	}
	if room := earlyLen + 1 - len(c.early); len(p) < room {
		if c.early == nil {
			c.early = (*earlyPool.Get().(*[earlyLen + 1]byte))[:0]
		}
		c.early = append(c.early, p...)
		return len(p), nil
	} else if len(c.early) > 0 {
		// Complete the first write past earlyLen, then the rest.
		c.early = append(c.early, p[:room]...)
		if err := c.release(); err != nil {
			return 0, err
		}
		n, err := c.write(p[room:])
		return room + n, err
	}
	c.commit()
	return c.write(p)
}

func (c *countingWriter) write(p []byte) (int, error) {
	defer c.clock.waited(c.clock.now())
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// release writes the held status and bytes on.
func (c *countingWriter) release() error {
	c.commit()
	var err error
	if len(c.early) > 0 {
		_, err = c.write(c.early)
	}
	c.drop()
	return err
}

// drop gives the held bytes' buffer back: a response that waits on a slow
// client keeps none.
func (c *countingWriter) drop() {
	if c.early != nil {
		earlyPool.Put((*[earlyLen + 1]byte)(c.early[:earlyLen+1]))
		c.early = nil
	}
}

// earlyPool holds the buffers of the first bytes, needed by a response only
// until they leave.
var earlyPool = sync.Pool{New: func() any { return new([earlyLen + 1]byte) }}

// commit writes a held status on.
func (c *countingWriter) commit() {
	if c.pending != 0 {
		c.w.WriteHeader(c.pending)
		c.pending = 0
	}
	c.sent = true
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

func getResponseWriter(h *Handler, w http.ResponseWriter, r *http.Request, resp response) *responseWriter {
	rw := writerPool.Get().(*responseWriter)
	rw.ResponseWriter = w
	rw.h, rw.r = h, r
	rw.granted, rw.vendors, rw.unseen = resp.granted, resp.vendors, resp.unseen
	rw.suffix, rw.stripped = resp.suffix, resp.stripped
	rw.reqFilter, rw.caches, rw.undecided = resp.reqFilter, resp.caches, resp.undecided
	rw.out.w = w
	return rw
}

func putResponseWriter(rw *responseWriter) {
	if rw.dec != nil {
		rw.dec.release()
	}
	rw.replay.Release()
	rw.out.drop()
	f, page, tc, key, held := rw.filter, rw.page, rw.tc.Recycled(), rw.key, rw.held
	if f != nil {
		// Drop references to the response; Reset runs again before reuse.
		f.Reset(io.Discard, nil, htmlfilter.Options{})
	}
	*rw = responseWriter{filter: f, page: page, key: key[:0], held: held[:0]}
	rw.tc = tc
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
	if rw.decided {
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

// needsBody reports whether the body's first bytes, more than those held,
// are needed to know what a browser makes of the response.
func (rw *responseWriter) needsBody() bool {
	_, ok := rw.resolve(rw.held, true)
	return !ok
}

// resolve is resolveBodyType for the body as a browser reads it: decoded
// from its content coding. In a coding we cannot decode the body tells
// nothing: the header decides (and settleType refuses the body if its type
// was to be read from it).
func (rw *responseWriter) resolve(b []byte, more bool) (bodyType, bool) {
	h := rw.Header()
	if enc := contentEncoding(h); enc != "" && len(b) > 0 {
		coding := decodable(enc)
		if coding == "" {
			return resolveBodyType(h, nil, false)
		}
		decoded := decodedPrefix(coding, b, rw.h.MaxDecoded)
		b, more = decoded, more && len(decoded) < resourceHeaderLen
	}
	return resolveBodyType(h, b, more)
}

// unreadable reports whether the body comes in a content coding we cannot
// decode (compress, deflate, stacked codings).
func (rw *responseWriter) unreadable(status int) bool {
	enc := contentEncoding(rw.Header())
	return enc != "" && decodable(enc) == "" && bodyAllowed(rw.r, status)
}

// bodyAllowed reports whether a response with status can carry a body
// (RFC 9110 §6.4.1, §9.3.2; 205 per §15.3.6).
func bodyAllowed(r *http.Request, status int) bool {
	if r.Method == http.MethodHead {
		return false
	}
	switch {
	case status < 200, status == http.StatusNoContent, status == http.StatusResetContent,
		status == http.StatusNotModified:
		return false
	}
	return true
}

// decide settles the response headers once: filter or pass, and writes the
// status on (unless it is the implicit 200 or the response is refused).
// first holds the first body bytes, if any.
func (rw *responseWriter) decide(first []byte) {
	rw.decided = true
	rw.filterHeaders()
	if rw.refused != nil {
		return // a redirect to a tracker (filterRedirect): ServeHTTP answers
	}
	status := rw.statusCode
	if status == 0 {
		status = http.StatusOK
	}
	h := rw.Header()
	ct, body, ok := rw.settleType(first, status)
	if !ok {
		return
	}
	if rw.h.CSP != nil && body.kind == docOther && isWorkerScript(rw.r) {
		rw.workerCSP()
	}

	switch {
	case status == http.StatusNotModified:
		// RFC 9110 §15.4.5: a 304 carries the Vary and ETag the 200 would
		// have. We know it answers for a filtered variant when the
		// request's validator carried our suffix.
		if rw.stripped {
			rw.variantHeaders()
		}
	case status == http.StatusPartialContent:
		if (body.kind != docOther || isMultipartByteranges(body.essence)) && rw.r.Method != http.MethodHead {
			// A byte range of a document cannot be filtered, so it must
			// not pass; ServeHTTP asks for the whole page instead. The
			// parts of a multipart/byteranges answer each have a type
			// of their own (RFC 9110 §14.6), any of which may be HTML.
			rw.refuse(errPartialHTML)
			return
		}
	case body.kind != docOther:
		if rw.r.Method == http.MethodHead {
			// RFC 9110 §9.3.2: HEAD gets the header fields GET would get,
			// and GET would get a decoded body.
			if enc := contentEncoding(h); enc != "" && decodable(enc) != "" {
				delete(h, "Content-Encoding")
			}
			rw.variantHeaders()
			break
		}
		if !bodyAllowed(rw.r, status) {
			break
		}
		var coding string
		if enc := contentEncoding(h); enc != "" {
			// A coding we cannot read (compress, deflate, stacked
			// codings such as "gzip, br") must never pass unfiltered.
			if coding = decodable(enc); coding == "" {
				rw.refuse(errEncodedHTML)
				if c := rw.h.logger.Check(zap.ErrorLevel, "refusing encoded html"); c != nil {
					c.Write(zap.String("content_encoding", enc), zap.String("host", rw.r.Host),
						zap.String("path", rw.r.URL.Path), zap.Int("status", status))
				}
				return
			}
			// We send what we decoded; encode (which wraps us) compresses
			// it again for the client if configured.
			delete(h, "Content-Encoding")
		}
		// The upstream's length, before variantHeaders drops it: when the
		// first read holds the whole body, the first bytes need no flush
		// of their own (Write).
		rw.declared = -1
		if n, err := strconv.ParseInt(firstValue(h["Content-Length"]), 10, 64); err == nil && coding == "" {
			rw.declared = n
		}
		rw.replayable = replayable(rw.r, h)
		if etag := firstValue(h["Etag"]); !strings.HasPrefix(etag, "W/") {
			rw.etag = etag
		}
		rw.variantHeaders()
		// We send UTF-8 whatever the origin's encoding (transcoder), and
		// one Content-Type line: the one browsers resolve to.
		h["Content-Type"] = []string{charset.RelabelContentType(body.value)}
		rw.startFilter(ct, body.kind)
		if coding != "" {
			rw.dec = getDecoder(&rw.tc, coding, rw.h.MaxDecoded)
		}
		rw.promiseLength()
		// The status waits for the first filtered byte (countingWriter):
		// an upstream that fails before then gets an honest 502, not a
		// 200 with a broken body. The filter emits as it reads, so this
		// costs no time when the upstream sends its body with its headers.
		rw.out.pending = rw.statusCode
		return
	}
	if rw.statusCode != 0 {
		rw.out.sent = true
		rw.ResponseWriter.WriteHeader(rw.statusCode)
	}
}

// settleType resolves the body's type for decide: it returns the
// Content-Type lines as one value, from which the transcoder reads the
// charset as browsers do (Fetch §"extract a MIME type"), and what a
// browser makes of the response, whose Content-Type it sets if the browser
// would sniff. ok is false when the response is refused instead.
func (rw *responseWriter) settleType(first []byte, status int) (ct string, body bodyType, ok bool) {
	h := rw.Header()
	ct = strings.Join(h["Content-Type"], ", ")
	if _, typed := resolveBodyType(h, nil, true); !typed && rw.unreadable(status) {
		// Its type is in bytes we cannot decode: it may be a document.
		rw.refuse(errEncodedHTML)
		return "", bodyType{}, false
	}
	body, _ = rw.resolve(first, false)
	if body.label && len(first) > 0 && bodyAllowed(rw.r, status) {
		h["Content-Type"] = []string{body.value}
	}
	return ct, body, true
}

// variantHeaders marks the response as one of several variants of the URL.
func (rw *responseWriter) variantHeaders() {
	h := rw.Header()
	// The filtered length is unknown until the end (golang/go#14975: a
	// stale Content-Length truncates or hangs the body); byte ranges of the
	// upstream representation do not address ours.
	delete(h, "Content-Length")
	delete(h, "Accept-Ranges")
	// RFC 9110 §12.5.5: the body depends on these request fields.
	addVary(h, "Cookie")
	if rw.h.gpc {
		addVary(h, "Sec-GPC")
	}
	if rw.h.Banner != nil {
		addVary(h, "Accept-Language") // the banner speaks the visitor's language
	}
	// RFC 9110 §8.8.3.3: different representations need different entity
	// tags. Encode suffixes only strong tags, since a weak tag allows
	// byte differences between equivalent bodies; ours are not equivalent
	// (a tracker present or absent), so weak tags get the suffix too.
	if etag := firstValue(h["Etag"]); strings.HasSuffix(etag, `"`) && len(etag) >= 2 {
		h["Etag"] = []string{etag[:len(etag)-1] + rw.suffix + `"`}
	}
	if rw.h.Cache != cacheVary {
		privateCache(h)
	}
	if rw.h.allSet&^rw.granted != 0 || len(rw.vendors.Denied) != 0 {
		// A DNS prefetch is a request to the resolver for a host the
		// visitor may have refused; none while anything is denied.
		h["X-Dns-Prefetch-Control"] = []string{"off"}
		// The backstop stops the vendors of denied categories; with none
		// denied it has nothing to stop.
		if rw.h.CSP != nil {
			name, value := rw.h.cspHeader(rw.granted, rw.vendors.Denied)
			h.Add(name, value)
		}
	}
}

// refuse answers the response with 502 instead: the upstream headers are
// dropped and the body is swallowed. Write keeps accepting bytes so that
// reverse_proxy does not abort the connection (it panics with
// http.ErrAbortHandler on a write error); ServeHTTP returns the error for
// Caddy to write.
func (rw *responseWriter) refuse(err error) {
	rw.refused = err
	h := rw.Header()
	for k := range h {
		delete(h, k)
	}
}

func (rw *responseWriter) startFilter(ct string, kind docKind) {
	if rw.page == nil {
		rw.page = rw.h.rules.NewPage(pageURL(rw.r), rw.granted)
	} else {
		rw.page.Reset(rw.h.rules, pageURL(rw.r), rw.granted)
	}
	page := rw.page
	page.RefuseVendors(rw.vendors.Denied)
	page.NeverDefer(rw.unseen)
	page.UseScriptCache(rw.caches.scripts)
	if rw.h.unclassifying {
		page.Unclassify(rw.h.unclassified)
	}
	opt := rw.filterOptions(page, kind)
	sink := rw.replay.Sink(&rw.out)
	if rw.filter == nil {
		rw.filter = htmlfilter.New(sink, page, opt)
	} else {
		rw.filter.Reset(sink, page, opt)
	}
	var key []byte
	if rw.replayable && rw.caches.pages != nil {
		key = rw.pageKey(opt)
	}
	rw.replay.Reset(rw.caches.pages, key, rw.declared, rw.filter)
	rw.tc.Reset(&rw.replay, ct)
	rw.filtering = true
}

// filterOptions returns the filter's options for a document of kind. An
// XML document gets no preludes, which would have to be well-formed XML
// where they land, and so no Consent Mode exemption either; and it is
// stripped, never deferred: deferring adds attributes to kept tags, and a
// duplicate attribute is fatal in XML (XML 1.0 §3.1, Unique Att Spec).
func (rw *responseWriter) filterOptions(page *rules.Page, kind docKind) htmlfilter.Options {
	if kind == docXML {
		return htmlfilter.Options{Mode: htmlfilter.Strip, XML: true}
	}
	opt := htmlfilter.Options{Mode: rw.h.mode, Dialect: rw.h.dialect, BodyPrelude: rw.bannerFor()}
	if rw.h.ConsentMode != "" {
		nonce := rules.CSPNonce(rw.Header()["Content-Security-Policy"], "script-src")
		opt.HeadPrelude = rules.ConsentModeScript(rw.granted, nonce)
		if rw.h.ConsentMode == consentModeAdvanced {
			page.Exempt(rw.h.google)
		}
	}
	return opt
}

// promiseLength sends the filtered page's length, as a plain proxy would,
// when the page cache replays a page that the origin names with a strong
// ETag and the same length as the remembered one: a strong validator
// promises the same bytes (RFC 9110 §8.8.1), and with a length the client
// gets the page without chunked framing. Should the bytes differ after
// all, the promise is taken back if no byte has left yet (Break), else the
// transfer is broken off: a page shorter or longer than its
// Content-Length must never look complete.
func (rw *responseWriter) promiseLength() {
	in, out, ok := rw.replay.Lengths()
	if !ok || rw.etag == "" || rw.dec != nil || rw.declared != int64(in) || rw.r.Method != http.MethodGet {
		return
	}
	rw.Header()["Content-Length"] = []string{strconv.Itoa(out)}
	rw.replay.Keep(rw)
}

// Break takes back the length promiseLength sent, if it has not left yet.
func (rw *responseWriter) Break() bool {
	if rw.out.sent {
		if c := rw.h.logger.Check(zap.ErrorLevel, "page changed under its strong etag"); c != nil {
			c.Write(zap.String("host", rw.r.Host), zap.String("path", rw.r.URL.Path), zap.String("etag", rw.etag))
		}
		return false
	}
	delete(rw.Header(), "Content-Length")
	return true
}

// pageKey names everything the filter's output depends on besides the
// document, for the page cache: the visitor's consent (categories, vendors
// refused, denials the defer tool cannot see), the preludes (the
// banner, Consent Mode's defaults and nonce) and the page's URL, which
// also names the document, as does the origin's strong ETag. The rules,
// the mode and the dialect are the handler's, whose cache it is.
func (rw *responseWriter) pageKey(opt htmlfilter.Options) []byte {
	k := binary.LittleEndian.AppendUint64(rw.key[:0], uint64(rw.granted))
	k = binary.LittleEndian.AppendUint32(k, uint32(rw.unseen))
	refused := rw.vendors.Denied.Key()
	k = binary.AppendUvarint(k, uint64(len(refused)))
	k = append(k, refused...)
	for _, part := range [][]byte{opt.HeadPrelude, opt.BodyPrelude} {
		k = binary.AppendUvarint(k, uint64(len(part)))
		k = append(k, part...)
	}
	if rw.r.TLS != nil {
		k = append(k, "https://"...)
	} else {
		k = append(k, "http://"...)
	}
	k = append(k, rw.r.Host...)
	k = append(k, 0)
	k = append(k, rw.r.URL.RequestURI()...)
	// The document's version: a new one is a new entry, not a divergence.
	k = append(k, 0)
	k = append(k, rw.etag...)
	rw.key = k
	return k
}

// replayable reports whether a page may be kept in the page cache's memory
// at all: not when the origin forbids storing it or marks it for one user
// (no-store, private; RFC 9111 §5.2.2), nor for a request with
// credentials. The cache never answers for the origin, but a page kept is
// a page held in memory, for a while, by a process that promises not to
// hold personal data.
func replayable(r *http.Request, h http.Header) bool {
	if r.Header.Get("Authorization") != "" {
		return false
	}
	for _, v := range h["Cache-Control"] {
		for _, d := range splitDirectives(v) {
			name, _, _ := strings.Cut(d, "=")
			if name = strings.TrimSpace(name); strings.EqualFold(name, "no-store") || strings.EqualFold(name, "private") {
				return false
			}
		}
	}
	return true
}

// pageURL is the document's URL as the browser sees it, against which
// relative URLs in the page resolve. No query: classification does not need
// it.
func pageURL(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return scheme + r.Host + r.URL.Path
}

// Write filters or passes p.
func (rw *responseWriter) Write(p []byte) (int, error) {
	// As encode: an empty write decides nothing (likely a HEAD response).
	if len(p) == 0 {
		return 0, nil
	}
	if !rw.decided {
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
	switch {
	case rw.refused != nil:
		return len(p), nil
	case rw.disabled:
		return 0, errFinished
	case rw.dec != nil:
		defer rw.out.clock.stop(rw.out.clock.start())
		n, err := rw.dec.Write(p)
		if err != nil {
			rw.decodeFailed(err)
			return len(p), nil
		}
		return n, nil
	case rw.filtering:
		defer rw.out.clock.stop(rw.out.clock.start())
		sent := rw.out.sent
		n, err := rw.tc.Write(p)
		rw.in += int64(n)
		if err == nil && !sent && rw.out.sent && (rw.declared < 0 || rw.in < rw.declared) {
			// The page's first bytes are out of the filter and more is
			// to come: send them with the status now rather than when
			// net/http's buffer fills, which would wait for the next
			// upstream read to be filtered (time to first byte). A
			// writer that cannot flush sends them later: that is no error.
			//nolint:bodyclose
			if ferr := http.NewResponseController(rw.ResponseWriter).Flush(); !errors.Is(ferr, http.ErrNotSupported) {
				err = ferr
			}
		}
		return n, err
	}
	return rw.ResponseWriter.Write(p)
}

// decodeFailed handles a corrupt, truncated or over-cap encoded body: no
// encoded byte and no part of an undecided element ever leaves. Before the
// status is out the response becomes a 502; after, the only honest ending
// is a broken transfer (a clean end would present a truncated page as
// complete), which Caddy and net/http make of http.ErrAbortHandler.
func (rw *responseWriter) decodeFailed(err error) {
	rw.logDecodeError(err)
	if !rw.out.sent {
		rw.out.drop()
		rw.filtering = false
		rw.dec.release()
		rw.dec = nil
		rw.out.pending = 0
		rw.refuse(err)
		return
	}
	panic(http.ErrAbortHandler)
}

func (rw *responseWriter) logDecodeError(err error) {
	if c := rw.h.logger.Check(zap.ErrorLevel, "decoding upstream html"); c != nil {
		c.Write(zap.Error(err), zap.String("host", rw.r.Host), zap.String("path", rw.r.URL.Path),
			zap.Int64("encoded_bytes", rw.dec.in), zap.Int64("decoded_bytes", rw.dec.out),
			zap.Bool("headers_sent", rw.out.sent))
	}
}

// writerOnly masks ReadFrom so io.Copy goes through Write.
type writerOnly struct{ io.Writer }

// ReadFrom keeps io.Copy (and so net/http's sendfile path) from going
// around the filter: filtered and undecided bodies go through Write, only
// unfiltered ones may use the next writer's ReadFrom.
func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	var ns int64
	if !rw.decided && rw.statusCode == 0 && !rw.needsBody() {
		// Typed: decide now, so that an unfiltered body keeps the
		// sendfile path from its first byte.
		rw.decide(nil)
	}
	if !rw.decided {
		// Decide on the first bytes: at most the resource header.
		var buf [resourceHeaderLen]byte
		var err error
		ns, err = io.CopyBuffer(writerOnly{rw}, io.LimitReader(r, resourceHeaderLen), buf[:])
		if err != nil || ns < resourceHeaderLen {
			return ns, err
		}
	}
	if rf, ok := rw.ResponseWriter.(io.ReaderFrom); ok && !rw.filtering && rw.refused == nil && !rw.disabled {
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
	if !rw.decided {
		if rw.needsBody() {
			// Flushing now would commit headers before we know whether to
			// filter (encode delays for the same reason, caddy#4314),
			// whether or not the status is set.
			return nil
		}
		rw.decide(nil)
	}
	if rw.refused != nil || rw.disabled {
		return nil
	}
	if rw.filtering {
		// The filter writes decided output before Write returns; what is
		// still ours is the transcoder's prefix and the first bytes.
		if err := rw.tc.Flush(); err != nil {
			return err
		}
		if !rw.out.sent {
			// The first bytes stay held (earlyLen): committing the status
			// now would rule out a 502 if the upstream fails or its
			// stream turns out corrupt. reverse_proxy flushes after every
			// write of a body of unknown length, so the flush that comes
			// right before it aborts looks like any other.
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
	if !rw.decided && !rw.decideAtEnd() {
		return nil
	}
	if !rw.filtering || rw.refused != nil {
		return nil
	}
	t := rw.out.clock.start()
	if rw.dec != nil {
		if err := rw.dec.Close(); err != nil {
			if rw.out.sent {
				rw.logDecodeError(err)
				rw.filtering = false
				return errAborted
			}
			rw.decodeFailed(err)
			return nil
		}
		rw.in = rw.dec.out
	}
	err := rw.tc.Close()
	if ferr := rw.replay.Close(); err == nil {
		err = ferr
	}
	if errors.Is(err, rules.ErrBroken) {
		rw.filtering = false
		return errAborted
	}
	if err == nil && !rw.out.sent {
		// A short or empty filtered body: the held status and bytes go
		// out now.
		err = rw.out.release()
	}
	rw.out.clock.stop(t)
	rw.filtering = false
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

// abort releases the response without writing more.
func (rw *responseWriter) abort() {
	rw.filtering = false
}

// logFiltered records a filtered response in the metrics and its access log
// entry (observe), and writes a debug line of its own: no full IP, no
// cookies, no query string. The access log entry is the one line
// per request an SRE reads, as everywhere in Caddy; a line of ours at info
// would double the log and cost every response a write to the log file.
func (rw *responseWriter) logFiltered() {
	rw.observe()
	c := rw.h.logger.Check(zap.DebugLevel, "filtered")
	if c == nil {
		return
	}
	r := rw.r
	status := rw.statusCode
	if status == 0 {
		status = http.StatusOK
	}
	fields := []zap.Field{
		zap.String("client_ip", privacylog.TruncateIP(clientIP(r))),
		zap.String("granted", rw.h.rules.FormatSet(rw.granted)),
		zap.String("mode", rw.h.Mode),
		zap.String("host", r.Host),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Int64("bytes_in", rw.in),
		zap.Int64("bytes_out", rw.out.n),
		zap.Object("removed", removals(rw.replay.Removed())),
		zap.Bool("replayed", rw.replay.Replayed()),
	}
	if n := len(rw.reqFilter.cookies); n > 0 {
		fields = append(fields, zap.Int("cookies_removed", n))
	}
	if n := rw.reqFilter.params; n > 0 {
		fields = append(fields, zap.Int("params_removed", n))
	}
	if n := len(rw.setCookies); n > 0 {
		fields = append(fields, zap.Int("set_cookies_removed", n))
	}
	c.Write(fields...)
}

// removals logs as {vendor: count}.
type removals []htmlfilter.Removal

func (rs removals) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, r := range rs {
		enc.AddInt(r.Vendor, r.Count)
	}
	return nil
}

// contentEncoding returns the response's content codings other than
// identity, "" if none (RFC 9110 §8.4: a list, identity is no coding).
func contentEncoding(h http.Header) string {
	var out string
	for _, v := range h["Content-Encoding"] {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" || strings.EqualFold(item, "identity") {
				continue
			}
			if out != "" {
				out += ", "
			}
			out += item
		}
	}
	return out
}

// firstValue is Header.Get for a canonical key, without normalisation.
func firstValue(vals []string) string {
	if len(vals) > 0 {
		return vals[0]
	}
	return ""
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
