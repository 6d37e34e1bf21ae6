package pagecache

import (
	"encoding/binary"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Policy is a filter policy that can name what its verdicts depend on.
type Policy interface {
	htmlfilter.Policy
	// AppendKey appends to dst bytes that differ whenever two policies of
	// one rule set could decide anything differently: the visitor's
	// consent, the page URL, and any setting of the policy's own.
	AppendKey(dst []byte) []byte
	// AppendState appends to dst bytes that differ whenever the policy,
	// part way through a document, could decide what follows differently
	// from another of the same key: what the document so far has set in
	// it (a base URL). A replay resumes only where they are equal.
	AppendState(dst []byte) []byte
	// RestoreState puts the policy in a state AppendState described at a
	// later place of a document under the same key, and reports whether
	// it could.
	RestoreState(state []byte) bool
}

// Document names one document to filter.
type Document struct {
	// URL names the document within its site (its path and query), so
	// that different documents do not take turns in one entry; the
	// policy's key names the site.
	URL string
	// Version is the origin's strong validator of the document (an
	// ETag), if any: a new version is a new entry, not a divergence.
	Version string
	// Length is the declared length of the document, -1 if unknown: a
	// document declared longer than the cache remembers is never copied.
	Length int64
}

// Key appends to dst the key under which Filter.Reset looks doc up, when
// filtered under policy p and options opt.
func (c *Cache) Key(dst []byte, p Policy, opt htmlfilter.Options, doc Document) []byte {
	return c.appendKey(dst, p, opt, doc)
}

// appendKey names everything the filter's output depends on besides the
// document's bytes: the options that change the output, the policy and the
// document's name. TestKeyNamesEveryOption fails when htmlfilter.Options
// gains a field that is not named here.
func (c *Cache) appendKey(dst []byte, p Policy, opt htmlfilter.Options, doc Document) []byte {
	dst = append(dst, byte(opt.Mode))
	if opt.XML {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(opt.MaxBuffer))
	dst = binary.AppendUvarint(dst, c.dialect(opt.Dialect))
	for _, part := range [][]byte{opt.HeadPrelude, opt.BodyPrelude} {
		dst = binary.AppendUvarint(dst, uint64(len(part)))
		dst = append(dst, part...)
	}
	// opt.OnBlock is not named: a filter that has one is never cached
	// (Filter.Reset), since a replay would not call it.
	for _, part := range []string{doc.URL, doc.Version} {
		dst = binary.AppendUvarint(dst, uint64(len(part)))
		dst = append(dst, part...)
	}
	// Last, so that it needs no length of its own.
	return p.AppendKey(dst)
}
