package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The slow-clients case measures what an in-flight response holds in the
// proxy while its client reads slowly, as an operator would see it: 1,000
// clients each fetch a 2 MiB page with trackers and read it at 10 KiB/s
// (1 KiB every 100 ms; a 4 KiB socket receive buffer and an internet-sized
// segment, so that the kernel does not take the page off the proxy's
// hands). The proxy's Go heap (from
// the admin endpoint's /debug/vars) and its RSS are read while all 1,000
// are in flight; the idle figures before them are subtracted and the rest
// divided by 1,000. Fresh processes, plain and consent in turn.
const (
	slowClients = 1000
	slowPage    = "2mib.html"
	slowSlice   = 1 << 10
	slowTick    = 100 * time.Millisecond
	slowRcvBuf  = 4096
	slowMSS     = 1460 // Ethernet's 1500-byte MTU (RFC 894) less IP and TCP headers (RFC 879)
	slowSamples = 5    // one a second, while all are in flight
)

// slowRuns is the runs of each proxy, interleaved (one with -quick).
var slowRuns = 3

// slowConfig is one proxy alone, plain or with consent, with the admin
// endpoint on (its /debug/vars and /debug/pprof/heap).
const slowConfig = `{
	admin localhost:%d
	auto_https off
	persist_config off
}
:%d {
	bind 127.0.0.1
	%s
	reverse_proxy 127.0.0.1:%d
}
`

// inFlight is memory per in-flight response, in KiB.
type inFlight struct {
	heapInuse float64 // HeapInuse: what the process's heap spans hold, as metrics show it
	heapLive  float64 // HeapAlloc right after a GC: the live heap
	stacks    float64 // StackInuse: goroutine stacks
	rss       float64 // VmRSS
}

// slowClientRows runs the slow-clients case and returns its table rows.
func slowClientRows(bin, dir string) [][]string {
	raiseOpenFiles(2*slowClients + 512) // the proxy holds a client and an upstream connection each
	var plain, consent []inFlight
	for range slowRuns {
		plain = append(plain, memoryPerSlowClient(bin, dir, ""))
		consent = append(consent, memoryPerSlowClient(bin, dir, "consent"))
	}
	var rows [][]string
	const what = " per in-flight 2 MiB response, 1,000 clients at 10 KiB/s (KiB)"
	measures := []struct {
		name  string
		get   func(inFlight) float64
		extra bool // also a row of what consent adds, with the target
	}{
		{"heap in use (HeapInuse)", func(m inFlight) float64 { return m.heapInuse }, false},
		{"live heap after a GC (HeapAlloc)", func(m inFlight) float64 { return m.heapLive }, true},
		{"goroutine stacks (StackInuse)", func(m inFlight) float64 { return m.stacks }, false},
		{"RSS", func(m inFlight) float64 { return m.rss }, true},
	}
	for _, m := range measures {
		p, c := pick(plain, m.get), pick(consent, m.get)
		lo, hi := pairedRange(c, p)
		rows = append(rows, []string{m.name + what, f1(median(p)), f1(median(c)),
			fmt.Sprintf("%s (%.2f–%.2f)", ratio(median(c), median(p)), lo, hi), "", "", ""})
	}
	for _, m := range measures {
		if !m.extra {
			continue
		}
		p, c := pick(plain, m.get), pick(consent, m.get)
		lo, hi := diffRange(c, p)
		rows = append(rows, []string{"extra " + m.name + " per in-flight response with consent (KiB)", "",
			fmt.Sprintf("%+.1f (%+.1f to %+.1f)", median(c)-median(p), lo, hi), "", "", "", "< +64"})
	}
	return rows
}

func pick(ms []inFlight, get func(inFlight) float64) []float64 {
	xs := make([]float64, len(ms))
	for i, m := range ms {
		xs[i] = get(m)
	}
	return xs
}

// diffRange is the range of a[i]−b[i].
func diffRange(a, b []float64) (lo, hi float64) {
	lo, hi = a[0]-b[0], a[0]-b[0]
	for i := range min(len(a), len(b)) {
		lo, hi = min(lo, a[i]-b[i]), max(hi, a[i]-b[i])
	}
	return lo, hi
}

