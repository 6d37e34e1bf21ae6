package caddymodule

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
)

func init() {
	caddy.RegisterModule(PrivacyEncoder{})
}

// PrivacyEncoder is the log encoder caddy.logging.encoders.privacy: it wraps
// another encoder (json by default) and takes personal data out of every
// entry before it is encoded, so that traffic logs cannot identify anyone,
// as the privacy policy promises:
//
//   - IP-bearing fields (remote_ip, client_ip, remote_addr, remote, ip) and
//     headers (X-Forwarded-For, X-Real-IP, Forwarded, CF-Connecting-IP,
//     CloudFront-Viewer-Address, ..., IPHeaders, and any header whose
//     name's last word names an address: logheaders.go) are truncated to
//     their IPv4 /24 and IPv6 /48, IPv4-mapped addresses unmapped first,
//     6to4's embedded IPv4 truncated too; whatever does not parse is
//     replaced;
//   - Cookie, Set-Cookie, Authorization, Proxy-Authorization, From,
//     DropHeaders and every header whose name holds a credential's or a
//     person's word (key, token, session, user, mail, city, ...; see
//     logheaders.go), remote_port, user_id and client certificate names
//     are dropped;
//   - logged URIs and paths (uri, path), Referer and Location lose their
//     userinfo, path parameters, path segments and query parameters that
//     look like e-mail addresses, click identifiers, StripParams, and
//     their fragment;
//   - client addresses in error texts ("from 192.0.2.1:5678", the peer of
//     "write tcp a->b") are truncated.
//
// Caddy's own ip_mask filter is not enough: an unset family logs "<nil>",
// and bracketed, zoned, 6to4 addresses and header lists pass through it.
type PrivacyEncoder struct {
	// The encoder that writes the scrubbed entries: json (the default) or
	// console, or any other.
	WrappedRaw json.RawMessage `json:"wrap,omitempty" caddy:"namespace=caddy.logging.encoders inline_key=format"`
	// IPv4Prefix is how many leading bits of an IPv4 address are kept
	// (default and maximum 24).
	IPv4Prefix int `json:"ipv4_prefix,omitempty"`
	// IPv6Prefix is how many leading bits of an IPv6 address are kept
	// (default and maximum 48).
	IPv6Prefix int `json:"ipv6_prefix,omitempty"`
	// IPHeaders are further request headers that carry client addresses,
	// as comma-separated lists (a CDN's own header, say).
	IPHeaders []string `json:"ip_headers,omitempty"`
	// StripParams are further query parameters taken out of logged URIs
	// and Referers: names, or prefixes ending in '*' ("utm_*").
	StripParams []string `json:"strip_params,omitempty"`
	// DropHeaders are further request or response headers never logged,
	// besides those whose name gives them away as credentials or personal
	// data (logheaders.go): a site's own header named otherwise
	// (X-Shop-Visitor).
	DropHeaders []string `json:"drop_headers,omitempty"`

	// The working encoder, set up by Provision; its methods are the
	// module's zapcore.Encoder.
	zapcore.Encoder `json:"-"`

	policy           *privacyPolicy
	wrapped          zapcore.Encoder
	wrappedIsDefault bool
	ctx              caddy.Context
}

// CaddyModule returns the Caddy module information.
func (PrivacyEncoder) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.logging.encoders.privacy",
		New: func() caddy.Module { return new(PrivacyEncoder) },
	}
}

// Provision fills the defaults and sets up the wrapped encoder.
func (pe *PrivacyEncoder) Provision(ctx caddy.Context) error {
	pe.ctx = ctx
	if pe.IPv4Prefix == 0 {
		pe.IPv4Prefix = defaultIPv4Prefix
	}
	if pe.IPv6Prefix == 0 {
		pe.IPv6Prefix = defaultIPv6Prefix
	}
	if pe.WrappedRaw == nil {
		je := new(logging.JSONEncoder)
		if err := je.Provision(ctx); err != nil {
			return fmt.Errorf("provisioning the json encoder: %w", err)
		}
		pe.wrapped, pe.wrappedIsDefault = je, true
	} else {
		val, err := ctx.LoadModule(pe, "WrappedRaw")
		if err != nil {
			return fmt.Errorf("loading the wrapped log encoder: %w", err)
		}
		pe.wrapped = val.(zapcore.Encoder)
	}
	pe.policy = newPrivacyPolicy(pe.IPv4Prefix, pe.IPv6Prefix, pe.IPHeaders, pe.StripParams, pe.DropHeaders)
	pe.Encoder = newPrivacyEncoder(pe.policy, pe.wrapped)
	return nil
}

