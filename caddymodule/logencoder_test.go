package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var updateLogs = flag.Bool("update-logs", false, "rewrite the privacy encoder goldens in testdata/logs")

// newTestPrivacyEncoder provisions the encoder from its JSON config.
func newTestPrivacyEncoder(t testing.TB, config string) *PrivacyEncoder {
	t.Helper()
	pe := new(PrivacyEncoder)
	if config != "" {
		if err := json.Unmarshal([]byte(config), pe); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := pe.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pe.Validate(); err != nil {
		t.Fatal(err)
	}
	return pe
}

// encodeLine encodes one entry, as a logger does: the With fields go
// through a clone, the entry's fields through EncodeEntry.
func encodeLine(t *testing.T, enc zapcore.Encoder, ent zapcore.Entry, with, fields []zapcore.Field) string {
	t.Helper()
	if len(with) > 0 {
		enc = enc.Clone()
		for _, f := range with {
			f.AddTo(enc)
		}
	}
	buf, err := enc.EncodeEntry(ent, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	return buf.String()
}

var goldenTime = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// goldenInput is one testdata/logs/*.in.json: an entry as a Caddy logger
// would write it, and the encoder's options. Fields keep their order, so the
// output is byte-exact.
type goldenInput struct {
	Options json.RawMessage `json:"options"`
	Level   string          `json:"level"`
	Logger  string          `json:"logger"`
	Msg     string          `json:"msg"`
	// With are fields added with logger.With (as Caddy adds request
	// objects), Fields those of the entry itself.
	With   orderedObject `json:"with"`
	Fields orderedObject `json:"fields"`
}

// TestPrivacyEncoderGolden runs each testdata/logs/<case>.in.json through
// the encoder and compares the line with <case>.out.json. Rewrite the
// goldens with -update-logs (and read the diff).
func TestPrivacyEncoderGolden(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("..", "testdata", "logs", "*.in.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var gi goldenInput
			if err := json.Unmarshal(raw, &gi); err != nil {
				t.Fatal(err)
			}
			level, err := zapcore.ParseLevel(gi.Level)
			if err != nil {
				t.Fatal(err)
			}
			pe := newTestPrivacyEncoder(t, string(gi.Options))
			ent := zapcore.Entry{Level: level, Time: goldenTime, LoggerName: gi.Logger, Message: gi.Msg}
			got := encodeLine(t, pe, ent, gi.With.fields(), gi.Fields.fields())
			checkGolden(t, strings.TrimSuffix(in, ".in.json")+".out.json", got, false)
		})
	}
}

// checkGolden compares got with the golden file; unordered compares the
// JSON values (for entries built from Go maps, whose order varies).
func checkGolden(t *testing.T, path, got string, unordered bool) {
	t.Helper()
	if *updateLogs {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-logs to create it)", err)
	}
	if !unordered {
		if got != string(want) {
			t.Errorf("%s:\n got: %s\nwant: %s", filepath.Base(path), got, want)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got: %s\nwant: %s", filepath.Base(path), got, want)
	}
}

