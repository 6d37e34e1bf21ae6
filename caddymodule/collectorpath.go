package caddymodule

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Collector paths are compared in the form an origin's router resolves a
// request path to, so that no spelling of a collector's path walks around
// it: the path the request names is decoded once (Go's r.URL.Path; a router
// that decodes before routing sees %2F and %5C as separators, and
// decoding again would read %252F as '/' where no router does), then
//   - '\' separates segments as '/' does (IIS, and routers that decode it);
//   - a path parameter, ";" to the segment's end, is dropped, as Tomcat,
//     Spring and Jetty drop it ("/..;/g/collect" is "/../g/collect" there);
//   - dot segments are resolved (RFC 3986 §5.2.4) and empty segments
//     merged, as Caddy's path matcher cleans paths (path.Clean);
//   - trailing dots and spaces of a segment are dropped, as Windows drops
//     them from file names ("Naming Files, Paths, and Namespaces"), and as
//     Caddy's path matcher does on Windows, unless nothing would be left;
//   - letters are lowered, as Caddy's path matcher lowers them (the whole
//     of Unicode: the Kelvin sign is a k to it).
//
// The last segment keeps its trailing dots and spaces, for prefix
// patterns ("/file.*"); an exact pattern ignores them, and trailing
// slashes (see collectorMatches). The work is linear in the path's length
// however many dot segments it holds, and a path already in this form is
// compared in place.

// collectorPattern is a collector's path in the resolved form: a prefix
// when it ended in '*' (the part before the '*'), else the whole path
// without its trailing slashes, dots and spaces.
type collectorPattern struct {
	path   string
	prefix bool
}

// newCollectorPattern resolves an operator's pattern as requests are
// resolved. Patterns are written unescaped, as for Caddy's path matcher; an
// escape in one is decoded.
func newCollectorPattern(p string) collectorPattern {
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	pre, ok := strings.CutSuffix(p, "*")
	if !ok {
		return collectorPattern{path: strings.TrimRight(string(resolvePath(nil, p, false)), "/. ")}
	}
	// The prefix's last segment is incomplete: it is only lowered ("/file."
	// must not become "/file").
	i := strings.LastIndexAny(pre, `/\`) + 1
	head := resolvePath(nil, pre[:i], false)
	return collectorPattern{path: string(appendLower(head, pre[i:])), prefix: true}
}

// collectorMatches reports whether a resolved path (or one already in that
// form, whose ASCII letters are lowered here) is the collector's.
func collectorMatches[P string | []byte](c *collectorPattern, path P) bool {
	if c.prefix {
		return len(path) >= len(c.path) && httpfield.EqualFold(path[:len(c.path)], c.path)
	}
	end := len(path)
	for end > 0 && (path[end-1] == '/' || path[end-1] == '.' || path[end-1] == ' ') {
		end--
	}
	return end == len(c.path) && httpfield.EqualFold(path[:end], c.path)
}

// isResolvedPath reports whether resolvePath would give p back with only
// its ASCII letters lowered: ASCII, starting with '/', no '\' or ';', no
// empty, dot, or (but for the last) trimmable segment.
func isResolvedPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			if c := p[i]; c >= utf8.RuneSelf || c == '\\' || c == ';' {
				return false
			} else if c != '/' {
				continue
			}
		}
		seg, last := p[start:i], i == len(p)
		if seg == "." || seg == ".." || !last && (seg == "" || trimSegment(seg) != seg) {
			return false
		}
		start = i + 1
	}
	return true
}

// resolvePath appends p's resolved form to dst (see above). keepParams
// leaves path parameters in their segments, as Caddy's own matcher does:
// it differs only where a segment that is nothing but a parameter is
// removed by a later "..".
func resolvePath(dst []byte, p string, keepParams bool) []byte {
	root := len(dst)
	dst = append(dst, '/')
	endsInSegment := false // the last segment is in dst, with no '/' after it
	for start := 0; start <= len(p); {
		end := len(p)
		if i := strings.IndexAny(p[start:], `/\`); i >= 0 {
			end = start + i
		}
		seg, last := p[start:end], end == len(p)
		if !keepParams {
			seg, _, _ = strings.Cut(seg, ";")
		}
		endsInSegment = false
		switch seg {
		case "", ".":
		case "..":
			if len(dst)-root > 1 {
				dst = dst[:root+bytes.LastIndexByte(dst[root:len(dst)-1], '/')+1]
			}
		default:
			if !last {
				seg = trimSegment(seg)
			}
			dst = append(appendLower(dst, seg), '/')
			endsInSegment = true
		}
		start = end + 1
	}
	if endsInSegment {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// trimSegment drops a segment's trailing dots and spaces, unless nothing
// would be left ("..." stays a name).
func trimSegment(seg string) string {
	if t := strings.TrimRight(seg, ". "); t != "" {
		return t
	}
	return seg
}

// appendLower appends s with its letters lowered, as strings.ToLower lowers
// them; a byte that is not UTF-8 stays as it is.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += n
	}
	return dst
}
