package privacylog

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestPrivacyIPs(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	tests := []struct{ in, want string }{
		{"203.0.113.77", "203.0.113.0"},
		{"203.0.113.77:51234", "203.0.113.0"},
		{"::ffff:198.51.100.99", "198.51.100.0"},
		{"[::ffff:198.51.100.99]:443", "198.51.100.0"},
		{"2002:c633:6463::1", "2002:c633:6400::"},
		{"fe80::1234:5678%eth0", "fe80::"},
		{"unknown", "unknown"},
		{"garbage", ""},
		{"", ""},
		// Lists: each member, "unknown" kept, anything else replaced.
		{"203.0.113.77, 198.51.100.99", "203.0.113.0, 198.51.100.0"},
		{"203.0.113.77,[2001:db8:abcd:12::77]:4711 , ::ffff:198.51.100.99", "203.0.113.0, 2001:db8:abcd::, 198.51.100.0"},
		{"unknown, 203.0.113.77", "unknown, 203.0.113.0"},
		{"203.0.113.77, not-an-ip, jane@example.org", "203.0.113.0, unknown, unknown"},
		{"203.0.113.77,,", "203.0.113.0"},
	}
	for _, tt := range tests {
		if got := p.ips(tt.in); got != tt.want {
			t.Errorf("ips(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrivacyIPPrefixes(t *testing.T) {
	tests := []struct {
		in     string
		v4, v6 int
		want   string
	}{
		{"203.0.113.77", 16, 48, "203.0.0.0"},
		{"203.0.113.77", 8, 48, "203.0.0.0"},
		{"::ffff:198.51.100.99", 16, 48, "198.51.0.0"},
		{"2001:db8:abcd:12::77", 24, 32, "2001:db8::"},
		// 6to4 keeps 16 bits more than its embedded IPv4's prefix, and
		// never more than the IPv6 prefix.
		{"2002:c633:6463::1", 16, 48, "2002:c633::"},
		{"2002:c633:6463::1", 24, 32, "2002:c633::"},
		{"2002:c633:6463::1", 24, 48, "2002:c633:6400::"},
	}
	for _, tt := range tests {
		if got := TruncateIPPrefix(tt.in, tt.v4, tt.v6); got != tt.want {
			t.Errorf("TruncateIPPrefix(%q, %d, %d) = %q, want %q", tt.in, tt.v4, tt.v6, got, tt.want)
		}
	}
}

func TestPrivacyForwarded(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	tests := []struct{ in, want string }{
		// RFC 7239 §4's examples.
		{`for="_gazonk"`, `for=unknown`},
		{`For="[2001:db8:cafe::17]:4711"`, `for="[2001:db8:cafe::]"`},
		{`for=192.0.2.60;proto=http;by=203.0.113.43`, `for=192.0.2.0;proto=http;by=203.0.113.0`},
		{`for=192.0.2.43, for=198.51.100.17`, `for=192.0.2.0, for=198.51.100.0`},
		// Mapped, 6to4, zone, port, quoted IPv4.
		{`for="[::ffff:198.51.100.99]:443"`, `for=198.51.100.0`},
		{`for="[2002:c633:6463::1]"`, `for="[2002:c633:6400::]"`},
		{`for="[fe80::1%25eth0]"`, `for="[fe80::]"`},
		{`for="198.51.100.99:4711"`, `for=198.51.100.0`},
		{`for=unknown;host=shop.example`, `for=unknown;host=shop.example`},
		// Unbracketed IPv6 (not valid, but sent) still truncated.
		{`for=2001:db8:abcd:12::77`, `for="[2001:db8:abcd::]"`},
		// Extensions and malformed members go; nothing passes unread.
		{`for=192.0.2.60;secret=jane@example.org`, `for=192.0.2.0`},
		{`host="a, for=192.0.2.60`, ``},
		{`for="192.0.2.60`, `for=unknown`},
		{`garbage, for=192.0.2.60`, `for=192.0.2.0`},
		{`for=192.0.2.60;host="shop.example";proto=https`, `for=192.0.2.0;host="shop.example";proto=https`},
		{`for=192.0.2.60;host="a\"b"`, `for=192.0.2.0`},
		{``, ``},
	}
	for _, tt := range tests {
		got := p.forwarded(tt.in)
		if got != tt.want {
			t.Errorf("forwarded(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, ".60") || strings.Contains(got, ".99") || strings.Contains(got, "17") {
			t.Errorf("forwarded(%q) = %q keeps a host part", tt.in, got)
		}
	}
}

func TestPrivacyURI(t *testing.T) {
	p := NewPolicy(24, 48, nil, []string{"utm_*", "session"}, nil)
	tests := []struct{ in, want string }{
		{"/", "/"},
		{"/shop?q=shoes&page=2", "/shop?q=shoes&page=2"},
		// Click ids (rules.DefaultClickIDs), any case, encoded names.
		{"/?gclid=EAIaIQ&q=1", "/?q=1"},
		{"/?q=1&FBCLID=IwAR0", "/?q=1"},
		{"/?gcl%69d=x&msclkid=y", "/"},
		{"/?q=1;gclid=EAIaIQ", "/?q=1"}, // a log reads ';' as a separator too
		// Configured names and prefixes.
		{"/?utm_source=news&utm_medium=mail&session=abc&id=7", "/?id=7"},
		// E-mail addresses in values and names, encoded or not.
		{"/?mail=jane.doe@example.org&q=1", "/?q=1"},
		{"/?mail=jane.doe%40example.org&q=1", "/?q=1"},
		{"/?mail=jane.doe%2540example.org", "/"},
		{"/?jane@example.org", "/"},
		{"/?to=jane%40example.org;q=2", "/?q=2"},
		{"/?img=logo@2x.png", "/"},
		// Not addresses.
		{"/?handle=@jane&v=a@b", "/?handle=@jane&v=a@b"},
		{"/?pct=100%25", "/?pct=100%25"},
		// Fragments go, absolute URIs (Referer) keep their origin.
		{"/thanks#access_token=abc", "/thanks"},
		{"https://news.example/a?fbclid=1&x=2#top", "https://news.example/a?x=2"},
		{"https://news.example/?email=jane%40example.org", "https://news.example/"},
		// A fediverse address, and a trailing dot, in a query.
		{"/?to=@jane@social.example&q=1", "/?q=1"},
		{"/?to=jane@example.org.", "/"},
		// Userinfo of absolute URIs (an absolute-form request, a Referer)
		// and of network-path references.
		{"http://alice:S3CRETPW@shop.example/abs", "http://shop.example/abs"},
		{"https://bob:pw@site.example/", "https://site.example/"},
		{"https://bob@site.example", "https://site.example"},
		{"https://alice:pw@site.example?x=1#t", "https://site.example?x=1"},
		{"//alice:pw@cdn.example/x", "//cdn.example/x"},
		{"http://a@b:p@w@host.example/p?q=1", "http://host.example/p?q=1"},
		{"svn+ssh://alice@host.example/repo", "svn+ssh://host.example/repo"},
		{"https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"},
		// Path parameters, in every segment; an encoded ';' is data.
		{"/cart;jsessionid=ABC123?x=1", "/cart?x=1"},
		{"/a;v=1/b;jsessionid=ABC123/c", "/a/b/c"},
		{"https://news.example/article;jsessionid=ABC123", "https://news.example/article"},
		{"/;jsessionid=ABC123", "/"},
		{"/a%3Bjsessionid=1", "/a%3Bjsessionid=1"},
		// Path segments that look like e-mail addresses, encoded or not,
		// with parameters or not.
		{"/users/alice@example.com/profile", "/users/redacted/profile"},
		{"/users/alice%40example.com/profile", "/users/redacted/profile"},
		{"/users/alice%2540example.com", "/users/redacted"},
		{"/u/alice@example.com;jsessionid=ABC123/x", "/u/redacted/x"},
		{"https://news.example/to/jane.doe@example.org?id=1", "https://news.example/to/redacted?id=1"},
		{"/users%2Falice%40example.com", "/redacted"},
		{"/@jane@social.example", "/redacted"},
		{"/alice@example.com./x", "/redacted/x"},
		{"/img/logo@2x.png", "/img/redacted"},
		{"/npm/react@18.2.0/umd", "/npm/redacted/umd"},
		{"alice@example.com/x", "redacted/x"},
		{"mailto:jane@example.org", "redacted"},
		// Not addresses.
		{"/@jane/posts", "/@jane/posts"},
		{"/v/a@b", "/v/a@b"},
		{"/users/alice@intranet", "/users/alice@intranet"},
		{"/100%25/caf%C3%A9", "/100%25/caf%C3%A9"},
	}
	for _, tt := range tests {
		if got := p.uri(tt.in); got != tt.want {
			t.Errorf("uri(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrivacyText(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	tests := []struct{ in, want string }{
		{"http: TLS handshake error from 203.0.113.77:51234: EOF", "http: TLS handshake error from 203.0.113.0: EOF"},
		{"http2: server: error reading preface from client [2001:db8:abcd:12::77]:51234: bogus greeting",
			"http2: server: error reading preface from client [2001:db8:abcd::]: bogus greeting"},
		{"write tcp 127.0.0.2:443->203.0.113.77:51234: write: broken pipe", "write tcp 127.0.0.2:443->203.0.113.0: write: broken pipe"},
		{"readfrom tcp [::1]:443->[::ffff:198.51.100.99]:1: i/o timeout", "readfrom tcp [::1]:443->198.51.100.0: i/o timeout"},
		{"request from 203.0.113.77.", "request from 203.0.113.0."},
		// The upstream an SRE needs stays.
		{"dial tcp 127.0.0.2:1: connect: connection refused", "dial tcp 127.0.0.2:1: connect: connection refused"},
		{"reading from upstream failed", "reading from upstream failed"},
		{"from", "from"},
		{"a->", "a->"},
		{"from from 203.0.113.77 -> 198.51.100.99", "from from 203.0.113.0 -> 198.51.100.99"},
	}
	for _, tt := range tests {
		if got := p.Text(tt.in); got != tt.want {
			t.Errorf("text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPrivacyHeaderRules: headers known by name, and every other name by
// its words: credentials and personal data dropped, client addresses
// truncated, the headers SREs read kept.
func TestPrivacyHeaderRules(t *testing.T) {
	p := NewPolicy(24, 48, []string{"X-Client-Addr"}, nil, []string{"X-Site-Secret-Header", "X-Custom"})
	tests := []struct {
		name string
		want Rule
	}{
		// Known by name, in any case.
		{"Cookie", RuleDrop},
		{"set-cookie", RuleDrop},
		{"Authorization", RuleDrop},
		{"From", RuleDrop},
		{"X-Custom", RuleDrop},
		{"X-Client-Addr", RuleIP},
		{"x-forwarded-for", RuleIP},
		{"Forwarded", RuleForwarded},
		{"Referer", RuleURI},
		{"Location", RuleURI},
		{"CloudFront-Viewer-Address", RuleIPPort},
		{"cloudfront-viewer-address", RuleIPPort},
		// CDNs' client addresses, listed by vendor.
		{"Fly-Client-IP", RuleIP},
		{"X-Azure-ClientIP", RuleIP},
		{"X-Azure-SocketIP", RuleIP},
		{"X-Vercel-Forwarded-For", RuleIP},
		{"True-Client-IP", RuleIP},
		{"CF-Connecting-IPv6", RuleIP},
		{"CF-Pseudo-IPv4", RuleIP},
		{"Fastly-Client-IP", RuleIP},
		{"X-Cluster-Client-IP", RuleIP},
		{"X-Original-Forwarded-For", RuleIP},
		{"X-ProxyUser-Ip", RuleIP},
		{"X-Envoy-External-Address", RuleIP},
		{"X-AppEngine-User-IP", RuleIP},
		// Addresses by the last word of the name.
		{"DO-Connecting-IP", RuleIP},
		{"X-Nf-Client-Connection-Ip", RuleIP},
		{"X-Real-Client-Ips", RuleIP},
		{"X-Upstream-Addr", RuleIP},
		{"X-Peer-Address", RuleIP},
		{"X-Debug-Forwarded-For", RuleIP},
		// Credentials and personal data by their words.
		{"X-Api-Key", RuleDrop},
		{"Api-Key", RuleDrop},
		{"X-Auth-Token", RuleDrop},
		{"X-Amz-Security-Token", RuleDrop},
		{"X-Session-Id", RuleDrop},
		{"X-Csrftoken", RuleDrop},
		{"X-Xsrf-Token", RuleDrop},
		{"X-Hub-Signature-256", RuleDrop},
		{"Cf-Access-Jwt-Assertion", RuleDrop},
		{"Cf-Access-Client-Secret", RuleDrop},
		{"X-Password", RuleDrop},
		{"X-Forwarded-Client-Cert", RuleDrop},
		{"Cf-Cert-Subject-Dn", RuleDrop},
		{"X-Forwarded-User", RuleDrop},
		{"X-Forwarded-Email", RuleDrop},
		{"Www-Authenticate", RuleDrop},
		{"Sec-Websocket-Key", RuleDrop},
		{"Cookie2", RuleDrop},
		{"CloudFront-Viewer-Latitude", RuleDrop},
		{"CloudFront-Viewer-City", RuleDrop},
		{"CloudFront-Viewer-Postal-Code", RuleDrop},
		{"X-Vercel-IP-City", RuleDrop},
		{"X-Vercel-IP-Longitude", RuleDrop},
		{"Cf-Ipcity", RuleDrop},
		{"Cf-Iplatitude", RuleDrop},
		{"X-AppEngine-CityLatLong", RuleDrop},
		{"X-Akamai-Edgescape", RuleDrop},
		{"X-Nf-Geo", RuleDrop},
		// What an SRE reads stays.
		{"User-Agent", RuleKeep},
		{"Sec-Fetch-User", RuleKeep},
		{"Access-Control-Allow-Credentials", RuleKeep},
		{"Access-Control-Allow-Headers", RuleKeep},
		{"Content-Type", RuleKeep},
		{"Accept-Encoding", RuleKeep},
		{"Accept-Language", RuleKeep},
		{"Cache-Control", RuleKeep},
		{"Keep-Alive", RuleKeep},
		{"Host", RuleKeep},
		{"X-Forwarded-Proto", RuleKeep},
		{"X-Forwarded-Host", RuleKeep},
		{"Vary", RuleKeep},
		{"Sec-Gpc", RuleKeep},
		{"Cf-Ipcountry", RuleKeep},
		{"CloudFront-Viewer-Country", RuleKeep},
		{"X-Request-Id", RuleKeep},
	}
	for _, tt := range tests {
		// Twice: the second answer comes from what the policy learned.
		for range 2 {
			if got := p.HeaderRule(tt.name); got != tt.want {
				t.Errorf("headerRule(%q) = %d, want %d", tt.name, got, tt.want)
			}
		}
	}
}

// TestPrivacyLearnedRulesBounded: made-up header names do not grow the
// policy's memory without end, and are still treated once it is full.
func TestPrivacyLearnedRulesBounded(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	for i := range maxLearnedRules + 100 {
		p.HeaderRule(fmt.Sprintf("X-Made-Up-%d", i))
	}
	p.HeaderRule("X-" + strings.Repeat("a", maxLearnedNameLength) + "-Token")
	if n := p.headers.learned(); n != maxLearnedRules {
		t.Errorf("%d names learned, want %d", n, maxLearnedRules)
	}
	if got := p.HeaderRule("X-Late-Api-Key"); got != RuleDrop {
		t.Errorf("a name past the bound: %d, want drop", got)
	}
	if got := p.HeaderRule("X-" + strings.Repeat("a", 2*maxLearnedNameLength) + "-Token"); got != RuleDrop {
		t.Errorf("a long name: %d, want drop", got)
	}
}

// TestPrivacyHeaderRulesConcurrent: clones of one encoder share the
// policy and learn names from several goroutines (run under -race).
func TestPrivacyHeaderRulesConcurrent(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprintf("X-Shared-%d-Token", i%50)
				if p.HeaderRule(name) != RuleDrop || p.HeaderRule(fmt.Sprintf("X-G%d-%d-Ip", g, i)) != RuleIP {
					t.Errorf("wrong rule for %s", name)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := p.headers.learned(); n != 50+4*200 {
		t.Errorf("%d names learned, want %d", n, 50+4*200)
	}
}

func TestPrivacyIPPort(t *testing.T) {
	p := NewPolicy(24, 48, nil, nil, nil)
	tests := []struct{ in, want string }{
		// AWS's example, and IPv6 unbracketed with its port.
		{"198.51.100.10:46532", "198.51.100.0"},
		{"2001:db8:abcd:12::77:46532", "2001:db8:abcd::"},
		{"2001:db8:abcd:12:1:2:3:4:46532", "2001:db8:abcd::"},
		// Read whole, a port of four digits parses as a last group and
		// moves 0x1 into the kept /48 (2001:0:1::); without it the /48
		// is 2001::.
		{"2001::1:2:3:4:5:8080", "2001::"},
		{"[2001:db8:abcd:12::77]:46532", "2001:db8:abcd::"},
		{"::ffff:198.51.100.10:46532", "198.51.100.0"},
		// Without a port, as a plain address.
		{"198.51.100.10", "198.51.100.0"},
		{"2001:db8:abcd:12::77", "2001:db8:abcd::"},
		// Anything else is replaced.
		{"viewer:46532", ""},
		{"jane@example.org:46532", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := p.ipPort(tt.in); got != tt.want {
			t.Errorf("ipPort(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
