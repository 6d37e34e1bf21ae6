package rules

import (
	"bytes"
	"strings"
)

// A rule's path names an endpoint, and a vendor's server routes many
// spellings of a path to it; every one a page can carry must match the rule
// (the WHATWG parser has already resolved raw dot segments and backslashes,
// and lowercases nothing in a path). Paths are compared in canonical form:
//   - ASCII letters lowered, and percent-encoded unreserved characters read
//     as themselves (RFC 3986 §6.2.2.1, §6.2.2.2): "/T%72" is "/tr";
//   - "%2F" and "%5C" separate segments, as for a server that decodes the
//     path before routing it (Go's net/http routes the decoded r.URL.Path);
//   - a segment's parameters, from ';' to its end, are dropped (RFC 3986
//     §3.3; servlet containers strip them before mapping a request);
//   - empty segments are merged, a trailing slash dropped (nginx's
//     merge_slashes is on by default; Go's ServeMux redirects to the
//     cleaned path);
//   - dot segments left after the steps above ("..%2F", "..;") are
//     resolved (RFC 3986 §5.2.4).
//
// A host rule's path then matches at a segment boundary: the path itself,
// or a path under it ("/tr" takes "/tr/" and "/tr/x", never "/track"), or
// the name followed by '@', as npm CDNs spell a package's version
// (jsDelivr's "/npm/package@version/file", unpkg's "/package@version/file");
// a rule ending in '*' takes any path that starts with it.

// canonPath appends the canonical form of path (no query, no fragment) to
// dst: "/" and segments, no trailing slash.
func canonPath(dst, path []byte) []byte {
	root := len(dst)
	for i := 0; i <= len(path); {
		end, next := segmentEnd(path, i)
		seg := path[i:end]
		if k := bytes.IndexByte(seg, ';'); k >= 0 {
			seg = seg[:k]
		}
		start := len(dst)
		dst = normalizePath(append(dst, '/'), seg)
		switch s := dst[start+1:]; {
		case len(s) == 0, len(s) == 1 && s[0] == '.':
			dst = dst[:start]
		case len(s) == 2 && s[0] == '.' && s[1] == '.':
			dst = dst[:root+max(bytes.LastIndexByte(dst[root:start], '/'), 0)]
		}
		i = next
	}
	if len(dst) == root {
		dst = append(dst, '/')
	}
	return dst
}

// segmentEnd returns the end of the segment starting at path[i] and the
// start of the next one (past len(path) when there is none): segments end
// at '/', '\' (the WHATWG parser reads it as '/' in http(s) URLs), "%2F"
// and "%5C".
func segmentEnd(path []byte, i int) (end, next int) {
	for j := i; j < len(path); j++ {
		switch path[j] {
		case '/', '\\':
			return j, j + 1
		case '%':
			if j+2 < len(path) && (path[j+1] == '2' && path[j+2]|0x20 == 'f' || path[j+1] == '5' && path[j+2]|0x20 == 'c') {
				return j, j + 3
			}
		}
	}
	return len(path), len(path) + 1
}

// isCanonPath reports whether canonPath would return path unchanged: it
// starts with '/', holds no uppercase ASCII letter, '%', ';' or '\', no
// empty or dot segment, and ends in a segment. It is the common case, which
// then costs one scan and no copy.
func isCanonPath(path []byte) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	if len(path) == 1 {
		return true
	}
	for i := 1; i < len(path); i++ {
		switch c := path[i]; {
		case 'A' <= c && c <= 'Z', c == '%', c == ';', c == '\\':
			return false
		case c == '/':
			if path[i-1] == '/' {
				return false
			}
		case c == '.' && path[i-1] == '/':
			if i+1 == len(path) || path[i+1] == '/' || path[i+1] == '.' && (i+2 == len(path) || path[i+2] == '/') {
				return false
			}
		}
	}
	return path[len(path)-1] != '/'
}

// hostPathMatches reports whether the canonical path c and the query match
// a host rule's lowercase "/path[?query prefix]": c is the rule's path or
// under it (see above), and the query, from one of its parameters on,
// starts with the rule's query prefix, compared as hasPathPrefix compares.
// A rule ending in '*' is a plain prefix of c, for rules written as text
// found anywhere in a URL (imported lists): "/pixel*" takes "/pixel.gif".
func hostPathMatches(c, query []byte, rule string) bool {
	rule, prefix := strings.CutSuffix(rule, "*")
	path, param, hasQuery := strings.Cut(rule, "?")
	prefix = prefix && !hasQuery // a query prefix is one already
	if !prefix {
		path = strings.TrimRight(path, "/")
	}
	if len(c) < len(path) || string(c[:len(path)]) != path {
		return false
	}
	if !prefix && len(c) > len(path) && path != "" && c[len(path)] != '/' && c[len(path)] != '@' {
		return false
	}
	return param == "" || hasParam(query, param)
}
