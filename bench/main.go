// Command bench measures what consent costs next to Caddy's own proxying,
// side by side in one Caddy process in front of one origin, and prints a
// table of ratios (docs/performance.md, "At a glance"):
//
//	go run ./bench                 # about 15 minutes on 2 cores
//	go run ./bench -rounds 3 -duration 3s -quick
//	go run ./bench -only slowclients -heapprofiles /tmp
//
// It builds Caddy with consentedge's modules (bench/caddy, which adds a
// floor handler for comparison) and generates the pages: a 5 KB and a
// 0.5 MiB page with trackers spread through them, and, when the folder
// CONSENTEDGE_CORPUS names holds it, a real page (the WHATWG parsing
// chapter with a tracker block every 32 KiB; docs/performance.md). It starts an origin (file_server) in a
// process of its own and one Caddy with a plain proxy, a consent proxy, a
// floor proxy and the three behind `encode gzip`, and drives them with wrk
// (Debian package wrk) in interleaved rounds. The figures are medians;
// ratios measured in rounds also give their range round by round (the
// noise of one comparison). A visitor without consent makes the filter do
// its most work. Also measured: the proxy process's CPU time per response,
// with and without gzip; time to first byte; heap and resident memory per
// in-flight response with 1,000 clients reading a 2 MiB page at 10 KiB/s
// (fresh processes, plain and consent in turn, three times; alone with
// -only slowclients, about two minutes); and RSS after 10,000 and 100,000
// requests.
//
// The consent proxy has its page cache (pagecache.Cache), which the
// bench's unchanging pages hit from their third request on; a fourth
// proxy, consent with page_cache off, shows what a page that changes
// every time costs (the filter's full scan).
//
// The floor (bench/caddy) is the least any HTML filter must do: it finds
// every '<' of the body and passes the body on unchanged, Content-Length and
// all. Its column shows how much of a target is left to any filter at all
// on the machine the bench runs on.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	rounds   = flag.Int("rounds", 5, "interleaved rounds per comparison")
	duration = flag.Duration("duration", 5*time.Second, "length of one wrk run")
	conns    = flag.Int("connections", 16, "wrk connections")
	quick    = flag.Bool("quick", false, "skip the memory growth run (100,000 requests)")
	pagesTo  = flag.String("pages", "", "only write the generated pages to this directory (for profiling by hand)")
	only     = flag.String("only", "", `run one case alone: "slowclients" (memory per in-flight response, about two minutes)`)
	// heapProfiles: the slow-clients case saves the proxy's heap profile
	// of the moment all its clients are in flight, for go tool pprof.
	heapProfiles = flag.String("heapprofiles", "", "save the slow-clients case's heap profiles (in flight) to this directory; the proxy then samples an allocation every 256 bytes (its RSS includes the profiler's records)")
)

const (
	portOrigin  = 18081
	portPlain   = 18082
	portConsent = 18083
	portGzip    = 18084
	portGzipCon = 18085
	portMemory  = 18086
	portFloor   = 18087
	portGzipFlr = 18088
	portCold    = 18089
	portGzipCld = 18090
	portAdmin   = 18091 // the slow-clients case's proxy: /debug/vars, /debug/pprof
)

