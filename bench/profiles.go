package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// saveProfiles takes the proxies' process's CPU profile and its
// allocations (net/http/pprof on Caddy's admin endpoint) while wrk drives
// the dynamic origin's pages through the plain proxy and the consent
// proxy, for profileTime each, in profileRounds rounds, and saves them to
// dir:
//
//	cpu-<proxy>-<page>-<round>.pb.gz                 go tool pprof -top FILE
//	allocs-<proxy>-<page>-<round>-{before,after}.pb.gz  go tool pprof -sample_index=alloc_space -base BEFORE AFTER
//	requests.txt                                     the responses of each profile, to divide by,
//	                                                 and the process's read and write system calls per response
//
// The process serves nothing else meanwhile, so a profile's samples
// divided by its responses are the CPU time of one response. The rounds
// take the proxies in turn, the other one first every other round
// (plain, consent, consent, plain, ...), so that the machine's drift
// over a run falls on both alike. With profileGzip, the proxies are the
// ones behind `encode gzip`, and wrk asks for gzip.
func saveProfiles(pid int, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal("%v", err)
	}
	var notes strings.Builder
	var headers []string
	if *profileGzip {
		headers = []string{"Accept-Encoding: gzip"}
		notes.WriteString(gzipNote + "\n")
	}
	notes.WriteString("# proxy page responses seconds cpu-µs-per-response (utime+stime of the process) reads-per-response writes-per-response (system calls) round\n")
	profiled := [...]struct {
		kind int
		name string
	}{{kindPlain, "plain"}, {kindConsent, "consent"}}
	for _, page := range profiledPages() {
		for round := 1; round <= max(1, *profileRounds); round++ {
			for _, k := range roundOrder(round-1, len(profiled)) {
				proxy := profiled[k].name
				name := fmt.Sprintf("%s-%s-%d", proxy, strings.TrimSuffix(page, ".html"), round)
				fmt.Printf("profile: %s, dynamic origin, %v ...\n", name, *profileTime)
				n, cpu, calls := profileLoad(dir, name, proxyPort(originDynamic, *profileGzip, profiled[k].kind), page, headers, pid)
				fmt.Fprintf(&notes, "%s %s %d %.0f %.1f %.1f %.1f %d\n", proxy, page, n, profileTime.Seconds(), cpu,
					float64(calls.reads)/float64(n), float64(calls.writes)/float64(n), round)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "requests.txt"), []byte(notes.String()), 0o644); err != nil {
		fatal("%v", err)
	}
}

// profiledPages are the measured pages that -profilepages names, or all.
func profiledPages() []string {
	if *profilePages == "" {
		return measuredPages
	}
	var pages []string
	for _, p := range measuredPages {
		if slices.Contains(strings.Split(*profilePages, ","), p) {
			pages = append(pages, p)
		}
	}
	return pages
}

// gzipNote is requests.txt's line for profiles behind encode gzip.
const gzipNote = "# behind encode gzip"

// profileLoad profiles one proxy under wrk, saves the profiles under
// name, and returns the responses done meanwhile, the process's CPU
// time per response in µs and its system calls meanwhile.
func profileLoad(dir, name string, port int, page string, headers []string, pid int) (int, float64, ioCalls) {
	wrk(port, page, headers, time.Second) // warm up
	saveAdmin("/debug/pprof/allocs", filepath.Join(dir, "allocs-"+name+"-before.pb.gz"))
	done := make(chan struct{})
	var n int
	var ticks int64
	var calls ioCalls
	go func() {
		defer close(done)
		before, callsBefore := cpuTicks(pid), systemCalls(pid)
		_, n = wrk(port, page, headers, *profileTime)
		ticks = cpuTicks(pid) - before
		calls = systemCalls(pid).minus(callsBefore)
	}()
	saveAdmin(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(profileTime.Seconds())), filepath.Join(dir, "cpu-"+name+".pb.gz"))
	<-done
	saveAdmin("/debug/pprof/allocs", filepath.Join(dir, "allocs-"+name+"-after.pb.gz"))
	return n, float64(ticks) * 1e6 / 100 / float64(n), calls // 100 ticks per second
}

// saveAdmin saves what the proxies' admin endpoint answers at path.
func saveAdmin(path, to string) {
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d%s", portProxyAdmin, path))
	if err != nil {
		fatal("%s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fatal("%s: status %d, %v", path, resp.StatusCode, err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		fatal("%v", err)
	}
}
