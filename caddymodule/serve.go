package caddymodule

import (
	"errors"
	"hash/maphash"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// ServeHTTP serves a request in two steps: the request's preparation (the
// visitor's consent, the handler's own endpoints, what of the request may
// reach the origin), then the response's, whose body passes through the
// filter on its way to the client.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// A CONNECT tunnel carries no document (the encode handler special-cases
	// it too); step aside entirely.
	if r.Method == http.MethodConnect {
		return next.ServeHTTP(w, r)
	}
	caches := h.caches.acquire()
	defer caches.release()
	st, cfg, entry := h.readConsent(r, caches)
	if answered, err := h.serveOwn(w, r, st); answered {
		return err
	}
	resp := h.prepareRequest(r, st, caches, entry)
	// The banner asks until the visitor decides: in our cookie (the
	// endpoint) or in any consent tool the site reads.
	resp.bannerAsks = h.Banner != nil && !st.Signals.FromCookies() && !h.consent.Decided(r.Header, cfg)
	return h.serveResponse(w, r, next, resp)
}

// readConsent reads the visitor's consent, under the configuration it
// returns, and logs it in the access log fields it returns.
func (h *Handler) readConsent(r *http.Request, caches *caches) (consent.State, consent.Config, *accessFields) {
	cfg := h.consentConfig(r)
	cfg.Cache = caches.sources
	st := h.consent.Read(r.Header, cfg)
	if st.Reason != "" {
		// A visitor's odd consent input never fails the request; the SRE
		// who wonders why a consent did not take gets one debug line
		// (never the cookie value).
		if c := h.logger.Check(zap.DebugLevel, "consent signal not taken as sent"); c != nil {
			c.Write(zap.String("reason", st.Reason), zap.String("granted", h.rules.FormatSet(st.Granted)),
				zap.String("host", r.Host), zap.String("path", r.URL.Path))
		}
	}
	return st, cfg, h.logConsent(r, st)
}

// serveOwn answers the requests that never reach the origin: the consent
// endpoint, CSP reports, and requests to a collector the visitor denied.
// answered is false for every other request.
func (h *Handler) serveOwn(w http.ResponseWriter, r *http.Request, st consent.State) (answered bool, err error) {
	switch {
	case h.Endpoint != "" && r.URL.Path == h.Endpoint:
		return true, h.serveEndpoint(w, r, st.Granted)
	case h.CSP != nil && h.CSP.Report != "" && r.URL.Path == h.CSP.Report:
		return true, h.serveCSPReport(w, r)
	}
	if c, denied := h.deniedCollector(r, st.Granted, st.Vendors.Denied); denied {
		h.answerCollector(w, r, c)
		return true, nil
	}
	return false, nil
}

// prepareRequest removes from the request what the visitor's consent keeps
// from the origin, readies it for the origin (prepareUpstream), and
// returns what the response's side needs to know.
func (h *Handler) prepareRequest(r *http.Request, st consent.State, caches *caches, entry *accessFields) response {
	reqFilter := h.filterRequest(r, st.Granted, st.Vendors.Denied)
	entry.logRequestFilter(reqFilter)
	stripped := h.prepareUpstream(r, st.Granted, st.Vendors.Denied)
	return response{
		granted: st.Granted, vendors: st.Vendors, unseen: st.Unseen,
		stripped: stripped, reqFilter: reqFilter, caches: caches, log: entry,
	}
}

// serveResponse runs next with the response writer that filters its body,
// and answers a response that was refused.
func (h *Handler) serveResponse(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, resp response) error {
	var hdr http.Header
	if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
		hdr = w.Header().Clone() // what the handlers before us set
	}
	err, refused := h.runNext(w, r, next, resp)
	if refused == errPartialHTML && hdr != nil {
		// A byte range of a document, asked for by a client that did not
		// say it wanted a document: it cannot be filtered, so the client
		// gets the whole page, filtered (RFC 9110 §14.2: a server MAY
		// ignore Range). Nothing of the partial answer has left.
		wholeRequest(r)
		clear(w.Header())
		maps.Copy(w.Header(), hdr)
		err, refused = h.runNext(w, r, next, resp)
	}
	if tr, ok := refused.(*trackerRedirect); ok {
		h.answerTrackerRedirect(w, r, tr)
		return nil
	}
	if refused != nil {
		return caddyhttp.Error(http.StatusBadGateway, refused)
	}
	return err
}