func main() {
	flag.Parse()
	if *pagesTo != "" {
		if err := writePages(*pagesTo); err != nil {
			fatal("%v", err)
		}
		return
	}
	if *only != "" && *only != "slowclients" {
		fatal("-only %q: the one case that runs alone is slowclients", *only)
	}
	if _, err := exec.LookPath("wrk"); err != nil && *only == "" {
		fatal("wrk not found: apt-get install wrk")
	}
	dir, err := os.MkdirTemp("", "consentedge-bench")
	if err != nil {
		fatal("%v", err)
	}
	defer os.RemoveAll(dir)
	defer func() {
		for _, p := range procs {
			stop(p)
		}
	}()

	fmt.Println("building bench/caddy (cmd/consentedge's modules and the floor) ...")
	bin := filepath.Join(dir, "consentedge")
	build := exec.Command("go", "build", "-o", bin, "./bench/caddy")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fatal("build: %v", err)
	}
	site := filepath.Join(dir, "site")
	if err := writePages(site); err != nil {
		fatal("%v", err)
	}
	start(bin, dir, "origin", fmt.Sprintf(originConfig, portOrigin, site))
	if *only == "slowclients" {
		fmt.Printf("%s; %d runs of each proxy, %d clients\n\n", machine(), slowRuns, slowClients)
		printTable(slowClientRows(bin, dir))
		return
	}
	pid := start(bin, dir, "proxy", fmt.Sprintf(proxyConfig, portPlain, portOrigin, portConsent, portOrigin,
		portFloor, portOrigin, portGzip, portOrigin, portGzipCon, portOrigin, portGzipFlr, portOrigin,
		portCold, portOrigin, portGzipCld, portOrigin)).Process.Pid
	fmt.Printf("%s; proxy pid %d; %d rounds of %v, %d connections\n\n", machine(), pid, *rounds, *duration, *conns)

	pages := []string{"small.html", "large.html"}
	if _, err := os.Stat(filepath.Join(site, "real.html")); err == nil {
		pages = append(pages, "real.html")
	}
	var rows [][]string
	// row adds a measure of the plain, consent and floor proxies (their
	// samples, in that order): the medians, and the ratios of consent's and
	// the floor's medians to plain's. Samples taken in rounds (perRound)
	// also give the range of the ratios round by round: how far one
	// round's comparison can be trusted on this machine.
	row := func(name string, samples [][]float64, perRound bool, target string) {
		m := medians(samples)
		cell := func(i int) string {
			r := ratio(m[i], m[0])
			if perRound {
				lo, hi := pairedRange(samples[i], samples[0])
				r += fmt.Sprintf(" (%.2f–%.2f)", lo, hi)
			}
			return r
		}
		rows = append(rows, []string{name, f0(m[0]), f0(m[1]), cell(1), cell(2), cell(3), target})
	}
	proxies := []int{portPlain, portConsent, portFloor, portCold}
	gzipped := []int{portGzip, portGzipCon, portGzipFlr, portGzipCld}
	for _, page := range pages {
		row("throughput "+page+" (req/s)", interleave(proxies, page, nil), true, ">= 0.90")
	}
	for _, page := range pages {
		row("proxy CPU per response, "+page+" (µs)", cpuPerResponse(pid, proxies, page, nil), true, "")
	}
	gz := []string{"Accept-Encoding: gzip"}
	for _, page := range pages[1:] {
		row("proxy CPU per response, encode gzip, "+page+" (µs)", cpuPerResponse(pid, gzipped, page, gz), true, "<= 1.10")
	}
	for _, page := range pages {
		row("time to first byte "+page+" (µs)", ttfb(proxies, page, nil), false, "~ 1.00")
		row("time to first byte, gzip, "+page+" (µs)", ttfb(gzipped, page, gz), false, "~ 1.00")
	}
	// Memory moves with the garbage collector's pacing: fresh processes,
	// interleaved, medians.
	rows = append(rows, slowClientRows(bin, dir)...)
	if !*quick {
		r10, r100 := rssGrowth(pid, portConsent)
		rows = append(rows, []string{"RSS after 10,000 / 100,000 consent requests (MiB)", f1(r10), f1(r100), ratio(r100, r10), "", "", "no growth"})
	}
	printTable(rows)
}

var procs []*exec.Cmd

// start runs a Caddy process on config, with env added to its
// environment, and waits for its ports.
func start(bin, dir, name, config string, env ...string) *exec.Cmd {
	path := filepath.Join(dir, name+".caddyfile")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		fatal("%v", err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Stderr = io.Discard
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		fatal("start %s: %v", name, err)
	}
	procs = append(procs, cmd)
	for _, m := range regexp.MustCompile(`(?m)^:(\d+) \{`).FindAllStringSubmatch(config, -1) {
		p, _ := strconv.Atoi(m[1])
		waitPort(p)
	}
	return cmd
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// machine names what the figures come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			model = string(m[1])
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s, %s", model, runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format("2006-01-02"))
}