// raiseOpenFiles makes sure this process and the proxy it starts may open
// n files: the proxy, a Go program, raises its soft limit to the hard one
// by itself (package os does since Go 1.19), so the hard limit must allow n.
func raiseOpenFiles(n uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		fatal("open files limit: %v", err)
	}
	if l.Max < n {
		fatal("the open files limit is %d, the slow-clients case needs %d: raise the hard limit (ulimit -Hn %d)", l.Max, n, n)
	}
	if l.Cur < n {
		l.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			fatal("raising the open files limit to %d: %v", n, err)
		}
	}
}

// memoryPerSlowClient starts a fresh proxy process (plain, or with the
// given directive), warms it up, and measures it idle and with all the slow
// clients in flight.
func memoryPerSlowClient(bin, dir, directive string) inFlight {
	name := cmp.Or(directive, "plain")
	var env []string
	if *heapProfiles != "" {
		// The default rate (one sample per 512 KiB) leaves a thousand
		// buffers of 4 to 32 KiB to chance; this one counts them.
		env = append(env, "GODEBUG=memprofilerate=256")
	}
	cmd := start(bin, dir, "slow-"+name, fmt.Sprintf(slowConfig, portAdmin, portMemory, directive, portOrigin), env...)
	defer stop(cmd)
	pid := cmd.Process.Pid
	warmUp(portMemory, directive != "")
	// Let the warm-up's garbage go and the pacer settle, as an idle
	// server's would.
	time.Sleep(2 * time.Second)
	idle := sampleMemory(pid)
	idle.heapLive = liveHeap("")

	clients := startSlowClients(portMemory)
	defer clients.stop()
	clients.waitInFlight(60 * time.Second)
	// The pipes fill: the upstream's socket, the proxy's buffers, the
	// client's socket. Then the proxy holds what it holds per response.
	time.Sleep(3 * time.Second)
	var samples []inFlight
	for range slowSamples {
		samples = append(samples, sampleMemory(pid))
		time.Sleep(time.Second)
	}
	var profile string
	if *heapProfiles != "" {
		profile = filepath.Join(*heapProfiles, "slowclients-"+name+".pb.gz")
	}
	live := liveHeap(profile)
	clients.checkInFlight()
	if n := proxying(); n < slowClients {
		fatal("slow clients: the proxy holds %d of %d responses: the kernel took the rest off its hands", n, slowClients)
	}

	perClient := func(x, base float64) float64 { return (x - base) / slowClients }
	m := inFlight{
		heapInuse: perClient(median(pick(samples, func(m inFlight) float64 { return m.heapInuse })), idle.heapInuse),
		stacks:    perClient(median(pick(samples, func(m inFlight) float64 { return m.stacks })), idle.stacks),
		rss:       perClient(median(pick(samples, func(m inFlight) float64 { return m.rss })), idle.rss),
		heapLive:  perClient(live, idle.heapLive),
	}
	fmt.Printf("slow clients, %-7s per in-flight response: heap in use %5.1f KiB, live heap %5.1f KiB, stacks %5.1f KiB, RSS %5.1f KiB\n",
		name+":", m.heapInuse, m.heapLive, m.stacks, m.rss)
	return m
}

// warmUp makes the requests that allocate what later ones reuse (pools,
// the rules, the transport's connections), and checks that the consent
// proxy filters the page and the plain one does not.
func warmUp(port int, filtered bool) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	get := func(page string) []byte {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/%s", port, page))
		if err != nil {
			fatal("warm-up: %v", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			fatal("warm-up: %s: status %d, %v", page, resp.StatusCode, err)
		}
		return b
	}
	for range 200 {
		get(smallPage)
	}
	for range 8 {
		b := get(slowPage)
		if tracked := bytes.Contains(b, []byte("facebook.com/tr")); tracked == filtered {
			fatal("warm-up: %s: trackers there %v through a proxy that filters %v", slowPage, tracked, filtered)
		}
	}
}

// sampleMemory reads the proxy's memory as it is, in KiB (heapLive unset).
func sampleMemory(pid int) inFlight {
	ms := memStats()
	return inFlight{
		heapInuse: float64(ms.HeapInuse) / 1024,
		stacks:    float64(ms.StackInuse) / 1024,
		rss:       float64(rssKiB(pid)),
	}
}

type memoryStats struct{ HeapInuse, HeapAlloc, StackInuse uint64 }

