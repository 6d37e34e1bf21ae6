package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Ports. The caddymodule package's integration tests use others (2999,
// 8080-8081, 9080-9082, 9180), so the bench runs beside them.
const (
	portOrigin     = 18081 // the static origin: file_server, a process of its own
	portDynamic    = 18082 // the dynamic origin: in the bench's process
	portMemory     = 18086 // the slow-clients case's proxy
	portAdmin      = 18091 // the slow-clients case's proxy: /debug/vars, /debug/pprof
	portProxyAdmin = 18092 // the proxies' admin endpoint: /debug/pprof for -cpuprofile
	portProxies    = 18100 // the proxies' sites, 18100 to 18115: proxyPort
)

// The two origins, for every page.
const (
	originStatic  = iota // files: the same bytes every time, with a strong ETag
	originDynamic        // rendered per request: dynamic.go
)

var originPorts = [...]int{originStatic: portOrigin, originDynamic: portDynamic}

var originLabel = [...]string{originStatic: "static", originDynamic: "dynamic"}

// proxyKinds are the four proxies in front of each origin, in the table's
// column order: plain, consent (as shipped), the floor (bench/caddy), and
// consent without its page cache.
var proxyKinds = [...]string{"", "consent", "bench_floor", "consent {\n\t\tpage_cache off\n\t}"}

const (
	kindPlain   = 0
	kindConsent = 1
	kindNoCache = 3
)

// proxyPort is the port of a proxy of kind in front of origin, behind
// `encode gzip` or not.
func proxyPort(origin int, gzip bool, kind int) int {
	p := portProxies + origin*2*len(proxyKinds) + kind
	if gzip {
		p += len(proxyKinds)
	}
	return p
}

// proxyPorts are the ports of the four proxies of origin, in column order.
func proxyPorts(origin int, gzip bool) []int {
	ports := make([]int, len(proxyKinds))
	for k := range proxyKinds {
		ports[k] = proxyPort(origin, gzip, k)
	}
	return ports
}

const globalOptions = `{
	admin off
	auto_https off
	persist_config off
}
`

// The static origin runs in a process of its own, so that the proxy
// process's CPU time and memory are the proxies' alone.
const originConfig = globalOptions + `:%d {
	bind 127.0.0.1
	root * %s
	file_server
}
`

// proxyConfig is the Caddyfile of the proxies' process: every kind in
// front of each origin, with and without gzip, and the admin endpoint on
// (Caddy serves net/http/pprof there). The proxies speak HTTP/2 without TLS
// (h2c) beside HTTP/1.1, for -only serve; wrk speaks HTTP/1.1.
func proxyConfig() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{\n\tadmin localhost:%d\n\tauto_https off\n\tpersist_config off\n\tservers {\n\t\tprotocols h1 h2c\n\t}\n}\n", portProxyAdmin)
	for origin, upstream := range originPorts {
		for _, gzip := range []bool{false, true} {
			for kind, directive := range proxyKinds {
				fmt.Fprintf(&b, ":%d {\n\tbind 127.0.0.1\n", proxyPort(origin, gzip, kind))
				if gzip {
					b.WriteString("\tencode gzip\n")
				}
				if directive != "" {
					b.WriteString("\t" + directive + "\n")
				}
				fmt.Fprintf(&b, "\treverse_proxy 127.0.0.1:%d\n}\n", upstream)
			}
		}
	}
	return b.String()
}

// startOrigins writes the static pages to dir/site and starts both
// origins.
func startOrigins(bin, dir string, pages map[string]page) {
	site := filepath.Join(dir, "site")
	if err := writePages(site, pages); err != nil {
		fatal("%v", err)
	}
	start(bin, dir, "origin", fmt.Sprintf(originConfig, portOrigin, site))
	startDynamicOrigin(portDynamic, pages)
	waitPort(portDynamic)
}