// Validate checks the configuration. Prefixes may only be shorter than the
// policy's: a longer one would log what the policy promises not to keep.
func (pe *PrivacyEncoder) Validate() error {
	if pe.IPv4Prefix < 0 || pe.IPv4Prefix > defaultIPv4Prefix {
		return fmt.Errorf("privacy log encoder: ipv4_prefix must be between 0 and %d, got %d", defaultIPv4Prefix, pe.IPv4Prefix)
	}
	if pe.IPv6Prefix < 0 || pe.IPv6Prefix > defaultIPv6Prefix {
		return fmt.Errorf("privacy log encoder: ipv6_prefix must be between 0 and %d, got %d", defaultIPv6Prefix, pe.IPv6Prefix)
	}
	for _, h := range append(slices.Clone(pe.IPHeaders), pe.DropHeaders...) {
		if !httpfield.IsToken(h) {
			return fmt.Errorf("privacy log encoder: invalid header name %q", h)
		}
	}
	return nil
}

// ConfigureDefaultFormat makes the default wrapped encoder console when the
// log goes to a terminal, as Caddy's filter encoder does.
func (pe *PrivacyEncoder) ConfigureDefaultFormat(wo caddy.WriterOpener) error {
	if !pe.wrappedIsDefault {
		if cfd, ok := pe.wrapped.(caddy.ConfiguresFormatterDefault); ok {
			return cfd.ConfigureDefaultFormat(wo)
		}
		return nil
	}
	if !caddy.IsWriterStandardStream(wo) || !stderrIsTerminal() {
		return nil
	}
	ce := new(logging.ConsoleEncoder)
	if err := ce.Provision(pe.ctx); err != nil {
		return fmt.Errorf("provisioning the console encoder: %w", err)
	}
	pe.wrapped = ce
	pe.Encoder = newPrivacyEncoder(pe.policy, pe.wrapped)
	return nil
}

func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// UnmarshalCaddyfile sets up the encoder from Caddyfile tokens. Syntax:
//
//	format privacy {
//	    wrap         <encoder> [<encoder options>]   # default json
//	    ipv4_prefix  <bits>                          # default 24
//	    ipv6_prefix  <bits>                          # default 48
//	    ip_headers   <header>...
//	    strip_params <name|prefix*>...
//	    drop_headers <header>...
//	}
//
// ip_headers, strip_params and drop_headers add to the built-in lists and
// may repeat.
func (pe *PrivacyEncoder) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the encoder name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch opt := d.Val(); opt {
		case "wrap":
			if !d.NextArg() {
				return d.ArgErr()
			}
			name := d.Val()
			id := "caddy.logging.encoders." + name
			unm, err := caddyfile.UnmarshalModule(d, id)
			if err != nil {
				return err
			}
			enc, ok := unm.(zapcore.Encoder)
			if !ok {
				return d.Errf("module %s (%T) is not a zapcore.Encoder", id, unm)
			}
			pe.WrappedRaw = caddyconfig.JSONModuleObject(enc, "format", name, nil)
		case "ipv4_prefix", "ipv6_prefix":
			if !d.NextArg() {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(d.Val())
			if err != nil {
				return d.Errf("%s: %v", opt, err)
			}
			if d.NextArg() {
				return d.ArgErr()
			}
			if opt == "ipv4_prefix" {
				pe.IPv4Prefix = n
			} else {
				pe.IPv6Prefix = n
			}
		case "ip_headers":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			pe.IPHeaders = append(pe.IPHeaders, args...)
		case "strip_params":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			pe.StripParams = append(pe.StripParams, args...)
		case "drop_headers":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			pe.DropHeaders = append(pe.DropHeaders, args...)
		default:
			return d.Errf("unrecognized privacy encoder option %q", opt)
		}
	}
	return nil
}

// privacyPolicy is what the encoder removes, compiled once per config and
// shared by every clone.
type privacyPolicy struct {
	v4, v6  int
	headers *headerRules
	params  *rules.Params
}

// rule is how a field's value is treated.
type rule uint8

const (
	ruleKeep      rule = iota
	ruleDrop           // never logged
	ruleIP             // an address, or a comma-separated list of them
	ruleIPPort         // "address:port", an IPv6 address unbracketed
	ruleForwarded      // an RFC 7239 Forwarded header
	ruleURI            // a URI or path whose parts may identify
	ruleText           // free text (errors) that may name the peer
)

