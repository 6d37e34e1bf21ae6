// Package privacylog is the privacy policy of consentedge's traffic logs:
// what may identify a visitor and is taken out of a log entry before it is
// written. Addresses are truncated (IPv4 to /24, IPv6 to /48), credentials
// and personal headers dropped, URIs scrubbed of e-mail addresses, click
// ids and configured parameters, and peers named in error texts truncated.
//
// It decides on field keys, header names and string values only; walking a
// logger's fields (the caddy.logging.encoders.privacy module, zapcore) is
// the caller's. It imports nothing of Caddy or zap.
package privacylog

import "github.com/consentedge/consentedge/rules"

// Policy is what is taken out of log entries, compiled once per
// configuration and safe for concurrent use (header rules learned from new
// names are published atomically).
type Policy struct {
	v4, v6  int
	headers *headerRules
	params  *rules.Params
}

// Rule is how a field's value is treated.
type Rule uint8

// The treatments.
const (
	RuleKeep      Rule = iota
	RuleDrop           // never logged
	RuleIP             // an address, or a comma-separated list of them
	RuleIPPort         // "address:port", an IPv6 address unbracketed
	RuleForwarded      // an RFC 7239 Forwarded header
	RuleURI            // a URI or path whose parts may identify
	RuleText           // free text (errors) that may name the peer
)

// NewPolicy compiles the policy: addresses keep v4 and v6 leading bits,
// extraIPHeaders are further headers holding address lists, extraParams
// further query parameters stripped from URIs (names, or prefixes ending in
// '*'), extraDrop further headers never logged.
func NewPolicy(v4, v6 int, extraIPHeaders, extraParams, extraDrop []string) *Policy {
	return &Policy{
		v4: v4, v6: v6,
		headers: newHeaderRules(extraIPHeaders, extraDrop),
		params:  rules.Default().Params(extraParams),
	}
}

// HeaderRule is the treatment of a header field by its name, in any case.
func (p *Policy) HeaderRule(name string) Rule { return p.headers.rule(name) }

// FieldRule is the treatment of a field of an entry or of a nested object
// (other than headers) by its key, wherever it is nested: request>remote_ip
// and reverse_proxy's request>remote_ip alike.
func FieldRule(key string) Rule {
	switch key {
	case "remote_ip", "client_ip", "remote_addr", "remote", "ip":
		// remote and remote_addr: certmagic's handshake and challenge
		// logs; ip: the TLS remote_ip matcher's debug lines.
		return RuleIP
	case "remote_port", "user_id", "client_common_name", "client_serial":
		// A source port with a time pins a subscriber behind carrier-grade
		// NAT; user_id is the basic-auth user; the others name a client
		// certificate's holder.
		return RuleDrop
	case "uri", "path":
		// path: the module's own lines (r.URL.Path, decoded).
		return RuleURI
	case "error", "errorVerbose", "err", "write_error", "msg":
		return RuleText
	}
	return RuleKeep
}

// IsHeaderObject reports whether an object with this key holds header
// fields: request>headers, resp_headers, reverse_proxy's headers.
func IsHeaderObject(key string) bool {
	return key == "headers" || key == "resp_headers" || key == "req_headers"
}

// Apply treats one string value under r.
func (p *Policy) Apply(r Rule, v string) string {
	switch r {
	case RuleIP:
		return p.ips(v)
	case RuleIPPort:
		return p.ipPort(v)
	case RuleForwarded:
		return p.forwarded(v)
	case RuleURI:
		return p.uri(v)
	case RuleText:
		return p.Text(v)
	}
	return v
}
