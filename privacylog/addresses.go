package privacylog

import (
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// ip truncates one address; "" when it does not parse.
func (p *Policy) ip(v string) string {
	return TruncateIPPrefix(v, p.v4, p.v6)
}

// ips truncates a comma-separated list of addresses (X-Forwarded-For: client,
// proxy1, proxy2), each with or without port, brackets or zone. RFC 7239's
// "unknown" stays; any other member that is no address becomes "unknown"
// (never passed through: it could be anything). A single address that does
// not parse becomes "".
func (p *Policy) ips(v string) string {
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
func (p *Policy) ipPort(v string) string {
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
func (p *Policy) forwarded(v string) string {
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
func (p *Policy) forwardedNode(v string) string {
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

// Text truncates the peer's address in free text: after "from " (net/http:
// "TLS handshake error from 192.0.2.1:5678", "error reading preface from
// client [2001:db8::1]:5678") and after "->" (net.OpError: "write tcp
// local->peer: broken pipe", the peer of a server connection being the
// client). Other addresses stay: "dial tcp 10.0.0.5:8080: connection
// refused" names the upstream an SRE needs to see.
func (p *Policy) Text(s string) string {
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
