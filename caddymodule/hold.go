package caddymodule

import (
	"net/http"
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

// gatherCap bounds the output gathered from one upstream write. A filtered
// body has no length, so net/http frames it in chunks, and its 4 KiB
// connection buffer sends a chunk over 4 KiB in two write system calls: a
// write per kept run between removed elements would double a page's
// system calls. The filter's output of one upstream write (32 KiB from
// reverse_proxy) leaves in one write instead; nothing waits for a later
// upstream write, so the time to first byte is unchanged.
const gatherCap = 32 << 10

// statusHold is the last step of a filtered body: it holds the status back
// until the first body bytes (earlyLen), so that an upstream failure, a
// corrupt or a bomb-sized stream found before then can still be answered
// with a 502; it gathers the output of one upstream write (gatherCap); and
// it counts what reaches the next writer.
type statusHold struct {
	w       http.ResponseWriter
	n       int64
	pending int    // status to write before the first byte
	sent    bool   // the status (or a body byte) went to the next writer
	early   []byte // the first bytes, held (earlyLen); from earlyPool
	// gathers: the body goes out chunked (no Content-Length), so output
	// is gathered until endWrite; gathered is from gatherPool.
	gathers  bool
	gathered []byte
	// clock times the filter for the metrics, less these writes.
	clock filterClock
}

func (c *statusHold) Write(p []byte) (int, error) {
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

func (c *statusHold) write(p []byte) (int, error) {
	if !c.gathers {
		return c.send(p)
	}
	if len(c.gathered)+len(p) > gatherCap {
		if err := c.endWrite(); err != nil {
			return 0, err
		}
	}
	if len(p) >= gatherCap/2 && len(c.gathered) == 0 {
		return c.send(p) // a long run alone: no copy
	}
	if c.gathered == nil {
		c.gathered = (*gatherPool.Get().(*[gatherCap]byte))[:0]
	}
	c.gathered = append(c.gathered, p...)
	return len(p), nil
}

// endWrite writes what was gathered on; the body calls it once the output
// of an upstream write (or a flush, or the end) is made.
func (c *statusHold) endWrite() error {
	if len(c.gathered) == 0 {
		return nil
	}
	_, err := c.send(c.gathered)
	c.dropGathered()
	return err
}

// dropGathered gives the gathering buffer back: a response that waits on a
// slow client between upstream writes keeps none.
func (c *statusHold) dropGathered() {
	if c.gathered != nil {
		gatherPool.Put((*[gatherCap]byte)(c.gathered[:gatherCap]))
		c.gathered = nil
	}
}

var gatherPool = sync.Pool{New: func() any { return new([gatherCap]byte) }}

// send writes p to the next writer.
func (c *statusHold) send(p []byte) (int, error) {
	defer c.clock.waited(c.clock.now())
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// release writes the held status and bytes on.
func (c *statusHold) release() error {
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
func (c *statusHold) drop() {
	if c.early != nil {
		earlyPool.Put((*[earlyLen + 1]byte)(c.early[:earlyLen+1]))
		c.early = nil
	}
}

// earlyPool holds the buffers of the first bytes, needed by a response only
// until they leave.
var earlyPool = sync.Pool{New: func() any { return new([earlyLen + 1]byte) }}

// commit writes a held status on.
func (c *statusHold) commit() {
	if c.pending != 0 {
		c.w.WriteHeader(c.pending)
		c.pending = 0
	}
	c.sent = true
	_, framed := c.w.Header()["Content-Length"]
	c.gathers = !framed
}
