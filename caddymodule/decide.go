package caddymodule

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

var errEncodedHTML = errors.New("upstream html arrived with a content-encoding the filter cannot read")
var errPartialHTML = errors.New("upstream answered a partial (206) html response, which the filter cannot read")

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
	rw.phase = phasePassing
	rw.filterHeaders()
	if rw.phase == phaseRefused {
		return // a redirect to a tracker (filterRedirect): ServeHTTP answers
	}
	status := cmp.Or(rw.statusCode, http.StatusOK)
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
		if rw.decideDocument(ct, body, status) {
			return
		}
	}
	if rw.statusCode != 0 {
		rw.ResponseWriter.WriteHeader(rw.statusCode)
	}
}

// decideDocument settles the headers of a document (HTML, XHTML, SVG) and
// starts its body's pipeline. It reports whether the status is taken care
// of: held until the first filtered bytes, or the response refused.
func (rw *responseWriter) decideDocument(ct string, body bodyType, status int) bool {
	h := rw.Header()
	if body.kind != docXML {
		rw.allowInjected() // an XML document gets no preludes
	}
	if rw.r.Method == http.MethodHead {
		// RFC 9110 §9.3.2: HEAD gets the header fields GET would get,
		// and GET would get a decoded body.
		if enc := contentEncoding(h); enc != "" && decodable(enc) != "" {
			delete(h, "Content-Encoding")
		}
		rw.variantHeaders()
		return false
	}
	if !bodyAllowed(rw.r, status) {
		return false
	}
	coding, ok := rw.readableCoding(status)
	if !ok {
		return true
	}
	// The upstream's length, before variantHeaders drops it: when the
	// first read holds the whole body, the first bytes need no flush
	// of their own (writeFiltered).
	declared := int64(-1)
	if n, err := strconv.ParseInt(firstValue(h["Content-Length"]), 10, 64); err == nil && coding == "" {
		declared = n
	}
	keep := replayable(rw.r, h)
	if etag := firstValue(h["Etag"]); !strings.HasPrefix(etag, "W/") {
		rw.etag = etag
	}
	rw.variantHeaders()
	// We send UTF-8 whatever the origin's encoding (transcoder), and
	// one Content-Type line: the one browsers resolve to.
	h["Content-Type"] = []string{charset.RelabelContentType(body.value)}
	rw.startBody(bodyPlan{contentType: ct, coding: coding, maxDecoded: rw.h.MaxDecoded,
		doc: pagecache.Document{Length: declared}}, body.kind, keep)
	// The status waits for the first filtered byte (statusHold): an
	// upstream that fails before then gets an honest 502, not a 200
	// with a broken body. The filter emits as it reads, so this costs
	// no time when the upstream sends its body with its headers.
	return true
}

// readableCoding returns the content coding the body is to be decoded
// from ("" for none), and drops it from the headers: we send what we
// decoded, and encode (which wraps us) compresses it again for the client
// if configured. A coding we cannot read (compress, deflate, stacked
// codings such as "gzip, br") must never pass unfiltered: ok is false and
// the response is refused.
func (rw *responseWriter) readableCoding(status int) (coding string, ok bool) {
	h := rw.Header()
	enc := contentEncoding(h)
	if enc == "" {
		return "", true
	}
	if coding = decodable(enc); coding == "" {
		rw.refuse(errEncodedHTML)
		if c := rw.h.logger.Check(zap.ErrorLevel, "refusing encoded html"); c != nil {
			c.Write(zap.String("content_encoding", enc), zap.String("host", rw.r.Host),
				zap.String("path", rw.r.URL.Path), zap.Int("status", status))
		}
		return "", false
	}
	delete(h, "Content-Encoding")
	return coding, true
}

// startBody starts the body pipeline of a document of kind: its
// classifier, its filter's options and, when keep says the page may be
// kept and the page cache is on, the page cache.
func (rw *responseWriter) startBody(plan bodyPlan, kind docKind, keep bool) {
	policy := rw.classifier()
	plan.opt = rw.filterOptions(policy, kind)
	plan.status = rw.statusCode
	plan.gather = rw.r.ProtoMajor == 1
	if keep && rw.caches.pages != nil {
		plan.cache = rw.caches.pages
		plan.doc = rw.document(plan.doc.Length)
	}
	rw.body.start(rw.ResponseWriter, plan)
	rw.body.promiseLength(rw.etag != "" && rw.r.Method == http.MethodGet)
	rw.phase = phaseFiltering
}

// classifier readies the body's classifier for this response: the page's
// URL, the visitor's consent, the handler's settings.
func (rw *responseWriter) classifier() *rules.Classifier {
	policy := rw.body.classifier(rw.h.rules, pageURL(rw.r), rw.granted)
	policy.RefuseVendors(rw.vendors.Denied)
	policy.NeverDefer(rw.unseen)
	policy.UseScriptCache(rw.caches.scripts)
	if rw.h.unclassifying {
		policy.Unclassify(rw.h.unclassified)
	}
	return policy
}

// document names the response's document for the page cache: its path
// and query, and its version, the origin's strong ETag (the classifier's
// key names the scheme and host).
func (rw *responseWriter) document(declared int64) pagecache.Document {
	return pagecache.Document{URL: rw.r.URL.RequestURI(), Version: rw.etag, Length: declared}
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
	vary, n := [3]string{"Cookie"}, 1
	if rw.h.gpc {
		vary[n], n = "Sec-GPC", n+1
	}
	if rw.h.Banner != nil {
		vary[n], n = "Accept-Language", n+1 // the banner speaks the visitor's language
	}
	addVary(h, vary[:n]...)
	// RFC 9110 §8.8.3.3: different representations need different entity
	// tags. Encode suffixes only strong tags, since a weak tag allows
	// byte differences between equivalent bodies; ours are not equivalent
	// (a tracker present or absent), so weak tags get the suffix too.
	if etag := firstValue(h["Etag"]); strings.HasSuffix(etag, `"`) && len(etag) >= 2 {
		h["Etag"] = []string{etag[:len(etag)-1] + rw.h.etagSuffix(rw.granted, rw.vendors.Denied) + `"`}
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
	rw.phase, rw.refusal = phaseRefused, err
	clear(rw.Header())
}

// filterOptions returns the filter's options for a document of kind. An
// XML document gets no preludes, which would have to be well-formed XML
// where they land, and so no Consent Mode exemption either; and it is
// stripped, never deferred: deferring adds attributes to kept tags, and a
// duplicate attribute is fatal in XML (XML 1.0 §3.1, Unique Att Spec).
func (rw *responseWriter) filterOptions(policy *rules.Classifier, kind docKind) htmlfilter.Options {
	if kind == docXML {
		return htmlfilter.Options{Mode: htmlfilter.Strip, XML: true}
	}
	opt := htmlfilter.Options{Mode: rw.h.mode, Dialect: rw.h.dialect, BodyPrelude: rw.bannerFor()}
	if rw.h.ConsentMode != "" {
		opt.HeadPrelude = rules.ConsentModeScript(rw.granted)
		if rw.h.ConsentMode == consentModeAdvanced {
			policy.Exempt(rw.h.google)
		}
	}
	return opt
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
