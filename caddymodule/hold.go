package caddymodule

import (
	"net/http"
	"strconv"
	"sync"
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

// statusHold is the last step of a filtered body: it holds the status back
// until the first body bytes reach the next writer (past earlyLen, and out
// of the gathering), so that an upstream failure, a corrupt or a
// bomb-sized stream found before then can still be answered with a 502,
// and counts what reaches the next writer.
type statusHold struct {
	w        http.ResponseWriter
	n        int64
	pending  int  // status to write before the first byte
	released bool // the first bytes were released (earlyLen)
	// headerOut: the status went to the next writer, with the first
	// bytes or flush that reached it. Until then the response can still
	// be refused, and a body gathered whole be given its length
	// (lengthKnown).
	headerOut bool
	early     []byte // the first bytes, held (earlyLen); from earlyPool
	// gathered: the output after the first bytes, until it is flushed
	// or fills its array (gather.go).
	gathered gather
	// clock times the filter for the metrics, less these writes.
	clock filterClock
}

func (c *statusHold) Write(p []byte) (int, error) {
	if c.released {
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

// write passes p on, gathered unless it fills an array of its own or the
// client reads slowly.
func (c *statusHold) write(p []byte) (int, error) {
	n := len(p)
	for {
		if !c.gathered.on || (c.gathered.p == nil && len(p) >= gatherLen) {
			k, err := c.send(p)
			return n - len(p) + k, err
		}
		if p = c.gathered.add(p); !c.gathered.full() {
			return n, nil
		}
		if err := c.flush(); err != nil || len(p) == 0 {
			return n - len(p), err
		}
	}
}

// flush writes what is gathered on.
func (c *statusHold) flush() error {
	if c.gathered.p == nil {
		return nil
	}
	var err error
	if len(c.gathered.buf) > 0 {
		_, err = c.send(c.gathered.buf)
	}
	c.gathered.release()
	return err
}

// send writes p to the next writer, and notes a client that made it wait.
func (c *statusHold) send(p []byte) (int, error) {
	c.writeHeader()
	t := c.clock.now()
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.gathered.sent(c.clock.waited(t))
	return n, err
}

// release writes the held status and bytes on.
func (c *statusHold) release() error {
	c.commit()
	var err error
	if len(c.early) > 0 {
		_, err = c.write(c.early)
	}
	c.dropEarly()
	return err
}

// drop gives the held bytes' buffers back: a response that waits on a
// slow client keeps none.
func (c *statusHold) drop() {
	c.dropEarly()
	c.gathered.release()
}

func (c *statusHold) dropEarly() {
	if c.early != nil {
		earlyPool.Put((*[earlyLen + 1]byte)(c.early[:earlyLen+1]))
		c.early = nil
	}
}

// earlyPool holds the buffers of the first bytes, needed by a response only
// until they leave.
var earlyPool = sync.Pool{New: func() any { return new([earlyLen + 1]byte) }}

// commit ends the holding of the first bytes: the status leaves with the
// next write or flush that reaches the next writer.
func (c *statusHold) commit() { c.released = true }

// writeHeader writes a committed status on, before the first byte or
// flush that reaches the next writer.
func (c *statusHold) writeHeader() {
	if c.headerOut {
		return
	}
	if c.pending != 0 {
		c.w.WriteHeader(c.pending)
		c.pending = 0
	}
	c.headerOut = true
}

// lengthKnown gives the body its Content-Length when all of it is
// gathered and nothing has reached the next writer: the client then gets
// a page of known length rather than chunks (as from a plain proxy), and
// net/http frames no chunk. A length already set (a replay's promise) is
// kept; a response that announces trailers stays chunked.
func (c *statusHold) lengthKnown() {
	if c.headerOut || !c.released {
		return
	}
	h := c.w.Header()
	if _, ok := h["Content-Length"]; ok {
		return
	}
	if _, ok := h["Trailer"]; ok {
		return // trailers need chunks
	}
	h["Content-Length"] = []string{strconv.Itoa(len(c.gathered.buf))}
}