func newPrivacyPolicy(v4, v6 int, extraIPHeaders, extraParams, extraDrop []string) *privacyPolicy {
	return &privacyPolicy{
		v4: v4, v6: v6,
		headers: newHeaderRules(extraIPHeaders, extraDrop),
		params:  rules.Default().Params(extraParams),
	}
}

// fieldRule is the treatment of a field of an entry or of a nested object
// (other than headers) by its key, wherever it is nested: request>remote_ip
// and reverse_proxy's request>remote_ip alike.
func fieldRule(key string) rule {
	switch key {
	case "remote_ip", "client_ip", "remote_addr", "remote", "ip":
		// remote and remote_addr: certmagic's handshake and challenge
		// logs; ip: the TLS remote_ip matcher's debug lines.
		return ruleIP
	case "remote_port", "user_id", "client_common_name", "client_serial":
		// A source port with a time pins a subscriber behind carrier-grade
		// NAT; user_id is the basic-auth user; the others name a client
		// certificate's holder.
		return ruleDrop
	case "uri", "path":
		// path: the module's own lines (r.URL.Path, decoded).
		return ruleURI
	case "error", "errorVerbose", "err", "write_error", "msg":
		return ruleText
	}
	return ruleKeep
}

// isHeaderObject reports whether an object with this key holds header
// fields: request>headers, resp_headers, reverse_proxy's headers.
func isHeaderObject(key string) bool {
	return key == "headers" || key == "resp_headers" || key == "req_headers"
}

// privacyEncoder is the zapcore.Encoder: a scrubber that writes into the
// wrapped encoder.
type privacyEncoder struct {
	scrubber
	wrapped zapcore.Encoder
}

func newPrivacyEncoder(p *privacyPolicy, wrapped zapcore.Encoder) *privacyEncoder {
	return &privacyEncoder{scrubber: scrubber{p: p, enc: wrapped}, wrapped: wrapped}
}

// Clone is zapcore.Encoder's: logger.With adds its fields to a clone, and
// they pass through the scrubber like any other.
func (e *privacyEncoder) Clone() zapcore.Encoder {
	return newPrivacyEncoder(e.p, e.wrapped.Clone())
}

// EncodeEntry scrubs the entry's fields into a clone of the wrapped encoder
// (adding them to e.wrapped itself would keep them for the next entry, see
// Caddy's filter encoder and uber-go/zap#750) and encodes it.
func (e *privacyEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	c := e.wrapped.Clone()
	s := scrubber{p: e.p, enc: c}
	for _, f := range fields {
		f.AddTo(&s)
	}
	// net/http's own error lines (logger http.stdlib) name the client in
	// the message: "http: TLS handshake error from 192.0.2.1:5678: EOF".
	ent.Message = e.p.text(ent.Message)
	return c.EncodeEntry(ent, nil)
}

// scope is what kind of object the fields being added belong to.
type scope uint8

const (
	scopeFields  scope = iota // an entry, or an object such as request
	scopeHeaders              // an http.Header: keys are header names
)

// scrubber is a zapcore.ObjectEncoder that treats each field by its key and
// scope and adds what may be logged to enc.
type scrubber struct {
	p     *privacyPolicy
	enc   zapcore.ObjectEncoder
	scope scope
}

func (s *scrubber) rule(key string) rule {
	if s.scope == scopeHeaders {
		return s.p.headers.rule(key)
	}
	return fieldRule(key)
}

// apply treats one string value under r.
func (p *privacyPolicy) apply(r rule, v string) string {
	switch r {
	case ruleIP:
		return p.ips(v)
	case ruleIPPort:
		return p.ipPort(v)
	case ruleForwarded:
		return p.forwarded(v)
	case ruleURI:
		return p.uri(v)
	case ruleText:
		return p.text(v)
	}
	return v
}

// keepsScalar reports whether a non-string value under key may be logged:
// an address or URI as a number or a time is nothing we can read, so it
// goes.
func (s *scrubber) keepsScalar(key string) bool {
	r := s.rule(key)
	return r == ruleKeep || r == ruleText
}

// AddString is part of zapcore.ObjectEncoder.
func (s *scrubber) AddString(key, v string) {
	r := s.rule(key)
	if r == ruleDrop {
		return
	}
	s.enc.AddString(key, s.p.apply(r, v))
}

