package caddymodule

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/logging"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/privacylog"
)

func init() {
	caddy.RegisterModule(PrivacyEncoder{})
}

// PrivacyEncoder is the log encoder caddy.logging.encoders.privacy: it wraps
// another encoder (json by default) and takes personal data out of every
// entry before it is encoded, so that traffic logs cannot identify anyone,
// as a privacy policy of the common kind promises:
//
//   - IP-bearing fields (remote_ip, client_ip, remote_addr, remote, ip) and
//     headers (X-Forwarded-For, X-Real-IP, Forwarded, CF-Connecting-IP,
//     CloudFront-Viewer-Address, ..., IPHeaders, and any header whose
//     name's last word names an address: privacylog) are truncated to
//     their IPv4 /24 and IPv6 /48, IPv4-mapped addresses unmapped first,
//     6to4's embedded IPv4 truncated too; whatever does not parse is
//     replaced;
//   - Cookie, Set-Cookie, Authorization, Proxy-Authorization, From,
//     DropHeaders and every header whose name holds a credential's or a
//     person's word (key, token, session, user, mail, city, ...; see
//     privacylog), remote_port, user_id and client certificate names
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
	// data (privacylog): a site's own header named otherwise
	// (X-Shop-Visitor).
	DropHeaders []string `json:"drop_headers,omitempty"`

	// The working encoder, set up by Provision; its methods are the
	// module's zapcore.Encoder.
	zapcore.Encoder `json:"-"`

	policy           *privacylog.Policy
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
		pe.IPv4Prefix = privacylog.DefaultIPv4Prefix
	}
	if pe.IPv6Prefix == 0 {
		pe.IPv6Prefix = privacylog.DefaultIPv6Prefix
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
	pe.policy = privacylog.NewPolicy(pe.IPv4Prefix, pe.IPv6Prefix, pe.IPHeaders, pe.StripParams, pe.DropHeaders)
	pe.Encoder = newPrivacyEncoder(pe.policy, pe.wrapped)
	return nil
}

