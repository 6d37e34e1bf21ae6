package rules

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Path rules: a vendor's loader or collector recognised by its path on any
// host, first-party included. Tags served from a site's own subdomain
// (Google's server-side Tag Manager at sgtm.shop.example/gtm.js?id=GTM-…,
// a Segment custom domain) keep the vendor's paths and ids, and those are
// what names them.
//
// A rule is written "/<path>[?<param prefix>]": it matches a URL whose
// canonical path (pathform.go) ends with <path> at a segment boundary
// ("/g/collect" matches /g/collect, /g//collect/ and /x/g/collect, not
// /xg/collect) and, when a parameter prefix is given, whose query has a
// parameter starting with it ("id=gtm-"), ASCII case-insensitively. A
// segment "*" matches any one segment: a key in the middle of a loader's
// path (/analytics.js/v1/*/analytics.min.js); the last segment is always
// literal. Host rules come first: a path rule decides only for hosts no rule
// names. Rules are filed under the path's last segment, so a URL costs one
// map lookup whatever the number of rules.

// pathRule is one path rule, filed under the last segment of its path.
type pathRule struct {
	path   string // the path's end, from a '/', lowercase
	param  string // a query parameter's prefix, lowercase; "" = any query
	vendor int32
}

// normPathRule validates a path rule and returns it lowercased.
func normPathRule(s string) (string, error) {
	path, param, _ := strings.Cut(s, "?")
	switch {
	case !strings.HasPrefix(path, "/"):
		return "", fmt.Errorf("a path rule starts with /")
	case strings.HasSuffix(path, "/"):
		return "", fmt.Errorf("a path rule ends with a segment, not /")
	case strings.ContainsAny(s, "#\\ \t") || strings.Contains(path, "//"):
		return "", fmt.Errorf("a path rule holds no '#', '\\', spaces or empty segments")
	case strings.ContainsAny(param, "&"):
		return "", fmt.Errorf("a path rule names one query parameter's prefix")
	case strings.HasSuffix(path, "/*"):
		return "", fmt.Errorf("a path rule's last segment is literal, not *")
	}
	for seg := range strings.SplitSeq(path[1:], "/") {
		if seg != "*" && strings.Contains(seg, "*") {
			return "", fmt.Errorf("* in a path rule stands for a whole segment")
		}
	}
	return strings.ToLower(s), nil
}

// addPathRule files the normalised rule s of vendor v.
func (r *Rules) addPathRule(s string, v int32) {
	if r.paths == nil {
		r.paths = map[string][]pathRule{}
	}
	path, param, _ := strings.Cut(s, "?")
	last := path[strings.LastIndexByte(path, '/')+1:]
	r.paths[last] = append(r.paths[last], pathRule{path: path, param: param, vendor: v})
}

// matchPath finds the vendor of a URL's path and query by the path rules;
// -1: none. The path is compared in canonical form (pathform.go), as host
// rules' paths are: "/G//Collect/" and "/gtm%2ejs" are /g/collect and
// /gtm.js.
func (r *Rules) matchPath(pq []byte) int32 {
	if len(r.paths) == 0 {
		return -1
	}
	path, query := pq, []byte(nil)
	if i := bytes.IndexByte(pq, '?'); i >= 0 {
		path, query = pq[:i], pq[i+1:]
	}
	var buf [maxPathTail]byte
	if !isCanonPath(path) {
		path = canonPath(buf[:0], path)
	}
	last := path[bytes.LastIndexByte(path, '/')+1:]
	rules, ok := r.paths[string(last)] // no allocation
	if !ok {
		return -1
	}
	for _, pr := range rules {
		if pathEndMatches(path, pr.path) && (pr.param == "" || hasParam(query, pr.param)) {
			return pr.vendor
		}
	}
	return -1
}

// pathEndMatches reports whether path ends with the rule's path, a "*"
// segment of the rule matching any one non-empty segment of path.
func pathEndMatches(path []byte, rule string) bool {
	if !strings.Contains(rule, "/*/") {
		return bytes.HasSuffix(path, []byte(rule))
	}
	for rule != "" {
		i := strings.LastIndexByte(rule, '/')
		j := bytes.LastIndexByte(path, '/')
		if j < 0 {
			return false
		}
		seg, got := rule[i+1:], path[j+1:]
		if seg == "*" && len(got) == 0 || seg != "*" && string(got) != seg {
			return false
		}
		rule, path = rule[:i], path[:j]
	}
	return true
}

// maxPathSegment bounds a last segment looked up quickly: no rule's is
// longer.
const maxPathSegment = 64

// maxPathTail is the length of path canonPath writes without allocating;
// longer paths are rare.
const maxPathTail = 256

// normalizePath appends path lowercased, with percent-encoded unreserved
// characters decoded (RFC 3986 §6.2.2.2) and '\' read as '/', as the
// WHATWG parser reads it in http(s) URLs.
func normalizePath(dst, path []byte) []byte {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '%' && i+2 < len(path) && httpfield.IsHex(path[i+1]) && httpfield.IsHex(path[i+2]) {
			if d := httpfield.Unhex(path[i+1])<<4 | httpfield.Unhex(path[i+2]); isUnreserved(d) {
				c = d
				i += 2
			}
		}
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '\\':
			c = '/'
		}
		dst = append(dst, c)
	}
	return dst
}

// hasParam reports whether the query, from one of its parameters on (at
// its start or after a '&'), starts with the lowercase prefix, compared as
// hasPathPrefix compares.
func hasParam(query []byte, prefix string) bool {
	for {
		if hasPathPrefix(query, prefix) {
			return true
		}
		i := bytes.IndexByte(query, '&')
		if i < 0 {
			return false
		}
		query = query[i+1:]
	}
}
