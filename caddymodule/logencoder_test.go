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
