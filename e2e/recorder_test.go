package e2e

// The host recorder. Chromium runs with --host-resolver-rules mapping every
// host but the test's own servers to the recorder's loopback port (see
// recorderRule), so every connection to a third-party host, plain or TLS,
// whatever its port, lands there, where this writes down the host the
// browser wanted: the Host of a plain request, the server name (SNI) of a
// TLS ClientHello, told apart by the connection's first byte. TLS handshakes
// are then failed and plain requests answered 204 with Connection: close, so
// that nothing a tracker would send back runs and every connection ends at
// once (which is what makes take exact). The port is the kernel's choice: no
// root needed, and two runs on one machine do not collide.

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// browserOwnHosts are hosts Chromium itself contacts whatever the page
// (account, component-update and autofill checks the Debian build makes even
// with background networking off, from its default profile). They are dropped from what a load reached;
// TestBrowserOwnHostsAreNoTrackers makes sure no rule names them, so that
// dropping them cannot hide a tracker.
var browserOwnHosts = []string{"accounts.google.com", "clients2.google.com", "update.googleapis.com", "content-autofill.googleapis.com"}

// pageHosts takes the hosts recorded since the last take, less those
// Chromium contacts on its own.
func (e *browserEnv) pageHosts() (map[string]string, error) {
	hosts, err := e.rec.take()
	if err != nil {
		return nil, err
	}
	for _, h := range browserOwnHosts {
		delete(hosts, h)
	}
	return hosts, nil
}

// connDeadline bounds how long one connection may keep its handler (and so
// take) waiting. A closed browser context closes its sockets, so
// this only matters for a socket the browser keeps open idle.
const connDeadline = 10 * time.Second

// hostLog is a set of hosts and how each was first seen ("tls", "http").
type hostLog struct {
	mu    sync.Mutex
	hosts map[string]string
}

func (l *hostLog) record(host, how string) {
	host = normHost(host)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts == nil {
		l.hosts = map[string]string{}
	}
	if _, ok := l.hosts[host]; !ok {
		l.hosts[host] = how
	}
}

// take returns the hosts recorded so far and forgets them.
func (l *hostLog) take() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hosts
	if h == nil {
		h = map[string]string{}
	}
	l.hosts = nil
	return h
}

// normHost lowercases a host, drops a port and the trailing dot (a browser
// ignores it; both name the same host).
func normHost(h string) string {
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

var errRecorded = errors.New("recorded")

// recorderRule is the --host-resolver-rules value that sends every host
// name, with any scheme and port, to the recorder at addr ("127.0.0.1:port").
// The rule syntax is Chromium's net/base/host_mapping_rules.h: "MAP pattern
// host[:port]" rewrites the port too when the replacement names one, so
// http://a.example/, https://b.example/ and http://c.example:8888/ all
// arrive on the one port (seen with Chromium 156). The rules apply to IP
// literals and localhost as well: the EXCLUDEs keep the test's own servers
// (Caddy, the origin, the demo: all on 127.0.0.1 or localhost) reachable.
// A page's loads of 127.0.0.1 itself, in any spelling (bypass-url-ipv4's
// controls), are then not recorded: they are no third party.
func recorderRule(addr string) string {
	return "MAP * " + addr + ", EXCLUDE localhost, EXCLUDE 127.0.0.1"
}

// tlsRecordHandshake is the first byte of a TLS connection: the content type
// of the record that carries the ClientHello (RFC 8446 section 5.1). A plain
// HTTP request starts with a method name, an ASCII letter.
const tlsRecordHandshake = 0x16

// serve records the host of one connection, TLS or plain HTTP by its first
// byte.
func serve(c net.Conn, log *hostLog) {
	r := bufio.NewReader(c)
	first, err := r.Peek(1)
	if err != nil {
		return // closed before a byte: a preconnect given up
	}
	if first[0] == tlsRecordHandshake {
		serveTLS(&peekedConn{Conn: c, r: r}, log)
		return
	}
	serveHTTP(c, r, log)
}

// peekedConn is a connection whose first bytes sit in r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// serveTLS reads the ClientHello, records its server name and fails the
// handshake (crypto/tls sends an alert): the browser sees a TLS error, as for
// an unreachable tracker.
func serveTLS(c net.Conn, log *hostLog) {
	tls.Server(c, &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			name := hello.ServerName
			if name == "" {
				name = "(no sni)"
			}
			log.record(name, "tls")
			return nil, errRecorded
		},
	}).Handshake()
}

// serveHTTP reads one plain request, records its Host and answers 204: the
// cheapest answer every loader takes as an empty resource or a failure.
// Connection: close makes the next request open a new connection.
func serveHTTP(c net.Conn, r *bufio.Reader, log *hostLog) {
	req, err := http.ReadRequest(r)
	if err != nil {
		return // not a request
	}
	log.record(req.Host, "http")
	io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
}

// barrierIP is the source address of the recorder's marker connections: the browser reaches 127.0.0.1 from 127.0.0.1, so a connection
// from another loopback address is a marker, never the browser.
var barrierIP = net.IPv4(127, 0, 0, 2)

// recorder listens on one loopback port the kernel picks.
type recorder struct {
	ln  net.Listener
	log hostLog

	mu     sync.Mutex
	cond   *sync.Cond
	seq    int64          // connections accepted so far
	open   map[int64]bool // accepted connections whose handler runs
	marker chan int64     // set while take waits for its marker connection
	closed bool
}

func startRecorder() (*recorder, error) {
	r := &recorder{open: map[int64]bool{}}
	r.cond = sync.NewCond(&r.mu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("host recorder: %w", err)
	}
	r.ln = ln
	go r.accept()
	return r, nil
}

// addr is the recorder's address, "127.0.0.1:port".
func (r *recorder) addr() string { return r.ln.Addr().String() }

func (r *recorder) close() {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	r.ln.Close()
}

func (r *recorder) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		r.mu.Lock()
		r.seq++
		seq := r.seq
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && a.IP.Equal(barrierIP) {
			if r.marker != nil {
				r.marker <- seq // buffered
				r.marker = nil
			}
			r.mu.Unlock()
			c.Close()
			continue
		}
		r.open[seq] = true
		r.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				r.mu.Lock()
				delete(r.open, seq)
				r.cond.Broadcast()
				r.mu.Unlock()
			}()
			c.SetDeadline(time.Now().Add(connDeadline))
			serve(c, &r.log)
		}()
	}
}

// take waits until every connection made to the recorder so far has been
// read (its host recorded) or closed, then returns the hosts recorded since
// the last take and forgets them. The caller makes sure the browser opens no
// connection for what it measures any more (its context is gone): anything
// opened after the marker below belongs to the next take.
func (r *recorder) take() (map[string]string, error) {
	marker := make(chan int64, 1)
	r.mu.Lock()
	r.marker = marker
	r.mu.Unlock()
	// The marker connection is accepted after every connection queued
	// before it on the listening socket (the accept queue is FIFO).
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: barrierIP}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", r.addr())
	if err != nil {
		return nil, fmt.Errorf("host recorder barrier: %w", err)
	}
	var last int64
	select {
	case last = <-marker:
	case <-time.After(connDeadline):
		c.Close()
		return nil, errors.New("host recorder barrier: marker never accepted")
	}
	c.Close()
	r.mu.Lock()
	for {
		busy := false
		for seq := range r.open {
			if seq < last {
				busy = true
				break
			}
		}
		if !busy || r.closed {
			break
		}
		r.cond.Wait()
	}
	r.mu.Unlock()
	return r.log.take(), nil
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
