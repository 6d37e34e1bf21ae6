package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// -breakdown DIR reads the CPU profiles -cpuprofile saved there (through
// `go tool pprof -traces`) and prints, for each page, the plain and the
// consent proxy's CPU time per response by what it was spent on, and what
// consent adds: a Markdown table for docs/performance.md.

// costs are the categories of a sample, in the order of the table. A
// sample goes to the first of the stack-wide ones whose pattern one of its
// frames matches; else to the owner of its innermost frame that has one
// (owners); else to "other".
var costs = []struct {
	name string
	re   *regexp.Regexp // a frame of the stack matches
}{
	{"GC (marking, assists, sweeping)", regexp.MustCompile(`^runtime\.(gcBgMarkWorker|gcAssistAlloc|bgsweep|bgscavenge|gcStart|gcMarkDone|gcMarkTermination)$`)},
	{"allocation (mallocgc)", regexp.MustCompile(`^runtime\.mallocgc$`)},
	{"writes to the client (net/http, system calls)", regexp.MustCompile(`^net/http\.\(\*response\)\.(write|Write|WriteString|ReadFrom|finishRequest|FlushError)$|^net/http\.\(\*chunkWriter\)\.|^internal/poll\.\(\*FD\)\.Writev?$`)},
	{"reads from the upstream (net/http, system calls)", regexp.MustCompile(`^internal/poll\.\(\*FD\)\.Read$|^net/http\.\(\*persistConn\)\.readLoop$`)},
	{"inline script classification (rules)", regexp.MustCompile(`^github\.com/consentedge/consentedge/rules\.\(\*Classifier\)\.(Script|scanScript|scriptThroughCache)$`)},
}

// owners name a frame's category by its function's package. The shared
// helpers of internal/ (httpfield's case folding) have none: their time is
// their caller's.
var owners = []struct{ prefix, name string }{
	{"github.com/consentedge/consentedge/internal/", ""},
	{"github.com/consentedge/consentedge/rules/htmlfilter.", scanCategory},
	{"github.com/consentedge/consentedge/rules.", "URL classification, consent (rules)"},
	{"github.com/consentedge/consentedge/pagecache.", "page cache (key, lookup)"},
	{"github.com/consentedge/consentedge/charset.", "charset (UTF-8 check)"},
	{"github.com/consentedge/consentedge/privacylog.", "logging (zap, privacylog)"},
	{"go.uber.org/zap", "logging (zap, privacylog)"},
	{"github.com/consentedge/consentedge/", "handler (headers, decision, body plumbing)"},
	{"github.com/klauspost/compress/", "compression (encode gzip)"},
	{"github.com/caddyserver/", "Caddy, reverse_proxy, net/http"},
	{"net/http.", "Caddy, reverse_proxy, net/http"},
	{"runtime.schedule", "scheduler, netpoll"},
	{"runtime.findRunnable", "scheduler, netpoll"},
	{"runtime.netpoll", "scheduler, netpoll"},
}

// category is the category of a sample's stack, innermost frame first.
func category(frames []string) string {
	for _, c := range costs {
		for _, f := range frames {
			if c.re.MatchString(f) {
				return c.name
			}
		}
	}
	for _, f := range frames {
		for _, o := range owners {
			if strings.HasPrefix(f, o.prefix) {
				if o.name == "" {
					break // the next frame's
				}
				return o.name
			}
		}
	}
	return "other"
}

// categoryOrder is the table's order of the categories.
func categoryOrder() []string {
	var names []string
	for _, c := range costs {
		names = append(names, c.name)
	}
	for _, o := range owners {
		if o.name != "" && names[len(names)-1] != o.name {
			names = append(names, o.name)
		}
	}
	return append(names, "other")
}

// profileCosts sums a CPU profile's samples by category, in seconds.
func profileCosts(path string) (map[string]float64, error) {
	out, err := exec.Command("go", "tool", "pprof", "-traces", path).Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof -traces %s: %v", path, err)
	}
	return traceCosts(out), nil
}

