package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// errLengthBroken: a page replayed with its Content-Length turned out to
// differ after some of it had left; the transfer must be broken off, since
// a page shorter or longer than its Content-Length must never look
// complete.
var errLengthBroken = errors.New("page changed under its strong etag after its length was sent")

// body is the way of a filtered response body to the client. start builds
// it once per response; it keeps its buffers across responses.
//
//	decoder → transcoder → [pagecache.Filter] → htmlfilter.Filter → statusHold → client
//
// The decoder undoes the content coding, within caps (decode.go), when
// there is one; the transcoder turns any charset into UTF-8 (charset.go);
// the page cache stands in front of the filter when it is on and the page
// may be kept, and then checks a UTF-8 page's text itself, where the live
// filter reads it; the filter asks its classifier (rules.Classifier) about every
// load; the statusHold keeps the status until the first bytes (hold.go).
type body struct {
	dec    *decoder // nil: the body comes unencoded
	tc     transcoder
	cache  pagecache.Filter
	cached bool       // the page cache is in the path
	cacheW cacheInput // the page cache as the transcoder writes to it
	filter *htmlfilter.Filter
	policy *rules.Classifier // the filter's classifier
	hold   statusHold

	in       int64 // decoded bytes read
	declared int64 // the upstream body's length, -1 if not declared (or encoded)
	ahead    bool  // the first bytes were flushed ahead of the rest
}

// bodyPlan is what a body needs to know of its response.
type bodyPlan struct {
	// contentType: the Content-Type lines as one value, from which the
	// transcoder reads the charset as browsers do.
	contentType string
	coding      string // the content coding to decode, "" for none
	maxDecoded  int64
	opt         htmlfilter.Options
	cache       *pagecache.Cache // nil: the page cache is not in the path
	doc         pagecache.Document
	status      int  // the status held until the first bytes; 0: net/http's implicit 200
	gather      bool // the output is gathered into fewer writes (gather.go)
}

// classifier returns the body's classifier, made or reset for a page at
// url for a visitor who granted granted.
func (b *body) classifier(rs *rules.Rules, url string, granted rules.Set) *rules.Classifier {
	if b.policy == nil {
		b.policy = rs.NewClassifier(url, granted)
	} else {
		b.policy.Reset(rs, url, granted)
	}
	return b.policy
}

// start builds the pipeline for a document written to w, filtered by the
// classifier that classifier returned.
func (b *body) start(w http.ResponseWriter, plan bodyPlan) {
	b.hold.w, b.hold.pending = w, plan.status
	b.hold.gathered.on = plan.gather
	b.declared = plan.doc.Length
	if b.filter == nil {
		b.filter = htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	}
	var filterIn io.Writer = b.filter
	if b.cached = plan.cache != nil; b.cached {
		b.cache.Reset(plan.cache, b.filter, &b.hold, b.policy, plan.opt, plan.doc)
		b.cacheW.b = b
		filterIn = &b.cacheW
	} else {
		b.filter.Reset(&b.hold, b.policy, plan.opt)
	}
	b.tc.Reset(filterIn, plan.contentType)
	if b.cached {
		// The page cache checks a UTF-8 page where the live filter
		// reads it: what equals a remembered page, which was valid, is
		// not checked again.
		b.tc.LeaveUTF8Check()
	}
	if plan.coding != "" {
		b.dec = getDecoder(&b.tc, plan.coding, plan.maxDecoded)
	}
}

// promiseLength sends the filtered page's length, as a plain proxy would,
// when the page cache replays a page that the origin names with a strong
// ETag (versioned) and the same length as the remembered one: a strong
// validator promises the same bytes (RFC 9110 §8.8.1), and with a length
// the client gets the page without chunked framing. Should the bytes
// differ after all, the promise is taken back if no byte has left yet
// (withdrawLength), else the transfer is broken off.
func (b *body) promiseLength(versioned bool) {
	if !b.cached || !versioned || b.dec != nil {
		return
	}
	in, out, ok := b.cache.Remembered()
	if !ok || b.declared != int64(in) {
		return
	}
	b.hold.w.Header()["Content-Length"] = []string{strconv.Itoa(out)}
	b.cache.PromiseLength()
}

// withdrawLength takes back the length promiseLength sent, if it has not
// left yet; else it returns errLengthBroken.
func (b *body) withdrawLength() error {
	if b.hold.headerOut {
		return errLengthBroken
	}
	delete(b.hold.w.Header(), "Content-Length")
	b.cache.WithdrawPromise()
	return nil
}

// cacheInput is the page cache's input: a page whose length was promised
// and that differs has its promise taken back, then goes on live.
type cacheInput struct{ b *body }