// prepareUpstream readies the request for the origin: codings the handler
// can decode, and validators that cannot earn a response of another
// visitor's variant. It returns whether a validator of the request named
// that variant.
func (h *Handler) prepareUpstream(r *http.Request, granted rules.Set, refused rules.VendorSet) (stripped bool) {
	// Upstream may compress (origins do it cheaply, and it saves the
	// upstream link), but only in codings we can decode, since an HTML body
	// in any other coding can only be refused; non-HTML bodies pass as they
	// come, in a coding the client offered. The encode handler runs before
	// us and has already read this header.
	restrictAcceptEncoding(r.Header)

	// A byte range of a document cannot be filtered without the rest of
	// it, and a filtered document has no stable byte offsets (RFC 9110
	// §14.2: a server MAY ignore Range). Navigations (Accept lists
	// text/html) are served whole; other requests keep their Range, and
	// a partial answer of a document is asked for again whole.
	if acceptsHTML(r.Header) {
		wholeRequest(r)
		// Last-Modified names no variant: a cache holding the page as
		// filtered for an earlier consent could revalidate it with
		// If-Modified-Since and get a 304 for the wrong variant (RFC 9111
		// §4.3.4 selects stored responses by validator). Entity tags are
		// variant-specific (below) and, when present, take precedence over
		// If-Modified-Since anyway (RFC 9110 §13.2.2).
		delete(r.Header, "If-Modified-Since")
	}

	// We suffix filtered responses' ETags per variant (RFC 9110 §8.8.3.3);
	// upstream knows only its own tags, so take our suffix off validators
	// that name the visitor's current variant. Tags of another variant keep
	// their suffix, match nothing upstream, and so never earn a 304 for a
	// body this visitor must not get.
	if r.Header["If-None-Match"] == nil && r.Header["If-Match"] == nil {
		return false // most requests: no suffix to make
	}
	suffix := h.etagSuffix(granted, refused)
	stripped = stripETagSuffix(r.Header, "If-None-Match", suffix)
	return stripETagSuffix(r.Header, "If-Match", suffix) || stripped
}

// wholeRequest asks for a whole representation: no Range, and no body,
// which a GET's has no meaning (RFC 9110 §9.3.1) and which a first try has
// read.
func wholeRequest(r *http.Request) {
	delete(r.Header, "Range")
	delete(r.Header, "If-Range")
	if r.Method == http.MethodGet && r.Body != nil && r.Body != http.NoBody {
		r.Body, r.ContentLength = http.NoBody, 0
		delete(r.Header, "Content-Length")
		delete(r.Header, "Transfer-Encoding")
	}
}

// response is what the request side of ServeHTTP found for the response.
type response struct {
	granted    rules.Set
	vendors    consent.VendorChoices // the visitor's choices vendor by vendor
	unseen     rules.Set             // denials the defer tool cannot see: never deferred
	stripped   bool                  // a validator of the request named the variant
	reqFilter  requestFilter
	caches     *caches
	log        *accessFields // the access log entry's fields; nil outside Caddy's server
	bannerAsks bool          // no consent decision yet: the banner asks
}