// TestPrivacyEncoderCaddyRequest encodes a request through Caddy's own
// marshalers (caddyhttp.LoggableHTTPRequest and LoggableHTTPHeader, which
// walk header maps in random order): the shapes the access and error logs
// really have.
func TestPrivacyEncoderCaddyRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "http://shop.example/landing?utm_source=news&gclid=EAIaIQ&mail=jane.doe%40example.org&q=shoes", nil)
	r.RemoteAddr = "[2001:db8:abcd:12::77]:51234"
	r.Header = http.Header{
		"User-Agent":      {"Mozilla/5.0"},
		"Cookie":          {"consent=necessary.analytics; _ga=GA1.1.42"},
		"Authorization":   {"Basic amFuZTpzZWNyZXQ="},
		"X-Forwarded-For": {"203.0.113.77, ::ffff:198.51.100.99, [2002:c633:6463::1]:443"},
		"Forwarded":       {`for=203.0.113.77;proto=https, for="[2001:db8:abcd:12::77]:4711"`},
		"Referer":         {"https://news.example/?fbclid=IwAR0&email=jane%40example.org#top"},
	}
	vars := map[string]any{caddyhttp.ClientIPVarKey: "203.0.113.77"}
	r = r.WithContext(context.WithValue(r.Context(), caddyhttp.VarsCtxKey, vars))
	resp := http.Header{
		"Set-Cookie":   {"_ga=GA1.1.42; Max-Age=63072000"},
		"Location":     {"/thanks?email=jane@example.org#access_token=abc"},
		"Content-Type": {"text/html; charset=utf-8"},
	}
	pe := newTestPrivacyEncoder(t, "")
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: goldenTime, LoggerName: "http.log.access.log0", Message: "handled request"}
	got := encodeLine(t, pe, ent,
		[]zapcore.Field{zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r})},
		[]zapcore.Field{
			zap.Int("bytes_read", 0), zap.String("user_id", "jane"), zap.Duration("duration", time.Millisecond),
			zap.Int("size", 1234), zap.Int("status", 200),
			zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: resp}),
		})
	checkGolden(t, filepath.Join("..", "testdata", "logs", "caddy_request.out.json"), got, true)
	for _, leak := range []string{"203.0.113.77", "2001:db8:abcd:12::77", "198.51.100.99", "2002:c633:6463", "51234", "jane", "GA1", "EAIaIQ", "IwAR0", "access_token", "c2VjcmV0"} {
		if strings.Contains(got, leak) {
			t.Errorf("line holds %q: %s", leak, got)
		}
	}
}

// TestPrivacyEncoderCloneKeepsNothing checks that an entry's fields do not
// stay behind for the next entry, and that With fields are scrubbed once
// and kept for every entry of that logger.
func TestPrivacyEncoderCloneKeepsNothing(t *testing.T) {
	pe := newTestPrivacyEncoder(t, "")
	var buf bytes.Buffer
	logger := zap.New(zapcore.NewCore(pe, zapcore.AddSync(&buf), zapcore.DebugLevel))
	reqLog := logger.With(zap.String("remote_ip", "203.0.113.77"))
	reqLog.Info("one", zap.String("client_ip", "198.51.100.99"), zap.String("a", "1"))
	reqLog.Info("two", zap.String("b", "2"))
	logger.Info("three")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), lines)
	}
	for i, want := range []struct{ has, hasNot []string }{
		{[]string{`"remote_ip":"203.0.113.0"`, `"client_ip":"198.51.100.0"`, `"a":"1"`}, nil},
		{[]string{`"remote_ip":"203.0.113.0"`, `"b":"2"`}, []string{`"a"`, "client_ip"}},
		{nil, []string{"remote_ip", `"a"`, `"b"`}},
	} {
		for _, s := range want.has {
			if !strings.Contains(lines[i], s) {
				t.Errorf("line %d lacks %s: %s", i, s, lines[i])
			}
		}
		for _, s := range want.hasNot {
			if strings.Contains(lines[i], s) {
				t.Errorf("line %d holds %s: %s", i, s, lines[i])
			}
		}
	}
	if strings.Contains(buf.String(), "113.77") || strings.Contains(buf.String(), "100.99") {
		t.Errorf("full address logged: %s", buf.String())
	}
}

