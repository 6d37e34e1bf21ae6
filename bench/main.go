// Command bench measures what consent costs next to Caddy's own proxying,
// side by side in one Caddy process, and prints a table of ratios
// (docs/performance.md, "At a glance"):
//
//	go run ./bench                 # about 24 minutes on 2 cores
//	go run ./bench -quick          # about 5 minutes
//	go run ./bench -only profiles -cpuprofile /tmp/prof -profilerounds 4
//	go run ./bench -only slowclients -heapprofiles /tmp
//	go run ./bench -only compare -against main   # a change, before and after
//
// Run it from the repository: it builds Caddy with consentedge's modules
// (bench/caddy, which adds a floor handler for comparison) and generates
// its pages (pages.go): a 5 KB and a 0.5 MiB tag-dense shop page, and a
// 120 KB marketing home page whose head carries the vendors' tags as they
// publish them (rules/testdata/vendors). Every page is served by two
// origins: a static one (file_server, a process of its own), from which
// each page repeats byte for byte, and a dynamic one (dynamic.go, in this
// process), which renders a fresh CSRF token, CSP nonce and cart count
// into every response, as most real pages are. In front of each, one
// Caddy process runs four proxies: plain, consent as shipped, the floor,
// and consent with `page_cache off`; and the four behind `encode gzip`.
//
// wrk (Debian package wrk) drives them in interleaved rounds. The figures
// are medians; ratios measured in rounds also give their range round by
// round (the noise of one comparison). A visitor without consent makes the
// filter do its most work. Measured: throughput and the proxy process's
// CPU time per response (from the same runs), with and without gzip; time
// to first byte; heap and resident memory per in-flight response with
// 1,000 clients reading a 2 MiB page at 10 KiB/s (fresh processes, plain
// and consent in turn; alone with -only slowclients, about two minutes);
// and RSS after 10,000 and 100,000 requests. -cpuprofile saves the
// proxies' CPU and allocation profiles under load from the dynamic origin
// (profiles.go).
//
// The consent proxy has its page cache (pagecache.Cache): the static
// origin's pages hit it from their third request on; the dynamic origin's
// never do, and show what a page that changes every time costs with the
// cache on.
//
// The floor (bench/caddy) is the least any HTML filter must do: it finds
// every '<' of the body and passes the body on unchanged, Content-Length and
// all. Its column shows how much of a target is left to any filter at all
// on the machine the bench runs on.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	rounds   = flag.Int("rounds", 5, "interleaved rounds per comparison (2 with -quick)")
	duration = flag.Duration("duration", 5*time.Second, "length of one wrk run (2s with -quick)")
	conns    = flag.Int("connections", 16, "wrk connections")
	quick    = flag.Bool("quick", false, "a shorter run: 2 rounds of 2s unless -rounds or -duration say otherwise, one slow-clients run of each proxy, no memory growth run")
	pagesTo  = flag.String("pages", "", "only write the pages as the static origin serves them to this directory (for profiling by hand)")
	only     = flag.String("only", "", `run one case alone: "slowclients" (memory per in-flight response, about two minutes), "profiles" (with -cpuprofile), "serve" (the origins and proxies, until interrupted, for another load generator), or "compare" (with -against)`)
	against  = flag.String("against", "", "with -only compare: the git revision whose consent proxies are measured beside this checkout's, in the same rounds (compare.go)")
	// heapProfiles: the slow-clients case saves the proxy's heap profile
	// of the moment all its clients are in flight, for go tool pprof.
	heapProfiles  = flag.String("heapprofiles", "", "save the slow-clients case's heap profiles (in flight) to this directory; the proxy then samples an allocation every 256 bytes (its RSS includes the profiler's records)")
	profileDir    = flag.String("cpuprofile", "", "save CPU and allocation profiles of the plain and consent proxies under load from the dynamic origin, each page, to this directory (before the table)")
	profileTime   = flag.Duration("profiletime", 10*time.Second, "length of each -cpuprofile profile")
	profileRounds = flag.Int("profilerounds", 1, "-cpuprofile profiles of each proxy and page, taken in turn (plain, consent, consent, plain, ...)")
	profileGzip   = flag.Bool("profilegzip", false, "-cpuprofile profiles the proxies behind encode gzip")
	profilePages  = flag.String("profilepages", "", `-cpuprofile profiles these pages only, comma-separated ("small.html")`)
	breakdownDir  = flag.String("breakdown", "", "only print where the CPU time per response goes in the -cpuprofile profiles of this directory (go tool pprof -traces), and exit")
)