func (c *cacheInput) Write(p []byte) (int, error) {
	n, err := c.b.cache.Write(p)
	if err == pagecache.ErrPromised {
		if err = c.b.withdrawLength(); err == nil {
			return c.b.cache.Write(p)
		}
	}
	return n, err
}

// oneFlight is the longest body that an origin sending it whole puts in
// one flight of TCP's initial window (10 segments of 1460 bytes, RFC 6928):
// its parts arrive together, however the transport cuts its reads, so
// even a short read within it says nothing of the upstream's pace.
const oneFlight = 10 * 1460

// write reads the body's next bytes, encoded if the body is. What the
// statusHold gathered of their output (gather.go) leaves at once when the
// upstream may have paused, which write reports.
func (b *body) write(p []byte) (n int, paused bool, err error) {
	defer b.hold.clock.stop(b.hold.clock.start())
	first := !b.hold.released
	if b.dec != nil {
		n, err = b.dec.Write(p)
	} else {
		n, err = b.tc.Write(p)
		b.in += int64(n)
	}
	if err == nil && b.paused(first, len(p)) {
		return n, true, b.hold.flush()
	}
	return n, false, err
}

// paused reports whether an upstream write of n bytes says that the rest
// of the body may come later, so that what is gathered should not wait
// for it.
//
// A body of no declared length is a stream (an SSR framework, PHP's
// flush()): its first write may be a head sent ahead of the rest, and a
// short one (reverse_proxy reads 32 KiB at a time) drained the upstream.
// A body whose length is declared was rendered before it was sent. Its
// first write is what followed the headers in the transport's 4 KiB read
// buffer, and says nothing; a later short one says the network paused,
// unless the body is one flight long; after its last one, Close writes.
// An origin that declares a length and still pauses within it needs
// reverse_proxy's flush_interval -1.
func (b *body) paused(first bool, n int) bool {
	if b.declared < 0 {
		return first || n < shortRead
	}
	return !first && n < shortRead && b.in < b.declared && b.declared > oneFlight
}

// flush writes on what the transcoder still holds, what a replay has
// decided and what is gathered; the statusHold keeps the first bytes
// whatever a flush says.
func (b *body) flush() error {
	if err := b.tc.Flush(); err != nil {
		return err
	}
	if b.cached {
		if err := b.cache.Flush(); err != nil {
			return err
		}
	}
	return b.hold.flush()
}

// sent reports whether the status went to the client's writer: until then
// nothing has left, and the response can still be refused.
func (b *body) sent() bool { return b.hold.headerOut }

// closeInput ends an encoded body's input: an error says the stream was
// corrupt or truncated.
func (b *body) closeInput() error {
	if b.dec == nil {
		return nil
	}
	defer b.hold.clock.stop(b.hold.clock.start())
	if err := b.dec.Close(); err != nil {
		return err
	}
	b.in = b.dec.out
	return nil
}

// Close ends the document: the transcoder and the filter decide what they
// still hold, and a short body's held status and bytes go out.
func (b *body) Close() error {
	defer b.hold.clock.stop(b.hold.clock.start())
	err := b.tc.Close()
	var ferr error
	if b.cached {
		if ferr = b.cache.Close(); ferr == pagecache.ErrPromised {
			if ferr = b.withdrawLength(); ferr == nil {
				ferr = b.cache.Close()
			}
		}
	} else {
		ferr = b.filter.Close()
	}
	if err == nil {
		err = ferr
	}
	if err == nil && !b.hold.released {
		err = b.hold.release()
	}
	if err == nil {
		b.hold.lengthKnown()
		err = b.hold.flush()
	}
	return err
}

// removed is what the filter removed, or the page cache remembers it did.
func (b *body) removed() []htmlfilter.Removal {
	if b.cached {
		return b.cache.Removed()
	}
	return b.filter.Removed()
}

// replayed reports whether the page cache wrote the document.
func (b *body) replayed() bool { return b.cached && b.cache.Replayed() }

// resumed is how many input bytes of a document that differed from the
// remembered one the page cache replayed all the same.
func (b *body) resumed() int {
	if !b.cached {
		return 0
	}
	return b.cache.Resumed()
}

// release ends the body's part in its response, kept or not, and drops its
// references to it; the buffers stay for the next response.
func (b *body) release() {
	if b.dec != nil {
		b.dec.release()
	}
	b.cache.Release()
	b.hold.drop()
	if b.filter != nil {
		// Drop references to the response; Reset runs again before reuse.
		b.filter.Reset(io.Discard, nil, htmlfilter.Options{})
	}
	tc := b.tc.Recycled()
	*b = body{filter: b.filter, policy: b.policy, cache: b.cache}
	b.tc = tc
}