// Validate checks the configuration. Prefixes may only be shorter than the
// policy's: a longer one would log what the policy promises not to keep.
func (pe *PrivacyEncoder) Validate() error {
	if pe.IPv4Prefix < 0 || pe.IPv4Prefix > privacylog.DefaultIPv4Prefix {
		return fmt.Errorf("privacy log encoder: ipv4_prefix must be between 0 and %d, got %d", privacylog.DefaultIPv4Prefix, pe.IPv4Prefix)
	}
	if pe.IPv6Prefix < 0 || pe.IPv6Prefix > privacylog.DefaultIPv6Prefix {
		return fmt.Errorf("privacy log encoder: ipv6_prefix must be between 0 and %d, got %d", privacylog.DefaultIPv6Prefix, pe.IPv6Prefix)
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
		var err error
		switch opt := d.Val(); opt {
		case "wrap":
			err = pe.unmarshalWrap(d)
		case "ipv4_prefix":
			err = unmarshalPrefix(d, &pe.IPv4Prefix)
		case "ipv6_prefix":
			err = unmarshalPrefix(d, &pe.IPv6Prefix)
		case "ip_headers":
			err = appendArgs(d, &pe.IPHeaders)
		case "strip_params":
			err = appendArgs(d, &pe.StripParams)
		case "drop_headers":
			err = appendArgs(d, &pe.DropHeaders)
		default:
			err = d.Errf("unrecognized privacy encoder option %q", opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unmarshalWrap reads `wrap <encoder> [{ ... }]`: the log encoder module
// the scrubbed entries are written with.
func (pe *PrivacyEncoder) unmarshalWrap(d *caddyfile.Dispenser) error {
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
	return nil
}

// unmarshalPrefix reads an option's one integer argument into n.
func unmarshalPrefix(d *caddyfile.Dispenser, n *int) error {
	opt := d.Val()
	if !d.NextArg() {
		return d.ArgErr()
	}
	v, err := strconv.Atoi(d.Val())
	if err != nil {
		return d.Errf("%s: %v", opt, err)
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	*n = v
	return nil
}

// appendArgs appends an option's arguments, at least one, to list.
func appendArgs(d *caddyfile.Dispenser, list *[]string) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	*list = append(*list, args...)
	return nil
}

// privacyEncoder is the zapcore.Encoder: a scrubber that writes into the
// wrapped encoder.
type privacyEncoder struct {
	scrubber
	wrapped zapcore.Encoder
}

func newPrivacyEncoder(p *privacylog.Policy, wrapped zapcore.Encoder) *privacyEncoder {
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
	ent.Message = e.p.Text(ent.Message)
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
	p     *privacylog.Policy
	enc   zapcore.ObjectEncoder
	scope scope
}

func (s *scrubber) rule(key string) privacylog.Rule {
	if s.scope == scopeHeaders {
		return s.p.HeaderRule(key)
	}
	return privacylog.FieldRule(key)
}

// keepsScalar reports whether a non-string value under key may be logged:
// an address or URI as a number or a time is nothing we can read, so it
// goes.
func (s *scrubber) keepsScalar(key string) bool {
	r := s.rule(key)
	return r == privacylog.RuleKeep || r == privacylog.RuleText
}

// AddString is part of zapcore.ObjectEncoder.
func (s *scrubber) AddString(key, v string) {
	r := s.rule(key)
	if r == privacylog.RuleDrop {
		return
	}
	s.enc.AddString(key, s.p.Apply(r, v))
}

// AddByteString is part of zapcore.ObjectEncoder.
func (s *scrubber) AddByteString(key string, v []byte) {
	switch r := s.rule(key); r {
	case privacylog.RuleDrop:
	case privacylog.RuleKeep:
		s.enc.AddByteString(key, v)
	default:
		s.enc.AddString(key, s.p.Apply(r, string(v)))
	}
}

// AddArray is part of zapcore.ObjectEncoder. Header values are arrays.
func (s *scrubber) AddArray(key string, m zapcore.ArrayMarshaler) error {
	switch r := s.rule(key); r {
	case privacylog.RuleDrop:
		return nil
	case privacylog.RuleKeep:
		return s.enc.AddArray(key, scrubArray{p: s.p, m: m})
	default:
		vals, err := arrayStrings(m)
		if err != nil {
			return err
		}
		for i, v := range vals {
			vals[i] = s.p.Apply(r, v)
		}
		return s.enc.AddArray(key, stringArray(vals))
	}
}

// AddObject is part of zapcore.ObjectEncoder.
func (s *scrubber) AddObject(key string, m zapcore.ObjectMarshaler) error {
	if s.rule(key) != privacylog.RuleKeep {
		// An address or a credential as an object: nothing we can read
		// and rewrite safely.
		return nil
	}
	child := scopeFields
	if s.scope == scopeFields && privacylog.IsHeaderObject(key) {
		child = scopeHeaders
	}
	return s.enc.AddObject(key, scrubObject{p: s.p, m: m, scope: child})
}

// AddReflected is part of zapcore.ObjectEncoder.
func (s *scrubber) AddReflected(key string, v any) error {
	r := s.rule(key)
	switch r {
	case privacylog.RuleKeep:
		return s.enc.AddReflected(key, v)
	case privacylog.RuleDrop:
		return nil
	}
	switch v := v.(type) {
	case string:
		s.enc.AddString(key, s.p.Apply(r, v))
	case fmt.Stringer:
		s.enc.AddString(key, s.p.Apply(r, v.String()))
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = s.p.Apply(r, x)
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
	p     *privacylog.Policy
	m     zapcore.ObjectMarshaler
	scope scope
}

func (o scrubObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.m.MarshalLogObject(&scrubber{p: o.p, enc: enc, scope: o.scope})
}

// scrubArray marshals an array whose objects are scrubbed.
type scrubArray struct {
	p *privacylog.Policy
	m zapcore.ArrayMarshaler
}

func (a scrubArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	return a.m.MarshalLogArray(arrayScrubber{ArrayEncoder: enc, p: a.p})
}

// arrayScrubber passes array elements on, objects and arrays through the
// scrubber.
type arrayScrubber struct {
	zapcore.ArrayEncoder
	p *privacylog.Policy
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