// TestPrivacyEncoderConsole wraps the console encoder: the message and the
// fields are scrubbed there too.
func TestPrivacyEncoderConsole(t *testing.T) {
	pe := newTestPrivacyEncoder(t, `{"wrap":{"format":"console"}}`)
	ent := zapcore.Entry{Level: zapcore.DebugLevel, Time: goldenTime, LoggerName: "http.stdlib",
		Message: "http: TLS handshake error from [2001:db8:abcd:12::77]:51234: EOF"}
	got := encodeLine(t, pe, ent, nil, []zapcore.Field{zap.String("remote_ip", "203.0.113.77")})
	for _, s := range []string{"from [2001:db8:abcd::]: EOF", `"remote_ip": "203.0.113.0"`} {
		if !strings.Contains(got, s) {
			t.Errorf("console line lacks %q: %s", s, got)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(got), "{") {
		t.Errorf("not console output: %s", got)
	}
}

// TestPrivacyEncoderTypedFields covers the non-string field types: kept
// unless the key is an address or a dropped one, and objects under address
// keys, arrays of objects and reflected values.
func TestPrivacyEncoderTypedFields(t *testing.T) {
	pe := newTestPrivacyEncoder(t, "")
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: goldenTime, Message: "typed"}
	got := encodeLine(t, pe, ent, nil, []zapcore.Field{
		zap.Int("remote_port", 51234),
		zap.Uint32("ip", 3405803853),
		zap.Int("count", 3),
		zap.Bool("ok", true),
		zap.Float64("ratio", 0.5),
		zap.ByteString("remote_ip", []byte("203.0.113.77")),
		zap.ByteString("note", []byte("kept")),
		zap.Stringer("client_ip", stringer("[2001:db8:abcd:12::77]:443")),
		zap.Any("remote", map[string]string{"addr": "203.0.113.77"}),
		zap.Strings("remote_addr", []string{"203.0.113.77:1", "garbage"}),
		zap.Objects("upstreams", []zapcore.ObjectMarshaler{zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
			enc.AddString("remote_ip", "198.51.100.99")
			return nil
		})}),
		zap.Error(errors.New("write tcp 127.0.0.2:443->203.0.113.77:51234: write: broken pipe")),
		zap.Reflect("user_id", struct{ Name string }{"jane"}),
		zap.Reflect("remote", []string{"203.0.113.77"}),
	})
	want := `{"level":"info","ts":1795867200,"msg":"typed","count":3,"ok":true,"ratio":0.5,"remote_ip":"203.0.113.0","note":"kept",` +
		`"client_ip":"2001:db8:abcd::","remote_addr":["203.0.113.0",""],"upstreams":[{"remote_ip":"198.51.100.0"}],` +
		`"error":"write tcp 127.0.0.2:443->203.0.113.0: write: broken pipe","remote":["203.0.113.0"]}` + "\n"
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestPrivacyIPs(t *testing.T) {
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
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
		if got := truncateIPPrefix(tt.in, tt.v4, tt.v6); got != tt.want {
			t.Errorf("truncateIPPrefix(%q, %d, %d) = %q, want %q", tt.in, tt.v4, tt.v6, got, tt.want)
		}
	}
}

