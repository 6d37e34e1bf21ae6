package caddymodule

import (
	"sync"
	"time"
)

// gatherLen bounds the output a filtered body gathers before it writes. A
// filtered body longer than that has no length, so net/http sends it
// chunked over HTTP/1.x (a shorter one gets its length: lengthKnown), and
// a write over its 4 KiB connection buffer leaves in two system calls
// (the chunk header fills the buffer first, the rest goes on its own). A
// page that differs from the remembered one here and there, or whose
// trackers are removed, is written in many pieces: gathered, they leave in
// a few chunks. Caddy cuts writes at 64 KiB anyway. HTTP/2 has no chunks
// (its frames are written from a buffer of its own): nothing is gathered.
const gatherLen = 64 << 10

// slowWrite is a write to the client long enough to say that the client
// reads slower than the proxy writes (a write to a client that keeps up
// takes microseconds; one that waits on a slow client, seconds): from
// then on the response writes each piece as it comes, so that no gathered
// bytes wait on that client.
const slowWrite = 10 * time.Millisecond

// shortRead is an upstream write short enough to say that the upstream
// paused: reverse_proxy reads 32 KiB at a time. What was gathered then
// leaves at once, as it would through a plain proxy.
const shortRead = 16 << 10

// gatherPool holds the gathering arrays, taken when output is gathered and
// given back as soon as it is written. Pointers, so that Put does not
// allocate.
var gatherPool = sync.Pool{New: func() any {
	b := make([]byte, 0, gatherLen)
	return &b
}}

// gather is the output a statusHold holds before it writes it on. The
// first write that waits on the client holds the array until the client
// has taken it; then gathering stops for the response, so that it holds
// none while it waits.
type gather struct {
	p   *[]byte // the array, from gatherPool; nil when nothing is gathered
	buf []byte
	on  bool // writes are gathered: HTTP/1.x, and no write waited yet
}

// sent notes a write of the response that took d.
func (g *gather) sent(d time.Duration) {
	if d > slowWrite {
		g.on = false
	}
}

// add gathers p, or as much of it as fits; it returns the rest.
func (g *gather) add(p []byte) []byte {
	if g.p == nil {
		g.p = gatherPool.Get().(*[]byte)
		g.buf = (*g.p)[:0]
	}
	k := min(len(p), gatherLen-len(g.buf))
	g.buf = append(g.buf, p[:k]...)
	return p[k:]
}

// full reports whether nothing more fits.
func (g *gather) full() bool { return len(g.buf) == gatherLen }

// release gives the array back once what it held is written.
func (g *gather) release() {
	if g.p != nil {
		*g.p = g.buf[:0]
		gatherPool.Put(g.p)
		g.p, g.buf = nil, nil
	}
}