// runNext runs next with the response writer that filters its body. It
// returns next's error, or the reason the response was refused: the client
// is then to get a 502, as nothing has left.
func (h *Handler) runNext(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler, resp response) (retErr, refused error) {
	rw := getResponseWriter(h, w, r, resp)
	completed := false
	defer func() {
		if !completed {
			// next panicked, typically reverse_proxy with
			// http.ErrAbortHandler on client abort or a failed upstream
			// body: release our state without writing.
			unsent := rw.unsent()
			putResponseWriter(rw)
			// A filtered response holds its status until the first
			// bytes: when the upstream body failed before they left,
			// the client can still get an honest 502 instead of a
			// broken one. Any other panic goes on up to the server.
			if !unsent {
				return
			}
			if rec := recover(); rec != nil {
				if rec != http.ErrAbortHandler {
					panic(rec)
				}
				// What was decided for the page (a promised length,
				// its Vary) is not the 502's, as in refuse.
				clear(w.Header())
				refused = errUnsentAbort
			}
		}
	}()

	err := next.ServeHTTP(rw, r)
	completed = true
	if err != nil {
		// As encode does: the error handler writes the response from here
		// on, so nothing of ours may follow (no filter tail, no buffer).
		rw.phase = phaseDone
		putResponseWriter(rw)
		return err, nil
	}
	aborted := rw.finish()
	refused = rw.refusal
	putResponseWriter(rw)
	if aborted != nil {
		// The status and part of a decoded body are out and the rest of
		// the stream is unreadable: break the transfer (see decodeFailed).
		panic(http.ErrAbortHandler)
	}
	return nil, refused
}

// restrictAcceptEncoding keeps only the codings of Accept-Encoding that the
// handler decodes (gzip, x-gzip, br, zstd, identity), with their weights
// (RFC 9110 §12.5.3). "*" goes too: it would let upstream pick compress or
// deflate. With nothing left, or no header at all, it asks for identity:
// without the header Go's transport would ask for gzip itself and decode
// the answer before the handler sees it, out of reach of its caps.
func restrictAcceptEncoding(h http.Header) {
	vals := h["Accept-Encoding"]
	clean, named := true, false
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			clean = clean && acceptableCoding(item)
			named = named || strings.TrimSpace(item) != ""
		}
	}
	if clean && named {
		return
	}
	var kept []string
	for _, v := range vals {
		for item := range strings.SplitSeq(v, ",") {
			if acceptableCoding(item) && strings.TrimSpace(item) != "" {
				kept = append(kept, strings.TrimSpace(item))
			}
		}
	}
	if len(kept) == 0 {
		// An empty value is no header to Go's transport either.
		h["Accept-Encoding"] = []string{"identity"}
		return
	}
	h["Accept-Encoding"] = []string{strings.Join(kept, ", ")}
}

// acceptableCoding reports whether one Accept-Encoding member names a coding
// we decode (empty members are harmless).
func acceptableCoding(item string) bool {
	name, _, _ := strings.Cut(item, ";")
	name = strings.TrimSpace(name)
	return name == "" || strings.EqualFold(name, "identity") || decodable(name) != ""
}

var errUnsentAbort = errors.New("upstream html body failed before a byte was filtered")

// acceptsHTML reports whether the request's Accept header names text/html,
// as browsers' navigation requests do.
func acceptsHTML(h http.Header) bool {
	for _, v := range h["Accept"] {
		if containsFold(v, "text/html") {
			return true
		}
	}
	return false
}

// containsFold is a case-insensitive ASCII strings.Contains without
// allocation.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// etagSuffix names the variant a filtered body is: the mode, the granted
// set and the vendors refused by name (a short hash of them), which together
// with the upstream representation determine the output.
func (h *Handler) etagSuffix(granted rules.Set, refused rules.VendorSet) string {
	m := "s"
	if h.mode == htmlfilter.Defer {
		m = "d"
	}
	s := "-c" + m + strconv.FormatUint(uint64(granted), 16)
	if k := refused.Key(); k != "" {
		s += "v" + strconv.FormatUint(maphash.String(refusedSeed, k)&0xffffffff, 16)
	}
	return s
}

// refusedSeed hashes refused vendor sets into entity tags: fixed per
// process, which is as long as the tags it names are answered for.
var refusedSeed = maphash.MakeSeed()

// stripETagSuffix removes suffix from the entity tags in the header key, as
// the encode handler does for "-gzip", and reports whether it found any.
func stripETagSuffix(h http.Header, key, suffix string) bool {
	vals := h[key]
	if len(vals) == 0 {
		return false
	}
	joined := strings.Join(vals, ", ")
	out := strings.ReplaceAll(joined, suffix+`"`, `"`)
	if out == joined {
		return false
	}
	h[key] = []string{out}
	return true
}