// AddByteString is part of zapcore.ObjectEncoder.
func (s *scrubber) AddByteString(key string, v []byte) {
	switch r := s.rule(key); r {
	case ruleDrop:
	case ruleKeep:
		s.enc.AddByteString(key, v)
	default:
		s.enc.AddString(key, s.p.apply(r, string(v)))
	}
}

// AddArray is part of zapcore.ObjectEncoder. Header values are arrays.
func (s *scrubber) AddArray(key string, m zapcore.ArrayMarshaler) error {
	switch r := s.rule(key); r {
	case ruleDrop:
		return nil
	case ruleKeep:
		return s.enc.AddArray(key, scrubArray{p: s.p, m: m})
	default:
		vals, err := arrayStrings(m)
		if err != nil {
			return err
		}
		for i, v := range vals {
			vals[i] = s.p.apply(r, v)
		}
		return s.enc.AddArray(key, stringArray(vals))
	}
}

// AddObject is part of zapcore.ObjectEncoder.
func (s *scrubber) AddObject(key string, m zapcore.ObjectMarshaler) error {
	if s.rule(key) != ruleKeep {
		// An address or a credential as an object: nothing we can read
		// and rewrite safely.
		return nil
	}
	child := scopeFields
	if s.scope == scopeFields && isHeaderObject(key) {
		child = scopeHeaders
	}
	return s.enc.AddObject(key, scrubObject{p: s.p, m: m, scope: child})
}

// AddReflected is part of zapcore.ObjectEncoder.
func (s *scrubber) AddReflected(key string, v any) error {
	r := s.rule(key)
	switch r {
	case ruleKeep:
		return s.enc.AddReflected(key, v)
	case ruleDrop:
		return nil
	}
	switch v := v.(type) {
	case string:
		s.enc.AddString(key, s.p.apply(r, v))
	case fmt.Stringer:
		s.enc.AddString(key, s.p.apply(r, v.String()))
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = s.p.apply(r, x)
		}
		return s.enc.AddArray(key, stringArray(out))
	}
	// Anything else under an address or URI key cannot be read: dropped.
	return nil
}

// OpenNamespace is part of zapcore.ObjectEncoder.
func (s *scrubber) OpenNamespace(key string) { s.enc.OpenNamespace(key) }

// AddBinary is part of zapcore.ObjectEncoder.
func (s *scrubber) AddBinary(key string, v []byte) {
	if s.keepsScalar(key) {
		s.enc.AddBinary(key, v)
	}
}

// AddBool is part of zapcore.ObjectEncoder.
func (s *scrubber) AddBool(key string, v bool) {
	if s.keepsScalar(key) {
		s.enc.AddBool(key, v)
	}
}

// AddComplex128 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddComplex128(key string, v complex128) {
	if s.keepsScalar(key) {
		s.enc.AddComplex128(key, v)
	}
}

// AddComplex64 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddComplex64(key string, v complex64) {
	if s.keepsScalar(key) {
		s.enc.AddComplex64(key, v)
	}
}

// AddDuration is part of zapcore.ObjectEncoder.
func (s *scrubber) AddDuration(key string, v time.Duration) {
	if s.keepsScalar(key) {
		s.enc.AddDuration(key, v)
	}
}

// AddFloat64 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddFloat64(key string, v float64) {
	if s.keepsScalar(key) {
		s.enc.AddFloat64(key, v)
	}
}

// AddFloat32 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddFloat32(key string, v float32) {
	if s.keepsScalar(key) {
		s.enc.AddFloat32(key, v)
	}
}

// AddInt is part of zapcore.ObjectEncoder.
func (s *scrubber) AddInt(key string, v int) {
	if s.keepsScalar(key) {
		s.enc.AddInt(key, v)
	}
}

// AddInt64 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddInt64(key string, v int64) {
	if s.keepsScalar(key) {
		s.enc.AddInt64(key, v)
	}
}

// AddInt32 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddInt32(key string, v int32) {
	if s.keepsScalar(key) {
		s.enc.AddInt32(key, v)
	}
}

// AddInt16 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddInt16(key string, v int16) {
	if s.keepsScalar(key) {
		s.enc.AddInt16(key, v)
	}
}

// AddInt8 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddInt8(key string, v int8) {
	if s.keepsScalar(key) {
		s.enc.AddInt8(key, v)
	}
}

// AddTime is part of zapcore.ObjectEncoder.
func (s *scrubber) AddTime(key string, v time.Time) {
	if s.keepsScalar(key) {
		s.enc.AddTime(key, v)
	}
}

