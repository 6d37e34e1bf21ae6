package caddymodule

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentedge/consentedge/internal/benchpage"
)

// clientWriter is a client's ResponseWriter that keeps the body and the
// size of every write; delay makes each write take that long, as a client
// that reads slower than the proxy writes does. held, when set, is asked
// during each write whether the response holds a gathering array.
type clientWriter struct {
	h         http.Header
	body      bytes.Buffer
	writes    []int
	delay     time.Duration
	held      func() bool
	heldAfter int // writes after the first during which an array was held
}

func (c *clientWriter) Header() http.Header { return c.h }
func (c *clientWriter) WriteHeader(int)     {}
func (c *clientWriter) Write(p []byte) (int, error) {
	time.Sleep(c.delay)
	if c.held != nil && len(c.writes) > 0 && c.held() {
		c.heldAfter++
	}
	c.writes = append(c.writes, len(p))
	return c.body.Write(p)
}

// gatherPage is a tag-dense page with trackers throughout: the filter
// writes it in many pieces.
var gatherPage = []byte(strings.NewReplacer("{{csrf}}", "t", "{{nonce}}", "n", "{{cart}}", "1").Replace(string(benchpage.Shop(256 << 10))))

// serveGathered filters gatherPage, written 32 KiB at a time, to client,
// over HTTP/major.
func serveGathered(t *testing.T, h *Handler, client *clientWriter, major int) {
	t.Helper()
	req := httptest.NewRequest("GET", "http://shop.example/list", nil)
	req.ProtoMajor = major
	err := h.ServeHTTP(client, req, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw := w.(*responseWriter)
		client.held = func() bool { return rw.body.hold.gathered.p != nil }
		return writeChunked(w, gatherPage)
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// TestGathersWrites: a page the filter writes in many pieces reaches the
// client in few writes, each a chunk of its own on a chunked response;
// a client that makes a write wait gets the pieces as they come, the same
// bytes, and the response holds no gathering array while it waits. Over
// HTTP/2, which has no chunks, nothing is gathered.
func TestGathersWrites(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) { h.PageCache = -1 })
	fast := &clientWriter{h: http.Header{}}
	fast.body.Grow(1 << 20) // no write of its own takes long
	serveGathered(t, h, fast, 1)
	slow := &clientWriter{h: http.Header{}, delay: 2 * slowWrite}
	serveGathered(t, h, slow, 1)
	h2 := &clientWriter{h: http.Header{}}
	serveGathered(t, h, h2, 2)

	if !bytes.Equal(fast.body.Bytes(), slow.body.Bytes()) || bytes.Contains(fast.body.Bytes(), []byte("connect.facebook.net")) {
		t.Fatal("gathered and ungathered writes made different pages, or a tracker was left")
	}
	// The first write, then gatherLen at a time; ungathered, this page
	// makes 32.
	if most := 2 + fast.body.Len()/gatherLen; len(fast.writes) > most {
		t.Errorf("%d writes of %d bytes, want at most %d: %v", len(fast.writes), fast.body.Len(), most, fast.writes)
	}
	if len(h2.writes) < 3*len(fast.writes) || !bytes.Equal(h2.body.Bytes(), fast.body.Bytes()) {
		t.Errorf("over HTTP/2, %d writes, over HTTP/1.1 %d: gathered", len(h2.writes), len(fast.writes))
	}
	// The first write waits on the client: nothing is gathered.
	if len(slow.writes) < 3*len(fast.writes) {
		t.Errorf("a slow client got %d writes, a fast one %d: still gathered", len(slow.writes), len(fast.writes))
	}
	if slow.heldAfter > 0 {
		t.Errorf("a gathering array was held during %d of a slow client's %d writes after its first", slow.heldAfter, len(slow.writes)-1)
	}
}

// TestGatherFills: output is gathered into full arrays, each a chunk of
// its own, whatever the pieces it comes in; a piece that fills an array
// by itself, with nothing gathered, leaves as it is; a page that fits is
// gathered whole and given its length.
func TestGatherFills(t *testing.T) {
	const k = 1 << 10
	for _, tc := range []struct {
		name   string
		pieces []int // the filter's writes
		want   []int // the client's writes
		length bool  // the page got its Content-Length
	}{
		{"a long piece after short ones", []int{512, 4 * k, 100 * k}, []int{64 * k, 40*k + 512}, false},
		{"a long piece first", []int{100 * k, 2 * k}, []int{100 * k, 2 * k}, false},
		{"a page that fits", []int{512, 4 * k, 40 * k}, []int{512 + 44*k}, true},
		{"pieces shorter than an array", []int{40 * k, 40 * k, 30 * k}, []int{64 * k, 46 * k}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := &clientWriter{h: http.Header{}}
			hold := &statusHold{w: client, pending: http.StatusOK, gathered: gather{on: true}}
			var page []byte
			for i, n := range tc.pieces {
				piece := bytes.Repeat([]byte{byte('a' + i)}, n)
				page = append(page, piece...)
				if _, err := hold.Write(piece); err != nil {
					t.Fatal(err)
				}
			}
			hold.lengthKnown()
			if err := hold.flush(); err != nil {
				t.Fatal(err)
			}
			hold.drop()
			if !bytes.Equal(client.body.Bytes(), page) {
				t.Fatal("the client got other bytes than the filter wrote")
			}
			if !slices.Equal(client.writes, tc.want) {
				t.Errorf("client writes %v, want %v", client.writes, tc.want)
			}
			if got := client.h.Get("Content-Length"); (got != "") != tc.length || tc.length && got != strconv.Itoa(len(page)) {
				t.Errorf("Content-Length %q for a page of %d bytes, want it: %v", got, len(page), tc.length)
			}
		})
	}
}