// memStats reads the runtime's memory statistics from the admin endpoint
// (expvar's "memstats", runtime.MemStats).
func memStats() memoryStats {
	var v struct{ Memstats memoryStats }
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/debug/vars", portAdmin))
	if err != nil {
		fatal("debug/vars: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		fatal("debug/vars: %v", err)
	}
	return v.Memstats
}

// liveHeap has the proxy collect its garbage (net/http/pprof's heap
// profile with gc=1 runs a GC first) and returns the heap then, in KiB;
// the profile is saved to path unless it is "".
func liveHeap(path string) float64 {
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/debug/pprof/heap?gc=1", portAdmin))
	if err != nil {
		fatal("heap profile: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		fatal("heap profile: status %d, %v", resp.StatusCode, err)
	}
	if path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fatal("%v", err)
		}
	}
	return float64(memStats().HeapAlloc) / 1024
}

// proxying counts the proxy's goroutines that are proxying a response,
// from the admin endpoint's goroutine profile: a response the proxy
// wrote whole into its socket's send buffer is in flight for the client,
// no longer for the proxy.
func proxying() int {
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/debug/pprof/goroutine?debug=1", portAdmin))
	if err != nil {
		fatal("goroutine profile: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fatal("goroutine profile: %v", err)
	}
	// Stacks are blocks: "N @ pc...", then a "#\tpc\tfunction\tfile" line
	// per frame, then an empty line.
	n := 0
	for block := range bytes.SplitSeq(b, []byte("\n\n")) {
		var count int
		if _, err := fmt.Sscanf(string(block), "%d @", &count); err != nil {
			continue
		}
		if bytes.Contains(block, []byte("reverseproxy.(*Handler).reverseProxy+")) {
			n += count
		}
	}
	return n
}

// slowClientSet is the clients of one run.
type slowClientSet struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	stopping atomic.Bool
	started  atomic.Int32 // clients that received the status line of a 200
	ended    atomic.Int32 // clients whose response ended or failed before the stop
	firstErr atomic.Value // the first ending's error
}

// end counts a response that ended before the stop.
func (s *slowClientSet) end(err error) {
	s.ended.Add(1)
	s.firstErr.CompareAndSwap(nil, fmt.Sprint(cmp.Or(err, io.EOF)))
}

// startSlowClients connects the clients and has each request the page and
// read it slowly until stop.
func startSlowClients(port int) *slowClientSet {
	s := &slowClientSet{}
	// Both are set before connecting: the receive buffer, so that the
	// window the client offers is small from the handshake on; the
	// segment size, so that the proxy sends as to a client across the
	// internet. Loopback's 64 KiB segments would let Linux grow the
	// proxy's send buffer to megabytes (tcp_sndbuf_expand sizes it in
	// segments), and the kernel would take whole pages off the proxy.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, slowRcvBuf)
			if serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, slowMSS)
			}
		})
		return cmp.Or(err, serr)
	}}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for range slowClients {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c, err := d.Dial("tcp", addr)
			if err != nil {
				s.end(err)
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.read(c)
		}()
	}
	return s
}

// read sends the request and reads the response a slice at a time.
func (s *slowClientSet) read(c net.Conn) {
	if _, err := fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", slowPage); err != nil {
		s.end(err)
		return
	}
	tick := time.NewTicker(slowTick)
	defer tick.Stop()
	buf := make([]byte, slowSlice)
	var head []byte
	for first := true; ; {
		n, err := c.Read(buf)
		if first && n > 0 {
			head = append(head, buf[:n]...)
			if len(head) >= len("HTTP/1.1 200") {
				first = false
				if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
					s.end(fmt.Errorf("response %q", head[:len("HTTP/1.1 200")]))
					return
				}
				s.started.Add(1)
			}
		}
		if err != nil {
			if !s.stopping.Load() {
				s.end(err)
			}
			return
		}
		<-tick.C
	}
}

// waitInFlight waits until every client has its response's status line.
func (s *slowClientSet) waitInFlight(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for s.started.Load() < slowClients {
		if s.ended.Load() > 0 || time.Now().After(deadline) {
			fatal("slow clients: %d of %d in flight, %d ended (%v) after %v", s.started.Load(), slowClients, s.ended.Load(), s.firstErr.Load(), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkInFlight fails the run if any response ended before the
// measurement was done: the figures would not be per in-flight response.
func (s *slowClientSet) checkInFlight() {
	if n := s.ended.Load(); n > 0 {
		fatal("slow clients: %d of %d responses ended while measured (%v)", n, slowClients, s.firstErr.Load())
	}
}

// stop closes the clients' connections and waits for them.
func (s *slowClientSet) stop() {
	s.stopping.Store(true)
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