func TestPrivacyForwarded(t *testing.T) {
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
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
	p := newPrivacyPolicy(24, 48, nil, []string{"utm_*", "session"}, nil)
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
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
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
		if got := p.text(tt.in); got != tt.want {
			t.Errorf("text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrivacyEncoderCaddyfile(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: `privacy`, want: `{}`},
		{in: "privacy {\n wrap console\n ipv4_prefix 16\n ipv6_prefix 32\n ip_headers X-Client-Addr\n ip_headers Y-Ip Z-Ip\n strip_params utm_* ref\n drop_headers X-Api-Key\n}",
			want: `{"wrap":{"format":"console"},"ipv4_prefix":16,"ipv6_prefix":32,"ip_headers":["X-Client-Addr","Y-Ip","Z-Ip"],"strip_params":["utm_*","ref"],"drop_headers":["X-Api-Key"]}`},
		{in: "privacy {\n wrap json {\n  time_format iso8601\n }\n}", want: `{"wrap":{"format":"json","time_format":"iso8601"}}`},
		{in: `privacy extra`, err: "wrong argument count"},
		{in: "privacy {\n ipv4_prefix\n}", err: "wrong argument count"},
		{in: "privacy {\n ipv4_prefix x\n}", err: "ipv4_prefix"},
		{in: "privacy {\n ipv6_prefix 32 64\n}", err: "wrong argument count"},
		{in: "privacy {\n ip_headers\n}", err: "wrong argument count"},
		{in: "privacy {\n strip_params\n}", err: "wrong argument count"},
		{in: "privacy {\n drop_headers\n}", err: "wrong argument count"},
		{in: "privacy {\n mask_all\n}", err: "unrecognized privacy encoder option"},
		{in: "privacy {\n wrap nope\n}", err: "nope"},
	}
	for _, tt := range tests {
		pe := new(PrivacyEncoder)
		err := pe.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		got, _ := json.Marshal(pe)
		if string(got) != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestPrivacyEncoderValidate(t *testing.T) {
	for _, tt := range []struct {
		pe  PrivacyEncoder
		err string
	}{
		{PrivacyEncoder{IPv4Prefix: 24, IPv6Prefix: 48}, ""},
		{PrivacyEncoder{IPv4Prefix: 8, IPv6Prefix: 16}, ""},
		{PrivacyEncoder{IPv4Prefix: 25, IPv6Prefix: 48}, "ipv4_prefix must be between 0 and 24"},
		{PrivacyEncoder{IPv4Prefix: 24, IPv6Prefix: 64}, "ipv6_prefix must be between 0 and 48"},
		{PrivacyEncoder{IPv4Prefix: -1, IPv6Prefix: 48}, "ipv4_prefix"},
		{PrivacyEncoder{IPv4Prefix: 24, IPv6Prefix: 48, IPHeaders: []string{"Bad Header"}}, "invalid header name"},
		{PrivacyEncoder{IPv4Prefix: 24, IPv6Prefix: 48, DropHeaders: []string{"X:Y"}}, "invalid header name"},
	} {
		err := tt.pe.Validate()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v: %v, want %q", tt.pe, err, tt.err)
		}
	}
}

// TestPrivacyEncoderDefaultFormat: a default wrap follows Caddy's rule
// (console on a terminal); a file never gets console.
func TestPrivacyEncoderDefaultFormat(t *testing.T) {
	pe := newTestPrivacyEncoder(t, "")
	if err := pe.ConfigureDefaultFormat(&caddyfileWriter{}); err != nil {
		t.Fatal(err)
	}
	line := encodeLine(t, pe, zapcore.Entry{Time: goldenTime, Message: "m"}, nil, nil)
	if !strings.HasPrefix(line, "{") {
		t.Errorf("not json: %s", line)
	}
}

// caddyfileWriter is a WriterOpener that is no standard stream.
type caddyfileWriter struct{}

func (caddyfileWriter) String() string                      { return "test" }
func (caddyfileWriter) WriterKey() string                   { return "test" }
func (caddyfileWriter) OpenWriter() (io.WriteCloser, error) { return nil, fmt.Errorf("not opened") }

// orderedObject is a JSON object that keeps its key order, so that a golden
// input becomes zap fields in the order Caddy would add them.
type orderedObject []orderedField

type orderedField struct {
	key string
	val any // string, json.Number, bool, nil, orderedObject or []any
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	obj, ok := v.(orderedObject)
	if !ok {
		return fmt.Errorf("not an object: %s", b)
	}
	*o = obj
	return nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := orderedObject{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, orderedField{k.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return tok, nil
}

// fields turns the object into zap fields, through the same encoder calls
// Caddy's marshalers make: AddObject for objects, AddArray for header
// values, AddString and the numeric adds for scalars.
func (o orderedObject) fields() []zapcore.Field {
	out := make([]zapcore.Field, 0, len(o))
	for _, f := range o {
		switch v := f.val.(type) {
		case orderedObject:
			out = append(out, zap.Object(f.key, v))
		case []any:
			out = append(out, zap.Array(f.key, orderedArray(v)))
		case string:
			out = append(out, zap.String(f.key, v))
		case bool:
			out = append(out, zap.Bool(f.key, v))
		case json.Number:
			if i, err := v.Int64(); err == nil {
				out = append(out, zap.Int64(f.key, i))
			} else {
				fl, _ := v.Float64()
				out = append(out, zap.Float64(f.key, fl))
			}
		default:
			out = append(out, zap.Reflect(f.key, v))
		}
	}
	return out
}

func (o orderedObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, f := range o.fields() {
		f.AddTo(enc)
	}
	return nil
}

type orderedArray []any

func (a orderedArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, v := range a {
		switch v := v.(type) {
		case string:
			enc.AppendString(v)
		case orderedObject:
			if err := enc.AppendObject(v); err != nil {
				return err
			}
		case []any:
			if err := enc.AppendArray(orderedArray(v)); err != nil {
				return err
			}
		case json.Number:
			enc.AppendString(v.String())
		default:
			if err := enc.AppendReflected(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkPrivacyEncoder encodes the access log line of a browser's page
// request through Caddy's own marshalers: the encoder's cost per request.
func BenchmarkPrivacyEncoder(b *testing.B) {
	r := httptest.NewRequest("GET", "http://shop.example/en/shoes/running?q=trail&size=42&gclid=EAIaIQ", nil)
	r.RemoteAddr = "203.0.113.77:51234"
	r.Header = http.Header{
		"User-Agent":                {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		"Accept":                    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Language":           {"en-GB,en;q=0.5"},
		"Accept-Encoding":           {"gzip, deflate, br, zstd"},
		"Cookie":                    {"consent=necessary.analytics; _ga=GA1.1.42"},
		"Referer":                   {"https://news.example/article/12?utm_source=feed"},
		"Sec-Fetch-Dest":            {"document"},
		"Sec-Fetch-Mode":            {"navigate"},
		"Sec-Fetch-Site":            {"cross-site"},
		"Sec-Fetch-User":            {"?1"},
		"Sec-Gpc":                   {"1"},
		"Upgrade-Insecure-Requests": {"1"},
		"Priority":                  {"u=0, i"},
		"X-Forwarded-For":           {"198.51.100.99"},
		"X-Forwarded-Proto":         {"https"},
	}
	resp := http.Header{
		"Content-Type":              {"text/html; charset=utf-8"},
		"Cache-Control":             {"private"},
		"Vary":                      {"Cookie", "Sec-GPC"},
		"Set-Cookie":                {"_ga=GA1.1.42; Max-Age=63072000"},
		"Strict-Transport-Security": {"max-age=63072000"},
		"Etag":                      {`"5e1-abc"`},
	}
	pe := newTestPrivacyEncoder(b, "")
	ent := zapcore.Entry{Level: zapcore.InfoLevel, Time: goldenTime, LoggerName: "http.log.access.log0", Message: "handled request"}
	fields := []zapcore.Field{
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}),
		zap.Int("bytes_read", 0), zap.Duration("duration", time.Millisecond),
		zap.Int("size", 1234), zap.Int("status", 200),
		zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: resp}),
	}
	b.ReportAllocs()
	for b.Loop() {
		buf, err := pe.EncodeEntry(ent, fields)
		if err != nil {
			b.Fatal(err)
		}
		buf.Free()
	}
}

// TestPrivacyEncoderPaths: the request URI of Caddy's access log (an
// absolute-form request keeps its userinfo there), Referer and Location
// headers, and the module's own path fields lose userinfo, path parameters
// and e-mail addresses.
func TestPrivacyEncoderPaths(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RequestURI = "http://alice:S3CRETPW@shop.example/users/alice%40example.com;jsessionid=ABC123?q=1"
	r.RemoteAddr = "203.0.113.77:51234"
	r.Header = http.Header{"Referer": {"https://bob:pw@news.example/to/jane@example.org;jsessionid=ABC123"}}
	resp := http.Header{"Location": {"/account;jsessionid=ABC123/jane%40example.org"}}
	pe := newTestPrivacyEncoder(t, "")
	got := encodeLine(t, pe, zapcore.Entry{Time: goldenTime, Message: "m"}, nil, []zapcore.Field{
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: r}),
		zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: resp}),
		zap.String("path", "/users/jane@example.org;jsessionid=ABC123"),
	})
	for _, want := range []string{
		`"uri":"http://shop.example/users/redacted?q=1"`,
		`"Referer":["https://news.example/to/redacted"]`,
		`"Location":["/account/redacted"]`,
		`"path":"/users/redacted"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("line lacks %s: %s", want, got)
		}
	}
	for _, leak := range []string{"alice", "S3CRETPW", "bob", ":pw", "jane", "example.org", "jsessionid", "ABC123"} {
		if strings.Contains(got, leak) {
			t.Errorf("line holds %q: %s", leak, got)
		}
	}
}

// TestPrivacyHeaderRules: headers known by name, and every other name by
// its words: credentials and personal data dropped, client addresses
// truncated, the headers SREs read kept.
func TestPrivacyHeaderRules(t *testing.T) {
	p := newPrivacyPolicy(24, 48, []string{"X-Client-Addr"}, nil, []string{"X-Site-Secret-Header", "X-Custom"})
	tests := []struct {
		name string
		want rule
	}{
		// Known by name, in any case.
		{"Cookie", ruleDrop},
		{"set-cookie", ruleDrop},
		{"Authorization", ruleDrop},
		{"From", ruleDrop},
		{"X-Custom", ruleDrop},
		{"X-Client-Addr", ruleIP},
		{"x-forwarded-for", ruleIP},
		{"Forwarded", ruleForwarded},
		{"Referer", ruleURI},
		{"Location", ruleURI},
		{"CloudFront-Viewer-Address", ruleIPPort},
		{"cloudfront-viewer-address", ruleIPPort},
		// CDNs' client addresses, listed by vendor.
		{"Fly-Client-IP", ruleIP},
		{"X-Azure-ClientIP", ruleIP},
		{"X-Azure-SocketIP", ruleIP},
		{"X-Vercel-Forwarded-For", ruleIP},
		{"True-Client-IP", ruleIP},
		{"CF-Connecting-IPv6", ruleIP},
		{"CF-Pseudo-IPv4", ruleIP},
		{"Fastly-Client-IP", ruleIP},
		{"X-Cluster-Client-IP", ruleIP},
		{"X-Original-Forwarded-For", ruleIP},
		{"X-ProxyUser-Ip", ruleIP},
		{"X-Envoy-External-Address", ruleIP},
		{"X-AppEngine-User-IP", ruleIP},
		// Addresses by the last word of the name.
		{"DO-Connecting-IP", ruleIP},
		{"X-Nf-Client-Connection-Ip", ruleIP},
		{"X-Real-Client-Ips", ruleIP},
		{"X-Upstream-Addr", ruleIP},
		{"X-Peer-Address", ruleIP},
		{"X-Debug-Forwarded-For", ruleIP},
		// Credentials and personal data by their words.
		{"X-Api-Key", ruleDrop},
		{"Api-Key", ruleDrop},
		{"X-Auth-Token", ruleDrop},
		{"X-Amz-Security-Token", ruleDrop},
		{"X-Session-Id", ruleDrop},
		{"X-Csrftoken", ruleDrop},
		{"X-Xsrf-Token", ruleDrop},
		{"X-Hub-Signature-256", ruleDrop},
		{"Cf-Access-Jwt-Assertion", ruleDrop},
		{"Cf-Access-Client-Secret", ruleDrop},
		{"X-Password", ruleDrop},
		{"X-Forwarded-Client-Cert", ruleDrop},
		{"Cf-Cert-Subject-Dn", ruleDrop},
		{"X-Forwarded-User", ruleDrop},
		{"X-Forwarded-Email", ruleDrop},
		{"Www-Authenticate", ruleDrop},
		{"Sec-Websocket-Key", ruleDrop},
		{"Cookie2", ruleDrop},
		{"CloudFront-Viewer-Latitude", ruleDrop},
		{"CloudFront-Viewer-City", ruleDrop},
		{"CloudFront-Viewer-Postal-Code", ruleDrop},
		{"X-Vercel-IP-City", ruleDrop},
		{"X-Vercel-IP-Longitude", ruleDrop},
		{"Cf-Ipcity", ruleDrop},
		{"Cf-Iplatitude", ruleDrop},
		{"X-AppEngine-CityLatLong", ruleDrop},
		{"X-Akamai-Edgescape", ruleDrop},
		{"X-Nf-Geo", ruleDrop},
		// What an SRE reads stays.
		{"User-Agent", ruleKeep},
		{"Sec-Fetch-User", ruleKeep},
		{"Access-Control-Allow-Credentials", ruleKeep},
		{"Access-Control-Allow-Headers", ruleKeep},
		{"Content-Type", ruleKeep},
		{"Accept-Encoding", ruleKeep},
		{"Accept-Language", ruleKeep},
		{"Cache-Control", ruleKeep},
		{"Keep-Alive", ruleKeep},
		{"Host", ruleKeep},
		{"X-Forwarded-Proto", ruleKeep},
		{"X-Forwarded-Host", ruleKeep},
		{"Vary", ruleKeep},
		{"Sec-Gpc", ruleKeep},
		{"Cf-Ipcountry", ruleKeep},
		{"CloudFront-Viewer-Country", ruleKeep},
		{"X-Request-Id", ruleKeep},
	}
	for _, tt := range tests {
		// Twice: the second answer comes from what the policy learned.
		for range 2 {
			if got := p.headers.rule(tt.name); got != tt.want {
				t.Errorf("headerRule(%q) = %d, want %d", tt.name, got, tt.want)
			}
		}
	}
}

// TestPrivacyLearnedRulesBounded: made-up header names do not grow the
// policy's memory without end, and are still treated once it is full.
func TestPrivacyLearnedRulesBounded(t *testing.T) {
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
	for i := range maxLearnedRules + 100 {
		p.headers.rule(fmt.Sprintf("X-Made-Up-%d", i))
	}
	p.headers.rule("X-" + strings.Repeat("a", maxLearnedNameLength) + "-Token")
	if n := p.headers.learned(); n != maxLearnedRules {
		t.Errorf("%d names learned, want %d", n, maxLearnedRules)
	}
	if got := p.headers.rule("X-Late-Api-Key"); got != ruleDrop {
		t.Errorf("a name past the bound: %d, want drop", got)
	}
	if got := p.headers.rule("X-" + strings.Repeat("a", 2*maxLearnedNameLength) + "-Token"); got != ruleDrop {
		t.Errorf("a long name: %d, want drop", got)
	}
}

// TestPrivacyHeaderRulesConcurrent: clones of one encoder share the
// policy and learn names from several goroutines (run under -race).
func TestPrivacyHeaderRulesConcurrent(t *testing.T) {
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				name := fmt.Sprintf("X-Shared-%d-Token", i%50)
				if p.headers.rule(name) != ruleDrop || p.headers.rule(fmt.Sprintf("X-G%d-%d-Ip", g, i)) != ruleIP {
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
	p := newPrivacyPolicy(24, 48, nil, nil, nil)
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

// TestPrivacyEncoderHeaders encodes CDN and credential headers through
// Caddy's own header marshaler: no address whole, no credential.
func TestPrivacyEncoderHeaders(t *testing.T) {
	h := http.Header{
		"Cloudfront-Viewer-Address": {"2001:db8:abcd:12::77:46532"},
		"Fly-Client-Ip":             {"203.0.113.77"},
		"X-Azure-Clientip":          {"203.0.113.77"},
		"X-Azure-Socketip":          {"198.51.100.99"},
		"X-Vercel-Forwarded-For":    {"203.0.113.77"},
		"Do-Connecting-Ip":          {"not an address"},
		"X-Api-Key":                 {"k3y-0f-th3-s1te"},
		"X-Auth-Token":              {"t0k3n"},
		"X-Forwarded-Email":         {"jane@example.org"},
		"X-Vercel-Ip-Latitude":      {"52.52437"},
		"User-Agent":                {"Mozilla/5.0"},
	}
	pe := newTestPrivacyEncoder(t, "")
	got := encodeLine(t, pe, zapcore.Entry{Time: goldenTime, Message: "m"}, nil,
		[]zapcore.Field{zap.Object("headers", caddyhttp.LoggableHTTPHeader{Header: h})})
	var line struct{ Headers map[string][]string }
	if err := json.Unmarshal([]byte(got), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Cloudfront-Viewer-Address": {"2001:db8:abcd::"},
		"Fly-Client-Ip":             {"203.0.113.0"},
		"X-Azure-Clientip":          {"203.0.113.0"},
		"X-Azure-Socketip":          {"198.51.100.0"},
		"X-Vercel-Forwarded-For":    {"203.0.113.0"},
		"Do-Connecting-Ip":          {""},
		"User-Agent":                {"Mozilla/5.0"},
	}
	if !reflect.DeepEqual(line.Headers, want) {
		t.Errorf("headers\n got %v\nwant %v", line.Headers, want)
	}
}