// TestGatherPause: what was gathered leaves when the upstream pauses,
// without waiting for its next write: after a write shorter than
// reverse_proxy's reads, or a flush.
func TestGatherPause(t *testing.T) {
	full := strings.Repeat("<p>text</p>\n", 2<<10) // 24 KiB: not short
	const marker = "<p>second write ends here</p>"
	for _, tc := range []struct {
		name  string
		pause func(w http.ResponseWriter) error
	}{
		{"short write", func(w http.ResponseWriter) error {
			_, err := io.WriteString(w, strings.Repeat("<p>text</p>\n", 512))
			return err
		}},
		{"flush", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, func(h *Handler) { h.PageCache = -1 })
			seen := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					for _, s := range []string{"<!DOCTYPE html>" + full, full + marker} {
						if _, err := io.WriteString(w, s); err != nil {
							return err
						}
					}
					if err := tc.pause(w); err != nil {
						return err
					}
					select {
					case <-seen:
					case <-time.After(10 * time.Second):
					}
					_, err := io.WriteString(w, "<p>end</p>")
					return err
				}))
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			defer close(seen)
			found := make(chan bool, 1)
			go func() {
				var got []byte
				br := bufio.NewReader(resp.Body)
				for !bytes.Contains(got, []byte(marker)) {
					b, err := br.ReadByte()
					if err != nil {
						found <- false
						return
					}
					got = append(got, b)
				}
				found <- true
			}()
			select {
			case ok := <-found:
				if !ok {
					t.Fatal("the body ended without the second write")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the second write waited, gathered, while the upstream paused")
			}
		})
	}
}

// flushCounter is a client that counts the flushes that reach it.
type flushCounter struct {
	clientWriter
	flushes []int // the body's length at each flush
}

func (c *flushCounter) Flush() { c.flushes = append(c.flushes, c.body.Len()) }

// TestWhenFirstBytesLeave: a page whose length is declared reaches the
// client in as few writes as its upstream's pace allows. Its first
// upstream write (the transport's first read, what followed the headers in
// its 4 KiB buffer) is not flushed ahead of the rest, nor is its last; a
// short write between them (the network paused) is, unless the page is one
// flight of TCP long. A page of no declared length (a stream) has its
// first bytes flushed ahead of the rest.
func TestWhenFirstBytesLeave(t *testing.T) {
	short := "<!DOCTYPE html><title>t</title>" + strings.Repeat("<p>text</p>\n", 800) // 9.6 KB
	long := short + strings.Repeat("<p>text</p>\n", 3200)                             // 48 KB
	for _, tc := range []struct {
		name       string
		page       string
		length     bool
		cuts       []int // where the upstream's writes end, but the last
		wantFlush  int   // the upstream write after which the first flush comes, -1 for none before the end
		wantWrites int
	}{
		{"declared, in one flight", short, true, []int{3900}, -1, 1},
		{"declared, in one flight, a short write between", short, true, []int{3900, 6000}, -1, 1},
		{"declared, beyond one flight, in two writes", long, true, []int{3900}, -1, 1},
		{"declared, beyond one flight, long writes", long, true, []int{3900, 3900 + 20000}, -1, 1},
		{"declared, beyond one flight, a short write between", long, true, []int{3900, 3900 + 10000}, 13900, 2},
		{"undeclared", short, false, []int{3900}, 3900, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, func(h *Handler) { h.PageCache = -1 })
			client := &flushCounter{clientWriter: clientWriter{h: http.Header{}}}
			err := h.ServeHTTP(client, httptest.NewRequest("GET", "http://shop.example/", nil),
				caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					if tc.length {
						w.Header().Set("Content-Length", strconv.Itoa(len(tc.page)))
					}
					last := 0
					for _, cut := range append(tc.cuts, len(tc.page)) {
						if _, err := io.WriteString(w, tc.page[last:cut]); err != nil {
							return err
						}
						last = cut
					}
					return nil
				}))
			if err != nil {
				t.Fatal(err)
			}
			if client.body.String() != tc.page {
				t.Fatal("the page changed")
			}
			firstFlush := -1
			if len(client.flushes) > 0 && client.flushes[0] < len(tc.page) {
				firstFlush = client.flushes[0]
			}
			// The filter may hold a tag that a write cuts.
			flushedThere := firstFlush == tc.wantFlush || tc.wantFlush > 0 && firstFlush > tc.wantFlush-32 && firstFlush <= tc.wantFlush
			if !flushedThere || len(client.writes) != tc.wantWrites {
				t.Errorf("flushes at %v of %d bytes, writes %v; want the first flush after byte %d, %d writes",
					client.flushes, len(tc.page), client.writes, tc.wantFlush, tc.wantWrites)
			}
		})
	}
}
