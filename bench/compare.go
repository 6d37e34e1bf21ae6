package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The compare case (-only compare -against REV) puts the consent proxies
// of another revision (a Caddy process of their own, built from `git
// archive REV`) beside this checkout's, in front of the dynamic origin, and
// drives both in the same interleaved rounds: a change's effect, with the
// machine's noise shared between before and after. Each proxy's CPU time
// is its own process's.

// portBase is where the other revision's proxies listen: consent, consent
// behind gzip, consent with `page_cache off` (baseKinds).
const portBase = 18200

var baseKinds = [...]struct {
	gzip      bool
	directive string
}{{false, "consent"}, {true, "consent"}, {false, proxyKinds[kindNoCache]}}

// baseConfig is the Caddyfile of the other revision's proxies.
func baseConfig() string {
	var b strings.Builder
	b.WriteString(globalOptions)
	for i, k := range baseKinds {
		fmt.Fprintf(&b, ":%d {\n\tbind 127.0.0.1\n", portBase+i)
		if k.gzip {
			b.WriteString("\tencode gzip\n")
		}
		fmt.Fprintf(&b, "\t%s\n\treverse_proxy 127.0.0.1:%d\n}\n", k.directive, portDynamic)
	}
	return b.String()
}

// buildRevision builds bench/caddy as it is at rev into dir.
func buildRevision(root, dir, rev string) string {
	fmt.Printf("building bench/caddy at %s ...\n", rev)
	src := filepath.Join(dir, "base")
	if err := os.MkdirAll(src, 0o755); err != nil {
		fatal("%v", err)
	}
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, rev, src)
	archive.Stderr = os.Stderr
	if err := archive.Run(); err != nil {
		fatal("git archive %s: %v", rev, err)
	}
	bin := filepath.Join(dir, "base-bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		fatal("%v", err)
	}
	return buildCaddy(src, bin)
}

// compare prints, for every page of the dynamic origin, the other
// revision's and this checkout's consent proxies against the plain proxy
// of the same rounds.
func compare(root, dir string, pid int) {
	base := start(buildRevision(root, dir, *against), dir, "base", baseConfig()).Process.Pid
	gz := []string{"Accept-Encoding: gzip"}
	cases := []struct {
		what        string
		plain, b, a target
	}{
		{"", target{pid, proxyPort(originDynamic, false, kindPlain), nil}, target{base, portBase, nil}, target{pid, proxyPort(originDynamic, false, kindConsent), nil}},
		{"encode gzip", target{pid, proxyPort(originDynamic, true, kindPlain), gz}, target{base, portBase + 1, gz}, target{pid, proxyPort(originDynamic, true, kindConsent), gz}},
		{"page_cache off", target{pid, proxyPort(originDynamic, false, kindPlain), nil}, target{base, portBase + 2, nil}, target{pid, proxyPort(originDynamic, false, kindNoCache), nil}},
	}
	rows := []string{fmt.Sprintf("| dynamic origin, against the plain proxy of the same rounds | %s | this checkout |", *against), "|---|---|---|"}
	for _, page := range measuredPages {
		for _, c := range cases {
			label := pageLabel[page]
			if c.what != "" {
				label += ", " + c.what
			}
			fmt.Printf("compare: %s ...\n", label)
			rps, cpu := loadTargets([]target{c.plain, c.b, c.a}, page)
			rows = append(rows,
				fmt.Sprintf("| throughput, %s | %s | %s |", label, byRound(rps, 1), byRound(rps, 2)),
				fmt.Sprintf("| CPU per response, %s | %s | %s |", label, byRound(cpu, 1), byRound(cpu, 2)))
		}
	}
	fmt.Printf("\n%s\n", strings.Join(rows, "\n"))
}

// byRound is the median ratio of samples[i] to the plain proxy's
// (samples[0]), its range round by round, and the median itself.
func byRound(samples [][]float64, i int) string {
	m := medians(samples)
	lo, hi := pairedRange(samples[i], samples[0])
	return fmt.Sprintf("%s (%.2f–%.2f; %s)", ratio(m[i], m[0]), lo, hi, f0(m[i]))
}