const globalOptions = `{
	admin off
	auto_https off
	persist_config off
}
`

// The origin runs in a process of its own, so that the proxy process's CPU
// time and memory are the proxies' alone.
const originConfig = globalOptions + `:%d {
	bind 127.0.0.1
	root * %s
	file_server
}
`

const proxyConfig = globalOptions + `:%d {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	consent
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	bench_floor
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	encode gzip
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	encode gzip
	consent
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	encode gzip
	bench_floor
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	consent {
		page_cache off
	}
	reverse_proxy 127.0.0.1:%d
}
:%d {
	bind 127.0.0.1
	encode gzip
	consent {
		page_cache off
	}
	reverse_proxy 127.0.0.1:%d
}
`

// writePages writes a 5 KB page and a 0.5 MiB page with trackers spread
// through them, and a 2 MiB one for the slow clients.
func writePages(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	head := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="stylesheet" href="/css/site.css">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ABC123"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-ABC123');</script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments):n.queue.push(arguments)};t=b.createElement(e);t.async=!0;t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window,document,'script','https://connect.facebook.net/en_US/fbevents.js');fbq('init','1234');fbq('track','PageView');</script>
</head><body>
<header class="site-header"><nav class="main-nav"><ul class="menu"><li class="menu-item"><a href="/">Home</a></li><li class="menu-item"><a href="/shop/">Shop</a></li><li class="menu-item"><a href="/about/">About</a></li></ul></nav></header>
`
	card := `<article class="product-card" data-id="%d"><a class="product-link" href="/p/%d/"><img class="product-image" src="/img/p%d.jpg" srcset="/img/p%d@2x.jpg 2x" alt="Product %d" width="320" height="240" loading="lazy"></a>
<h2 class="product-title"><a href="/p/%d/">Product %d, a good thing to have</a></h2><p class="product-text">A short description of product %d, with <em>emphasis</em> and a <a href="/c/%d/">category link</a>.</p>
<button class="add-to-cart" type="button" data-sku="SKU-%d">Add to cart</button></article>
`
	tracker := `<img src="https://www.facebook.com/tr?id=1234&amp;ev=ViewContent" width="1" height="1" alt="" style="display:none">
<iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX" height="0" width="0" style="display:none;visibility:hidden"></iframe>
`
	tail := `<footer class="site-footer"><p>&copy; Shop</p><script src="https://js.stripe.com/v3/"></script><script src="/js/app.js"></script></footer></body></html>
`
	build := func(size int) []byte {
		var b bytes.Buffer
		b.WriteString(head)
		for i := 0; b.Len() < size-len(tail); i++ {
			fmt.Fprintf(&b, card, i, i, i, i, i, i, i, i, i%20, i)
			if i%40 == 39 {
				b.WriteString(tracker)
			}
		}
		b.WriteString(tail)
		return b.Bytes()
	}
	for name, size := range map[string]int{"small.html": 5 << 10, "large.html": 512 << 10, slowPage: 2 << 20} {
		if err := os.WriteFile(filepath.Join(dir, name), build(size), 0o644); err != nil {
			return err
		}
	}
	// A real page too, when the corpus is there: the WHATWG parsing
	// chapter, a tracker block after the head and before a paragraph every
	// 32 KiB. The generated pages are denser in loading tags than it.
	real, err := os.ReadFile(filepath.Join(os.Getenv("CONSENTEDGE_CORPUS"), "html-parsing-spec.html"))
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	last := 0
	for i := 0; ; {
		j := bytes.Index(real[i:], []byte("<p>"))
		if j < 0 {
			break
		}
		j += i
		i = j + 1
		if j == 0 || real[j-1] != ' ' && real[j-1] != '\n' {
			continue // only a paragraph that starts a line: never inside a script or a value
		}
		if last == 0 || j-last >= 32<<10 {
			b.Write(real[last:j])
			b.WriteString(tracker)
			last = j
		}
	}
	b.Write(real[last:])
	return os.WriteFile(filepath.Join(dir, "real.html"), b.Bytes(), 0o644)
}

func waitPort(p int) {
	for i := 0; i < 300; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	fatal("port %d did not open", p)
}

var reqsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
var countRe = regexp.MustCompile(`(\d+) requests in`)

// wrk runs one load and returns requests per second and the requests done.
func wrk(port int, page string, headers []string, d time.Duration) (float64, int) {
	args := []string{"-t1", fmt.Sprintf("-c%d", *conns), fmt.Sprintf("-d%s", d)}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, fmt.Sprintf("http://127.0.0.1:%d/%s", port, page))
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		fatal("wrk: %v\n%s", err, out)
	}
	m := reqsRe.FindSubmatch(out)
	n := countRe.FindSubmatch(out)
	if m == nil || n == nil {
		fatal("wrk output: %s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	cnt, _ := strconv.Atoi(string(n[1]))
	return rps, cnt
}

// inRounds takes n samples of measure on each of ports, the ports in turn
// round after round, and returns them by port.
func inRounds(ports []int, n int, measure func(port int) float64) [][]float64 {
	samples := make([][]float64, len(ports))
	for range n {
		for i, p := range ports {
			samples[i] = append(samples[i], measure(p))
		}
	}
	return samples
}

// interleave runs the proxies on ports in turn, round after round, and
// returns their rates, by round.
func interleave(ports []int, page string, headers []string) [][]float64 {
	for _, p := range ports {
		wrk(p, page, headers, time.Second) // warm up
	}
	return inRounds(ports, *rounds, func(port int) float64 {
		r, _ := wrk(port, page, headers, *duration)
		return r
	})
}

// cpuPerResponse measures the Caddy process's CPU time per response of the
// proxies on ports (utime+stime from /proc), in turn, by round, in µs.
func cpuPerResponse(pid int, ports []int, page string, headers []string) [][]float64 {
	run := func(port int) float64 {
		before := cpuTicks(pid)
		_, n := wrk(port, page, headers, *duration)
		after := cpuTicks(pid)
		return float64(after-before) * 1e6 / 100 / float64(n) // 100 ticks per second
	}
	for _, p := range ports {
		run(p) // warm up
	}
	return inRounds(ports, *rounds, run)
}

func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fatal("%v", err)
	}
	// Fields after the command name in parentheses: utime is 14th, stime 15th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// ttfb is the time to the first response byte of sequential requests to
// the proxies on ports, in turn.
func ttfb(ports []int, page string, headers []string) [][]float64 {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	one := func(port int) float64 {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/%s", port, page), nil)
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Set(k, strings.TrimSpace(v))
		}
		var start, first time.Time
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotFirstResponseByte: func() { first = time.Now() },
		}))
		start = time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fatal("%v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return float64(first.Sub(start).Microseconds())
	}
	return inRounds(ports, 200*(*rounds), one)
}

// rssGrowth runs 100,000 consent requests of the small page and returns RSS
// after the first 10,000 and at the end, in MiB.
func rssGrowth(pid, port int) (float64, float64) {
	done := 0
	var at10k int64
	for done < 100000 {
		_, n := wrk(port, "small.html", nil, 2*time.Second)
		done += n
		if at10k == 0 && done >= 10000 {
			at10k = rssKiB(pid)
		}
	}
	return float64(at10k) / 1024, float64(rssKiB(pid)) / 1024
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fatal("%v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func medians(xss [][]float64) []float64 {
	m := make([]float64, len(xss))
	for i, xs := range xss {
		m[i] = median(xs)
	}
	return m
}

// pairedRange is the range of a[i]/b[i].
func pairedRange(a, b []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range min(len(a), len(b)) {
		r := a[i] / b[i]
		lo, hi = min(lo, r), max(hi, r)
	}
	return lo, hi
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func f0(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

func printTable(rows [][]string) {
	head := []string{"measure", "without consent", "with consent", "ratio (by round)", "floor ratio (by round)", "no page cache ratio (by round)", "target"}
	w := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(&b, " %-*s |", w[i], c)
		}
		fmt.Println(b.String())
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	for _, p := range procs {
		p.Process.Kill()
	}
	os.Exit(1)
}
