package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// table is the bench's result: one row per measure.
type table struct{ rows [][]string }

var tableHead = []string{"measure", "without consent", "with consent", "ratio (by round)", "floor ratio (by round)", "no page cache ratio (by round)", "target"}

// row is a measure of the plain, consent, floor and no-page-cache
// proxies (their samples, in that order): the medians of plain and
// consent, and the ratios of the others' medians to plain's. Samples taken
// in rounds (perRound) also give the range of the ratios round by round:
// how far one round's comparison can be trusted on this machine.
func row(name string, samples [][]float64, perRound bool, target string) []string {
	m := medians(samples)
	cell := func(i int) string {
		r := ratio(m[i], m[0])
		if perRound {
			lo, hi := pairedRange(samples[i], samples[0])
			r += fmt.Sprintf(" (%.2f–%.2f)", lo, hi)
		}
		return r
	}
	return []string{name, f0(m[0]), f0(m[1]), cell(1), cell(2), cell(3), target}
}

// measureLoad adds the throughput and CPU rows of every page and origin
// (both from the same wrk runs), and the CPU rows behind gzip.
func (t *table) measureLoad(pid int) {
	gz := []string{"Accept-Encoding: gzip"}
	var throughput, cpu, cpuGzip [][]string
	for _, page := range measuredPages {
		for origin := range originPorts {
			what := fmt.Sprintf("%s, %s origin", pageLabel[page], originLabel[origin])
			fmt.Printf("load: %s ...\n", what)
			rps, c := load(pid, proxyPorts(origin, false), page, nil)
			throughput = append(throughput, row("throughput, "+what+" (req/s)", rps, true, ">= 0.90"))
			cpu = append(cpu, row("proxy CPU per response, "+what+" (µs)", c, true, ""))
			_, cg := load(pid, proxyPorts(origin, true), page, gz)
			cpuGzip = append(cpuGzip, row("proxy CPU per response, encode gzip, "+what+" (µs)", cg, true, "<= 1.10"))
		}
	}
	t.rows = slices.Concat(t.rows, throughput, cpu, cpuGzip)
}

// measureFirstByte adds the time to first byte rows of every page and
// origin, with and without gzip.
func (t *table) measureFirstByte() {
	gz := []string{"Accept-Encoding: gzip"}
	for _, page := range measuredPages {
		for origin := range originPorts {
			what := fmt.Sprintf("%s, %s origin", pageLabel[page], originLabel[origin])
			t.rows = append(t.rows,
				row("time to first byte, "+what+" (µs)", ttfb(proxyPorts(origin, false), page, nil), false, "~ 1.00"),
				row("time to first byte, gzip, "+what+" (µs)", ttfb(proxyPorts(origin, true), page, gz), false, "~ 1.00"))
		}
	}
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

func (t *table) print(started time.Time) {
	rows := append([][]string{tableHead}, t.rows...)
	w := make([]int, len(tableHead))
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range r {
			fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", w[i]-len([]rune(c))))
		}
		fmt.Println(b.String())
	}
	line(tableHead)
	sep := make([]string, len(tableHead))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	fmt.Printf("\n(%v)\n", time.Since(started).Round(time.Second))
}
