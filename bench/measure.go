package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

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
// (roundOrder) round after round, and returns them by port.
func inRounds(ports []int, n int, measure func(port int) float64) [][]float64 {
	samples := make([][]float64, len(ports))
	for round := range n {
		for _, i := range roundOrder(round, len(ports)) {
			samples[i] = append(samples[i], measure(ports[i]))
		}
	}
	return samples
}

// load runs wrk against the proxies of process pid on ports in turn,
// round after round (loadTargets).
func load(pid int, ports []int, page string, headers []string) (rps, cpu [][]float64) {
	ts := make([]target, len(ports))
	for i, p := range ports {
		ts[i] = target{pid, p, headers}
	}
	return loadTargets(ts, page)
}

// target is one proxy to load: its process, its port, wrk's headers.
type target struct {
	pid, port int
	headers   []string
}

// loadTargets runs wrk against each of ts in turn (roundOrder), round
// after round, and returns their rates and their processes' CPU time per
// response (utime+stime from /proc, in µs) of the same runs, by round.
func loadTargets(ts []target, page string) (rps, cpu [][]float64) {
	for _, t := range ts {
		wrk(t.port, page, t.headers, time.Second) // warm up
	}
	rps, cpu = make([][]float64, len(ts)), make([][]float64, len(ts))
	for round := range *rounds {
		for _, i := range roundOrder(round, len(ts)) {
			t := ts[i]
			before := cpuTicks(t.pid)
			r, n := wrk(t.port, page, t.headers, *duration)
			after := cpuTicks(t.pid)
			rps[i] = append(rps[i], r)
			cpu[i] = append(cpu[i], float64(after-before)*1e6/100/float64(n)) // 100 ticks per second
		}
	}
	return rps, cpu
}

// roundOrder is the order in which a round takes n targets: as given,
// and backwards every other round, so that a machine that drifts over a
// run (a plain proxy's CPU per response has risen by half within minutes)
// weighs on the first and the last alike, not always on the last.
func roundOrder(round, n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
		if round%2 == 1 {
			order[i] = n - 1 - i
		}
	}
	return order
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

// ioCalls are a process's read and write system calls (syscr and syscw
// of /proc/PID/io, proc(5)).
type ioCalls struct{ reads, writes int64 }

func (a ioCalls) minus(b ioCalls) ioCalls { return ioCalls{a.reads - b.reads, a.writes - b.writes} }

func systemCalls(pid int) ioCalls {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		fatal("%v", err)
	}
	var c ioCalls
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			c.reads = n
		case "syscw":
			c.writes = n
		}
	}
	return c
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
		_, n := wrk(port, smallPage, nil, 2*time.Second)
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
