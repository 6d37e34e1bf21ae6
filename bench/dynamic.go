package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// The dynamic origin serves the bench's pages as a site that renders them
// per request would: a fresh CSRF token and CSP nonce in every response,
// and a cart count. It runs in the bench's process and must cost next to
// nothing, so each page is split at its slots once, and a response is the
// pieces and the values written in turn: no template engine.
//
// A response has no ETag (it is a new representation every time) and no
// Cache-Control, as many frameworks send a rendered page by default: the
// consent proxy's page cache then tries the page, finds it different, and
// leaves its key alone for a while (pagecache's volatileFor). A page marked
// private or no-store is not tried at all, and costs what the
// `page_cache off` column shows. It does have a Content-Length, as a
// framework that renders into a buffer sends it, so that the static and
// the dynamic origin differ in the bytes changing and nothing else.

// slot is a place in a page that a site fills per request.
type slot int

const (
	slotCSRF  slot = iota // <meta name="csrf-token" content="…">, a form's hidden field
	slotNonce             // <script nonce="…">: CSP Level 3, §6.7.3.1
	slotCart              // the visitor's cart count
)

// slotMarkers are the slots as the page templates write them.
var slotMarkers = [...]string{slotCSRF: "{{csrf}}", slotNonce: "{{nonce}}", slotCart: "{{cart}}"}

// page is a page template split at its slots: pieces[0], slot[0],
// pieces[1], slot[1], ..., the last piece.
type page struct {
	pieces [][]byte
	slots  []slot
}

// splitPage splits a template at its slot markers; any other "{{" is text.
func splitPage(t []byte) page {
	var p page
	last := 0
	for i := 0; ; {
		j := bytes.Index(t[i:], []byte("{{"))
		if j < 0 {
			break
		}
		i += j
		k := markerAt(t[i:])
		if k < 0 {
			i += 2
			continue
		}
		p.pieces = append(p.pieces, t[last:i])
		p.slots = append(p.slots, slot(k))
		i += len(slotMarkers[k])
		last = i
	}
	p.pieces = append(p.pieces, t[last:])
	return p
}

// markerAt is the slot whose marker b starts with, or -1.
func markerAt(b []byte) int {
	for k, m := range slotMarkers {
		if bytes.HasPrefix(b, []byte(m)) {
			return k
		}
	}
	return -1
}

// pageValues fills a page's slots.
type pageValues [len(slotMarkers)][]byte

// staticValues are the static origin's values: fixed, of the dynamic
// values' lengths.
func staticValues() pageValues {
	var seed [49]byte
	for i := range seed {
		seed[i] = byte(i)
	}
	return valuesFrom(seed)
}

// newValues are one response's values: 32 random bytes for the token (as
// Rails and Django make theirs), 16 for the nonce (CSP Level 3, §7.4: at
// least 128 bits), a cart of 0 to 9 items.
func newValues() pageValues {
	var seed [49]byte
	rand.Read(seed[:])
	return valuesFrom(seed)
}

func valuesFrom(seed [49]byte) pageValues {
	var v pageValues
	v[slotCSRF] = base64.RawURLEncoding.AppendEncode(nil, seed[:32])
	v[slotNonce] = base64.StdEncoding.AppendEncode(nil, seed[32:48])
	v[slotCart] = strconv.AppendInt(nil, int64(seed[48]%10), 10)
	return v
}

// length is the rendered page's length.
func (p page) length(v pageValues) int {
	n := 0
	for _, b := range p.pieces {
		n += len(b)
	}
	for _, s := range p.slots {
		n += len(v[s])
	}
	return n
}

// render writes the page with its slots filled.
func (p page) render(w io.Writer, v pageValues) error {
	for i, s := range p.slots {
		if _, err := w.Write(p.pieces[i]); err != nil {
			return err
		}
		if _, err := w.Write(v[s]); err != nil {
			return err
		}
	}
	_, err := w.Write(p.pieces[len(p.pieces)-1])
	return err
}

// dynamicOrigin serves pages by name ("/large.html"), filled anew for
// each response.
type dynamicOrigin map[string]page

func (o dynamicOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := o[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	v := newValues()
	h := w.Header()
	h["Content-Type"] = []string{"text/html; charset=utf-8"}
	h["Content-Length"] = []string{strconv.Itoa(p.length(v))}
	p.render(w, v)
}

// startDynamicOrigin serves pages on port until the bench ends.
func startDynamicOrigin(port int, pages map[string]page) {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fatal("dynamic origin: %v", err)
	}
	go http.Serve(l, dynamicOrigin(pages))
}
