package e2e

// A small Chrome DevTools Protocol client for the browser suite: commands with
// an id and their responses, and per-session event queues. It talks to Chromium
// over --remote-debugging-pipe (fd 3 the browser reads, fd 4 it writes, each
// message JSON ended by a NUL byte): no port to find, no websocket, nothing
// another process on the machine could connect to.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// cdpMsg is any message on the pipe: a command, its response or an event.
type cdpMsg struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *cdpError       `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

func (e *cdpError) Error() string {
	if e.Data != "" {
		return fmt.Sprintf("cdp error %d: %s (%s)", e.Code, e.Message, e.Data)
	}
	return fmt.Sprintf("cdp error %d: %s", e.Code, e.Message)
}

// cdpConn is one connection to the browser. Commands may be sent from any
// goroutine; one goroutine reads and dispatches.
type cdpConn struct {
	w io.Writer

	mu       sync.Mutex
	nextID   int64
	pending  map[int64]chan cdpMsg
	sessions map[string]*cdpSession
	err      error         // why the read loop ended
	done     chan struct{} // closed when the read loop ends
}

func newCDPConn(r io.Reader, w io.Writer) *cdpConn {
	c := &cdpConn{
		w:        w,
		pending:  map[int64]chan cdpMsg{},
		sessions: map[string]*cdpSession{},
		done:     make(chan struct{}),
	}
	go c.readLoop(bufio.NewReaderSize(r, 1<<20))
	return c
}

func (c *cdpConn) readLoop(r *bufio.Reader) {
	var err error
	for {
		var b []byte
		if b, err = r.ReadBytes(0); err != nil {
			break
		}
		var m cdpMsg
		if err = json.Unmarshal(b[:len(b)-1], &m); err != nil {
			err = fmt.Errorf("cdp: bad message from the browser: %w", err)
			break
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch, ok := c.pending[m.ID]; ok {
				delete(c.pending, m.ID)
				ch <- m // buffered
			}
		} else if s, ok := c.sessions[m.SessionID]; ok && m.SessionID != "" {
			s.push(m)
		}
		// Browser-level events (Target.*) are not needed: every target is
		// created and attached by a command whose response names it.
		c.mu.Unlock()
	}
	c.mu.Lock()
	if errors.Is(err, io.EOF) {
		err = errors.New("cdp: the browser closed the pipe")
	}
	c.err = err
	for id, ch := range c.pending {
		delete(c.pending, id)
		close(ch)
	}
	for _, s := range c.sessions {
		s.close()
	}
	c.mu.Unlock()
	close(c.done)
}

// call sends method with params on session ("" = the browser) and decodes the
// result into result (may be nil).
func (c *cdpConn) call(ctx context.Context, session, method string, params, result any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	if params == nil {
		raw = nil
	}
	ch := make(chan cdpMsg, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	msg, err := json.Marshal(cdpMsg{ID: id, Method: method, Params: raw, SessionID: session})
	if err == nil {
		// The write happens under the lock so that messages never interleave
		// on the pipe.
		_, err = c.w.Write(append(msg, 0))
	}
	if err != nil {
		delete(c.pending, id)
		c.mu.Unlock()
		return fmt.Errorf("cdp: sending %s: %w", method, err)
	}
	c.mu.Unlock()
	select {
	case m, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return fmt.Errorf("cdp: %s: %w", method, err)
		}
		if m.Error != nil {
			return fmt.Errorf("cdp: %s: %w", method, m.Error)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return fmt.Errorf("cdp: %s: %w", method, ctx.Err())
	}
}

// session registers an attached target's session so that its events queue up.
func (c *cdpConn) session(id string) *cdpSession {
	s := &cdpSession{c: c, id: id, notify: make(chan struct{}, 1)}
	c.mu.Lock()
	c.sessions[id] = s
	c.mu.Unlock()
	return s
}

func (c *cdpConn) forget(s *cdpSession) {
	c.mu.Lock()
	delete(c.sessions, s.id)
	c.mu.Unlock()
}

// cdpSession is an attached target (flatten mode): commands carry its id and
// its events queue here, unbounded, until read.
type cdpSession struct {
	c  *cdpConn
	id string

	mu     sync.Mutex
	queue  []cdpMsg
	closed bool
	notify chan struct{}
}

func (s *cdpSession) push(m cdpMsg) {
	s.mu.Lock()
	s.queue = append(s.queue, m)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *cdpSession) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *cdpSession) call(ctx context.Context, method string, params, result any) error {
	return s.c.call(ctx, s.id, method, params, result)
}

// next returns the next event, waiting for one until ctx ends.
func (s *cdpSession) next(ctx context.Context) (cdpMsg, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			m := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return m, nil
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return cdpMsg{}, errors.New("cdp: session closed")
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return cdpMsg{}, ctx.Err()
		}
	}
}
