package rules

import (
	"encoding/binary"

	wurl "github.com/nlnwa/whatwg-url/url"
)

// AppendKey appends to dst what p's verdicts depend on besides its rules:
// the visitor's consent (categories granted, vendors refused by name,
// categories never deferred), the vendors exempt, the unclassified
// category, and the page URL. Two pages of one rule set with equal keys
// decide every URL and script alike, so the page cache (package pagecache)
// names p by it; a setting added to Classifier must be added here.
func (p *Classifier) AppendKey(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(p.granted))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(p.noDefer))
	dst = appendVendors(dst, p.refused)
	dst = appendVendors(dst, p.exempt)
	if p.unclassifying {
		dst = append(dst, 1, byte(p.unclassified))
	} else {
		dst = append(dst, 0)
	}
	return append(dst, p.pageURL...)
}

// appendVendors appends vs, length first, without its trailing zero words:
// equal sets give equal bytes.
func appendVendors(dst []byte, vs VendorSet) []byte {
	n := len(vs)
	for n > 0 && vs[n-1] == 0 {
		n--
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, w := range vs[:n] {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return dst
}

// AppendState appends to dst what p's verdicts on the rest of a page
// depend on that the page so far has set: its base URL, and whether a URL
// that a later base would move was classified before any. Two points of
// pages under one key with equal states decide what follows alike, so the
// page cache may resume a page at such a point; a field of Classifier that
// a page changes must be added here.
func (p *Classifier) AppendState(dst []byte) []byte {
	var flags byte
	if p.baseSet {
		flags |= 1
	}
	if p.relBefore {
		flags |= 2
	}
	dst = append(dst, flags)
	if p.baseSet && p.base != nil {
		dst = append(dst, p.base.Href(false)...)
	}
	return dst
}

// RestoreState puts p, part way through a page, in the state AppendState
// described at a later place of a page under the same key, and reports
// whether it could: what a page sets is never unset.
func (p *Classifier) RestoreState(state []byte) bool {
	if len(state) == 0 || state[0]&1 == 0 && p.baseSet || state[0]&2 == 0 && p.relBefore {
		return false
	}
	if state[0]&1 != 0 {
		var u *wurl.Url
		if href := state[1:]; len(href) > 0 {
			var err error
			if u, err = urlParser.Parse(string(href)); err != nil {
				return false
			}
		}
		if p.baseSet && !sameURL(p.base, u) {
			return false
		}
		p.baseSet, p.lazy = true, false
		p.setBase(u)
	}
	p.relBefore = state[0]&2 != 0
	return true
}

func sameURL(a, b *wurl.Url) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Href(false) == b.Href(false)
}