func main() {
	started := time.Now()
	flag.Parse()
	applyQuick()
	if *breakdownDir != "" {
		if err := printBreakdown(*breakdownDir); err != nil {
			fatal("%v", err)
		}
		return
	}
	root, pages := loadPages()
	if *pagesTo != "" {
		if err := writePages(*pagesTo, pages); err != nil {
			fatal("%v", err)
		}
		return
	}
	checkFlags()
	dir, err := os.MkdirTemp("", "consentedge-bench")
	if err != nil {
		fatal("%v", err)
	}
	defer os.RemoveAll(dir)
	defer stopAll()

	bin := buildCaddy(root, dir)
	startOrigins(bin, dir, pages)
	if *only == "slowclients" {
		fmt.Printf("%s; %d runs of each proxy, %d clients\n\n", machine(), slowRuns, slowClients)
		t := table{rows: slowClientRows(bin, dir)}
		t.print(started)
		return
	}
	pid := start(bin, dir, "proxy", proxyConfig()).Process.Pid
	fmt.Printf("%s; proxy pid %d; %d rounds of %v, %d connections\n\n", machine(), pid, *rounds, *duration, *conns)
	if *profileDir != "" {
		saveProfiles(pid, *profileDir)
	}
	if *only == "profiles" {
		return
	}
	if *only == "serve" {
		serve()
		return
	}
	if *only == "compare" {
		compare(root, dir, pid)
		return
	}
	var t table
	t.measureLoad(pid)
	t.measureFirstByte()
	// Memory moves with the garbage collector's pacing: fresh processes,
	// interleaved, medians.
	t.rows = append(t.rows, slowClientRows(bin, dir)...)
	if !*quick {
		r10, r100 := rssGrowth(pid, proxyPort(originStatic, false, kindConsent))
		t.rows = append(t.rows, []string{"RSS after 10,000 / 100,000 consent requests (MiB)", f1(r10), f1(r100), ratio(r100, r10), "", "", "no growth"})
	}
	t.print(started)
}

// serve keeps the origins and the proxies up until the bench is
// interrupted, for a load generator other than wrk: the proxies speak
// HTTP/2 without TLS too (h2load -c16 -m1 http://127.0.0.1:PORT/PAGE).
func serve() {
	fmt.Printf("serving until interrupted; dynamic origin: plain :%d, consent :%d; static origin: plain :%d, consent :%d; pages %s, %s, %s\n",
		proxyPort(originDynamic, false, kindPlain), proxyPort(originDynamic, false, kindConsent),
		proxyPort(originStatic, false, kindPlain), proxyPort(originStatic, false, kindConsent), smallPage, landingPage, largePage)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}

// loadPages builds the pages from the repository the bench runs in.
func loadPages() (root string, pages map[string]page) {
	root, err := repoRoot()
	if err == nil {
		pages, err = benchPages(root)
	}
	if err != nil {
		fatal("%v", err)
	}
	return root, pages
}

// applyQuick shortens the run for -quick, where no flag says otherwise.
func applyQuick() {
	if !*quick {
		return
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rounds"] {
		*rounds = 2
	}
	if !set["duration"] {
		*duration = 2 * time.Second
	}
	slowRuns = 1
}

// checkFlags refuses what cannot run.
func checkFlags() {
	switch *only {
	case "", "slowclients", "serve":
	case "profiles":
		if *profileDir == "" {
			fatal("-only profiles needs -cpuprofile DIR")
		}
	case "compare":
		if *against == "" {
			fatal("-only compare needs -against REV")
		}
	default:
		fatal("-only %q: the cases that run alone are slowclients, profiles, serve and compare", *only)
	}
	if *profilePages != "" && len(profiledPages()) != len(strings.Split(*profilePages, ",")) {
		fatal("-profilepages %q: the measured pages are %s", *profilePages, strings.Join(measuredPages, ", "))
	}
	if _, err := exec.LookPath("wrk"); err != nil && *only != "slowclients" {
		fatal("wrk not found: apt-get install wrk")
	}
}

// buildCaddy builds bench/caddy into dir.
func buildCaddy(root, dir string) string {
	fmt.Println("building bench/caddy (cmd/consentedge's modules and the floor) ...")
	bin := filepath.Join(dir, "consentedge")
	build := exec.Command("go", "build", "-o", bin, "./bench/caddy")
	build.Dir = root
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fatal("build: %v", err)
	}
	return bin
}

var procs []*exec.Cmd

func stopAll() {
	for _, p := range procs {
		stop(p)
	}
}

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

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	for _, p := range procs {
		p.Process.Kill()
	}
	os.Exit(1)
}