// traceCosts sums the samples of `go tool pprof -traces` output by
// category, in seconds.
func traceCosts(out []byte) map[string]float64 {
	sums := map[string]float64{}
	var value float64
	var frames []string
	flush := func() {
		if frames != nil {
			sums[category(frames)] += value
		}
		frames = nil
	}
	for line := range bytes.Lines(out) {
		s := strings.TrimSpace(string(line))
		switch {
		case strings.HasPrefix(s, "-----------+"):
			flush()
		case len(line) > 0 && line[0] == ' ' && frames == nil && s != "":
			// "      10ms   function": a sample's value and its innermost frame.
			v, f, _ := strings.Cut(s, " ")
			d, err := time.ParseDuration(v)
			if err != nil {
				continue // a header line
			}
			value, frames = d.Seconds(), []string{strings.TrimSpace(f)}
		case frames != nil && s != "":
			frames = append(frames, strings.TrimSuffix(s, " (inline)"))
		}
	}
	flush()
	return sums
}

// printBreakdown prints the breakdown of the profiles in dir: each
// proxy's profiles of a page pooled (their samples over their responses),
// and what consent adds beyond the scan in each round.
func printBreakdown(dir string) error {
	runs, behind, err := readProfileRuns(dir)
	if err != nil {
		return err
	}
	for _, page := range measuredPages {
		var beyond []string
		for round := 1; ; round++ {
			p, c := perResponse(runs, "plain", page, round), perResponse(runs, "consent", page, round)
			if p == nil || c == nil {
				break
			}
			beyond = append(beyond, fmt.Sprintf("%.1f", beyondScan(p, c)))
		}
		p, c := perResponse(runs, "plain", page, 0), perResponse(runs, "consent", page, 0)
		if p == nil || c == nil {
			continue // not profiled (-profilepages)
		}
		fmt.Printf("\n%s, dynamic origin%s: CPU µs per response\n\n| | plain | consent | consent adds |\n|---|---|---|---|\n", pageLabel[page], behind)
		for _, cat := range append(categoryOrder(), "total") {
			fmt.Printf("| %s | %.1f | %.1f | %+.1f |\n", cat, p[cat], c[cat], c[cat]-p[cat])
		}
		fmt.Printf("\nconsent adds beyond the scan: %.1f µs; by round: %s\n", beyondScan(p, c), strings.Join(beyond, ", "))
	}
	return nil
}

// scanCategory is the category that beyondScan leaves out.
const scanCategory = "the scan (htmlfilter)"

// beyondScan is what consent adds to a response beyond the scan itself.
func beyondScan(plain, consent map[string]float64) float64 {
	return consent["total"] - plain["total"] - consent[scanCategory]
}

// profileRun is one profile of -cpuprofile: its category sums in seconds
// and its responses.
type profileRun struct {
	proxy, page string
	round       int
	responses   int
	seconds     map[string]float64
}

// readProfileRuns reads the profiles that requests.txt in dir lists, and
// what the proxies were behind (", behind encode gzip", or ""). A line
// without a round is from before the rounds: its profile has none in its
// name either.
func readProfileRuns(dir string) (runs []profileRun, behind string, err error) {
	f, err := os.Open(filepath.Join(dir, "requests.txt"))
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == gzipNote {
			behind = ", behind encode gzip"
		}
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		r := profileRun{proxy: fields[0], page: fields[1], round: 1}
		r.responses, _ = strconv.Atoi(fields[2])
		name := r.proxy + "-" + strings.TrimSuffix(r.page, ".html")
		if len(fields) >= 8 {
			r.round, _ = strconv.Atoi(fields[7])
			name += "-" + fields[7]
		}
		if r.seconds, err = profileCosts(filepath.Join(dir, "cpu-"+name+".pb.gz")); err != nil {
			return nil, "", err
		}
		runs = append(runs, r)
	}
	return runs, behind, sc.Err()
}

// perResponse is the CPU µs per response by category (and "total") of a
// proxy's profiles of a page in one round, or in all of them (round 0);
// nil if there is none.
func perResponse(runs []profileRun, proxy, page string, round int) map[string]float64 {
	seconds, responses := map[string]float64{}, 0
	for _, r := range runs {
		if r.proxy != proxy || r.page != page || round != 0 && r.round != round {
			continue
		}
		responses += r.responses
		for c, s := range r.seconds {
			seconds[c] += s
		}
	}
	if responses == 0 {
		return nil
	}
	us := map[string]float64{}
	for c, s := range seconds {
		us[c] = s * 1e6 / float64(responses)
		us["total"] += us[c]
	}
	return us
}