// AddUint is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUint(key string, v uint) {
	if s.keepsScalar(key) {
		s.enc.AddUint(key, v)
	}
}

// AddUint64 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUint64(key string, v uint64) {
	if s.keepsScalar(key) {
		s.enc.AddUint64(key, v)
	}
}

// AddUint32 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUint32(key string, v uint32) {
	if s.keepsScalar(key) {
		s.enc.AddUint32(key, v)
	}
}

// AddUint16 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUint16(key string, v uint16) {
	if s.keepsScalar(key) {
		s.enc.AddUint16(key, v)
	}
}

// AddUint8 is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUint8(key string, v uint8) {
	if s.keepsScalar(key) {
		s.enc.AddUint8(key, v)
	}
}

// AddUintptr is part of zapcore.ObjectEncoder.
func (s *scrubber) AddUintptr(key string, v uintptr) {
	if s.keepsScalar(key) {
		s.enc.AddUintptr(key, v)
	}
}

// scrubObject marshals a nested object through a scrubber, so that its
// fields are treated like the entry's, wherever they are nested.
type scrubObject struct {
	p     *privacyPolicy
	m     zapcore.ObjectMarshaler
	scope scope
}

func (o scrubObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.m.MarshalLogObject(&scrubber{p: o.p, enc: enc, scope: o.scope})
}

// scrubArray marshals an array whose objects are scrubbed.
type scrubArray struct {
	p *privacyPolicy
	m zapcore.ArrayMarshaler
}

func (a scrubArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	return a.m.MarshalLogArray(arrayScrubber{ArrayEncoder: enc, p: a.p})
}

// arrayScrubber passes array elements on, objects and arrays through the
// scrubber.
type arrayScrubber struct {
	zapcore.ArrayEncoder
	p *privacyPolicy
}

func (a arrayScrubber) AppendObject(m zapcore.ObjectMarshaler) error {
	return a.ArrayEncoder.AppendObject(scrubObject{p: a.p, m: m})
}

func (a arrayScrubber) AppendArray(m zapcore.ArrayMarshaler) error {
	return a.ArrayEncoder.AppendArray(scrubArray{p: a.p, m: m})
}

// arrayStrings reads an array of strings (header values) back out of its
// marshaler; anything that is not a string is formatted.
func arrayStrings(m zapcore.ArrayMarshaler) ([]string, error) {
	me := zapcore.NewMapObjectEncoder()
	if err := me.AddArray("v", m); err != nil {
		return nil, err
	}
	vals, _ := me.Fields["v"].([]any)
	out := make([]string, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = s
		} else {
			out[i] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// stringArray logs as an array of strings.
type stringArray []string

func (a stringArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, s := range a {
		enc.AppendString(s)
	}
	return nil
}

// ip truncates one address; "" when it does not parse.
func (p *privacyPolicy) ip(v string) string {
	return truncateIPPrefix(v, p.v4, p.v6)
}

// ips truncates a comma-separated list of addresses (X-Forwarded-For: client,
// proxy1, proxy2), each with or without port, brackets or zone. RFC 7239's
// "unknown" stays; any other member that is no address becomes "unknown"
// (never passed through: it could be anything). A single address that does
// not parse becomes "".
func (p *privacyPolicy) ips(v string) string {
	if !strings.Contains(v, ",") {
		if strings.EqualFold(strings.TrimSpace(v), "unknown") {
			return "unknown"
		}
		return p.ip(v)
	}
	var b strings.Builder
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		t := p.ip(item)
		if t == "" {
			t = "unknown"
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t)
	}
	return b.String()
}

// ipPort truncates an address followed by its port, with an IPv6 address
// unbracketed as CloudFront writes it ("2001:db8::1:46532"): the last ':'
// and the digits after it go before the address is read. Read whole, the
// port would shift the groups after a "::" into the kept prefix. A value
// without a port is read as it is; one that does not parse becomes "".
func (p *privacyPolicy) ipPort(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, ':'); i > 0 && isDigits(v[i+1:]) {
		if t := p.ip(v[:i]); t != "" {
			return t
		}
	}
	return p.ip(v)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// forwarded rewrites an RFC 7239 Forwarded header: the for= and by= nodes
// truncated (IPv6 as "[addr]", quoted, §6), host= and proto= kept when
// well-formed, every other parameter dropped (an extension's value could be
// anything). Members that do not parse go; nothing is passed through
// unread.
func (p *privacyPolicy) forwarded(v string) string {
	var b strings.Builder
	for _, elem := range httpfield.SplitQuoted(v, ',') {
		n := 0
		for _, pair := range httpfield.SplitQuoted(elem, ';') {
			name, val, ok := strings.Cut(pair, "=")
			if !ok {
				continue
			}
			name = strings.ToLower(strings.TrimSpace(name))
			val = strings.TrimSpace(val)
			switch name {
			case "for", "by":
				val = p.forwardedNode(val)
			case "host", "proto":
				if !plainForwardedValue(val) {
					continue
				}
			default:
				continue
			}
			switch {
			case n > 0:
				b.WriteByte(';')
			case b.Len() > 0:
				b.WriteString(", ")
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(val)
			n++
		}
	}
	return b.String()
}

// forwardedNode truncates a Forwarded node (RFC 7239 §6): "unknown",
// obfuscated identifiers (§6.3: a pseudonym may still single a client
// out) and anything unparseable become unknown.
func (p *privacyPolicy) forwardedNode(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
	}
	t := p.ip(v)
	switch {
	case t == "":
		return "unknown"
	case strings.Contains(t, ":"):
		return `"[` + t + `]"`
	}
	return t
}

// plainForwardedValue accepts a host or proto value made of host and
// scheme characters only, quoted or not: no quote, separator or escape
// that could carry the rest of the header along.
func plainForwardedValue(v string) bool {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-_:[]+", c) >= 0) {
			return false
		}
	}
	return true
}

