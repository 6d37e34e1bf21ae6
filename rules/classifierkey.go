package rules

import "encoding/binary"

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
