package consent

import (
	"encoding/base64"
	"errors"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// TCString is the decoded core segment of an IAB TCF v2 consent string
// (the euconsent-v2 cookie): IAB Tech Lab, "Consent string and vendor list
// formats v2", core segment. Only what consent decisions need is kept.
type TCString struct {
	Version           int
	CmpID             int
	CmpVersion        int
	VendorListVersion int
	TcfPolicyVersion  int
	IsServiceSpecific bool
	SpecialFeatures   uint16 // bit i-1 = special feature i opted in
	Purposes          uint32 // bit i-1 = consent to purpose i (1..24)
	PurposesLI        uint32 // bit i-1 = legitimate interest established for purpose i
	PurposeOneTreat   bool
	PublisherCC       string

	vendors   vendorSet // vendor consents
	vendorsLI vendorSet // vendor legitimate interests
}

// Purpose reports consent to purpose p (1..24).
func (t *TCString) Purpose(p int) bool {
	return p >= 1 && p <= 24 && t.Purposes&(1<<(p-1)) != 0
}

// VendorConsent reports consent to vendor id (Google is 755).
func (t *TCString) VendorConsent(id int) bool { return t.vendors.has(id) }

// VendorLI reports a legitimate interest established for vendor id.
func (t *TCString) VendorLI(id int) bool { return t.vendorsLI.has(id) }

// vendorSet is a vendor section: a bit field, or ranges.
type vendorSet struct {
	bits   []byte // bit field: bit (id-1), most significant bit first
	max    int
	ranges [][2]int // inclusive
}

func (v vendorSet) has(id int) bool {
	if id < 1 || id > v.max {
		return false
	}
	if v.bits != nil {
		i := id - 1
		return v.bits[i/8]&(0x80>>(i%8)) != 0
	}
	for _, r := range v.ranges {
		if r[0] <= id && id <= r[1] {
			return true
		}
	}
	return false
}

// maxTCString bounds the input: a full vendor bit field of every vendor
// ever registered is a few KiB in base64.
const maxTCString = 16 << 10

// maxVendorRanges bounds the entries of a range section (each is at most 33
// bits; more than the string can hold is malformed anyway).
const maxVendorRanges = 4096

var errTC = errors.New("malformed tc string")

// ParseTCString decodes the core segment of a TC string. Any structural
// error (wrong version, truncated fields, ranges out of order or past
// MaxVendorId) fails the whole string: a malformed signal grants nothing.
func ParseTCString(s string) (*TCString, error) {
	if len(s) > maxTCString {
		return nil, errTC
	}
	core, _, _ := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(core)
	if err != nil {
		// Some CMPs pad; the spec says not to, the readers accept it.
		if raw, err = base64.URLEncoding.DecodeString(core); err != nil {
			return nil, errTC
		}
	}
	b := bitReader{buf: raw}
	t := &TCString{}
	t.Version = b.int(6)
	if t.Version != 2 {
		return nil, errTC
	}
	b.skip(36 + 36) // Created, LastUpdated
	t.CmpID = b.int(12)
	t.CmpVersion = b.int(12)
	b.skip(6 + 12) // ConsentScreen, ConsentLanguage
	t.VendorListVersion = b.int(12)
	t.TcfPolicyVersion = b.int(6)
	t.IsServiceSpecific = b.int(1) == 1
	b.skip(1) // UseNonStandardTexts
	t.SpecialFeatures = uint16(b.rev(12))
	t.Purposes = uint32(b.rev(24))
	t.PurposesLI = uint32(b.rev(24))
	t.PurposeOneTreat = b.int(1) == 1
	cc := b.int(12)
	t.PublisherCC = string([]byte{byte('A' + cc>>6&63), byte('A' + cc&63)})
	if t.vendors, err = b.vendorSection(); err != nil {
		return nil, err
	}
	if t.vendorsLI, err = b.vendorSection(); err != nil {
		return nil, err
	}
	// Publisher restrictions: read to validate the segment's structure.
	n := b.int(12)
	for range n {
		b.skip(6 + 2)
		if _, err := b.ranges(1 << 16); err != nil {
			return nil, err
		}
	}
	if b.err {
		return nil, errTC
	}
	return t, nil
}

// bitReader reads big-endian bit fields; reading past the end sets err.
type bitReader struct {
	buf []byte
	pos int
	err bool
}

func (b *bitReader) int(n int) int {
	if b.pos+n > len(b.buf)*8 {
		b.err = true
		b.pos = len(b.buf) * 8
		return 0
	}
	v := 0
	for range n {
		v = v<<1 | int(b.buf[b.pos/8]>>(7-b.pos%8)&1)
		b.pos++
	}
	return v
}

// rev reads n bits into an int whose bit 0 is the first bit read (the TCF's
// bit i = item i+1).
func (b *bitReader) rev(n int) int {
	v := 0
	for i := range n {
		v |= b.int(1) << i
	}
	return v
}

func (b *bitReader) skip(n int) {
	if b.pos+n > len(b.buf)*8 {
		b.err = true
		b.pos = len(b.buf) * 8
		return
	}
	b.pos += n
}

// vendorSection reads MaxVendorId, IsRangeEncoding and the bit field or
// range entries.
func (b *bitReader) vendorSection() (vendorSet, error) {
	var v vendorSet
	v.max = b.int(16)
	if b.int(1) == 0 {
		v.bits = make([]byte, (v.max+7)/8)
		for i := 0; i < v.max; i++ {
			if b.int(1) == 1 {
				v.bits[i/8] |= 0x80 >> (i % 8)
			}
		}
	} else {
		rs, err := b.ranges(v.max)
		if err != nil {
			return v, err
		}
		v.ranges = rs
	}
	if b.err {
		return v, errTC
	}
	return v, nil
}

// ranges reads NumEntries and the entries of a range section; ids must lie
// in 1..max with start <= end.
func (b *bitReader) ranges(max int) ([][2]int, error) {
	n := b.int(12)
	if n > maxVendorRanges || b.err {
		return nil, errTC
	}
	out := make([][2]int, 0, n)
	for range n {
		isRange := b.int(1) == 1
		start := b.int(16)
		end := start
		if isRange {
			end = b.int(16)
		}
		if b.err || start < 1 || end < start || end > max {
			return nil, errTC
		}
		out = append(out, [2]int{start, end})
	}
	return out, nil
}

// tcfCategories maps TCF purposes to our categories. Purpose 1
// (store and access information on a device) underlies every cookie, so no
// category is granted without it; a category needs consent to every
// purpose it stands for (fail closed: a visitor who refused "measure ad
// performance" has not agreed to analytics as a whole).
var tcfCategories = []struct {
	cat      rules.Category
	purposes []int
}{
	{rules.Analytics, []int{7, 8, 9, 10}},
	{rules.Advertising, []int{2, 3, 4}},
	{rules.Functional, []int{5, 6, 11}},
}

// tcfStated is what a TC string says about our canonical categories: every
// one is granted or denied.
func tcfStated(t *TCString) (grant, deny rules.Set) {
	for _, m := range tcfCategories {
		ok := t.Purpose(1)
		for _, p := range m.purposes {
			ok = ok && t.Purpose(p)
		}
		if ok {
			grant = grant.With(m.cat)
		} else {
			deny = deny.With(m.cat)
		}
	}
	return grant, deny
}