// text truncates the peer's address in free text: after "from " (net/http:
// "TLS handshake error from 192.0.2.1:5678", "error reading preface from
// client [2001:db8::1]:5678") and after "->" (net.OpError: "write tcp
// local->peer: broken pipe", the peer of a server connection being the
// client). Other addresses stay: "dial tcp 10.0.0.5:8080: connection
// refused" names the upstream an SRE needs to see.
func (p *privacyPolicy) text(s string) string {
	if !strings.Contains(s, "->") && !strings.Contains(s, "from ") {
		return s
	}
	var b strings.Builder
	copied := 0
	for pos := 0; pos < len(s); {
		start := nextPeer(s, pos)
		if start < 0 {
			break
		}
		end := start
		for end < len(s) && isAddrChar(s[end]) {
			end++
		}
		tok := s[start:end]
		t := p.ip(tok)
		if t == "" {
			// "192.0.2.1:5678:" before the error text, or a sentence's
			// final dot.
			tok = strings.TrimRight(tok, ":.")
			t = p.ip(tok)
		}
		if t == "" {
			// Not an address ("from client", "from upstream"): look for
			// the next marker from here, which may be inside the word.
			pos = start
			continue
		}
		b.WriteString(s[copied:start])
		if strings.Contains(t, ":") {
			// Bracketed, so that "2001:db8::" followed by ": EOF" reads
			// as an address and a message.
			t = "[" + t + "]"
		}
		b.WriteString(t)
		copied = start + len(tok)
		pos = end
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// nextPeer returns where the next peer address may start at or after pos,
// or -1.
func nextPeer(s string, pos int) int {
	rest := s[pos:]
	i := strings.Index(rest, "->")
	j := strings.Index(rest, "from ")
	switch {
	case i < 0 && j < 0:
		return -1
	case j < 0 || i >= 0 && i < j:
		return pos + i + len("->")
	}
	start := pos + j + len("from ")
	if strings.HasPrefix(s[start:], "client ") {
		start += len("client ")
	}
	return start
}

// isAddrChar reports whether c may be part of an address with port, zone or
// brackets.
func isAddrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".:[]%_-", c) >= 0
}

// Interface guards
var (
	_ zapcore.Encoder                  = (*PrivacyEncoder)(nil)
	_ zapcore.Encoder                  = (*privacyEncoder)(nil)
	_ zapcore.ObjectEncoder            = (*scrubber)(nil)
	_ zapcore.ObjectMarshaler          = scrubObject{}
	_ zapcore.ArrayMarshaler           = scrubArray{}
	_ caddy.Provisioner                = (*PrivacyEncoder)(nil)
	_ caddy.Validator                  = (*PrivacyEncoder)(nil)
	_ caddy.ConfiguresFormatterDefault = (*PrivacyEncoder)(nil)
	_ caddyfile.Unmarshaler            = (*PrivacyEncoder)(nil)
)
