package caddymodule

import (
	"net/http"
	"slices"
	"strings"
)

// What the handler injects inline (the Consent Mode defaults <script>, the
// banner's and the privacy choices control's <style>) must also pass the
// origin's own Content-Security-Policy: a browser enforces every policy a
// page has. Each of the origin's policies that would refuse the elements
// gets their hash sources, in the directive that governs them. Not the
// origin's nonce copied onto the elements: a nonce is new on every
// response, and in the elements it would make every response's preludes
// new, and with them the page cache's key; the elements' texts are fixed
// for a consent state. The hashes allow those texts and nothing else.

// originPolicyFields hold the origin's policies: enforced, and reported
// only (which would report the elements).
var originPolicyFields = [...]string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"}

// allowInjected adds the hash sources of the injected script (scripts) and
// styles (styles) to each of the origin's policies in h that would refuse
// them.
func allowInjected(h http.Header, scripts, styles []string) {
	if len(scripts) == 0 && len(styles) == 0 {
		return
	}
	for _, name := range originPolicyFields {
		values := h[name]
		if len(values) == 0 {
			continue
		}
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = allowInPolicyList(v, scripts, styles)
		}
		h[name] = out
	}
}

// allowInPolicyList is allowInjected for one field value: policies
// separated by commas (CSP Level 3, "parse a serialized CSP list"; no
// source expression holds a comma).
func allowInPolicyList(list string, scripts, styles []string) string {
	policies := strings.Split(list, ",")
	for i, p := range policies {
		policies[i] = allowInPolicy(p, scripts, styles)
	}
	return strings.Join(policies, ",")
}

// Where a policy's rules for inline elements come from: the first of
// these directives it has (CSP Level 3, "get the effective directive for
// inline checks", and "get fetch directive fallback list").
var (
	scriptDirectives = []string{"script-src-elem", "script-src", "default-src"}
	styleDirectives  = []string{"style-src-elem", "style-src", "default-src"}
)

// allowInPolicy adds the hash sources to the directives of one policy that
// govern inline scripts and styles, where those would refuse them. The
// other directives are left as they were written.
func allowInPolicy(policy string, scripts, styles []string) string {
	dirs := strings.Split(policy, ";")
	script := governing(dirs, scriptDirectives)
	if script >= 0 && (len(scripts) == 0 || !refusesInline(dirs[script], true)) {
		script = -1
	}
	style := governing(dirs, styleDirectives)
	if style >= 0 && (len(styles) == 0 || !refusesInline(dirs[style], false)) {
		style = -1
	}
	if script < 0 && style < 0 {
		return policy
	}
	if script >= 0 {
		dirs[script] = withSources(dirs[script], scripts)
	}
	if style >= 0 {
		dirs[style] = withSources(dirs[style], styles)
	}
	return strings.Join(dirs, ";")
}

// withSources appends to a directive the sources it does not list yet.
func withSources(directive string, sources []string) string {
	d := strings.TrimRight(directive, " \t\n\f\r")
	for _, s := range sources {
		if !hasSource(d, s) {
			d += " " + s
		}
	}
	return d
}

// governing returns the index in dirs of the first directive named by the
// first of names that the policy has, or -1. A directive named twice counts
// once, where it is first (CSP Level 3, "parse a serialized CSP").
func governing(dirs []string, names []string) int {
	for _, name := range names {
		for i, d := range dirs {
			if f := strings.Fields(d); len(f) > 0 && strings.EqualFold(f[0], name) {
				return i
			}
		}
	}
	return -1
}

// refusesInline reports whether a directive would refuse an inline element
// that a hash source can let through. Not where 'unsafe-inline' allows
// every one (it counts only without nonces and hashes, and for scripts
// without 'strict-dynamic': CSP Level 3, "does a source list allow all
// inline behavior"): a hash added there would stop it counting and break
// the page's own inline elements. Nor where the directive refuses
// everything ('none', or no source at all).
func refusesInline(directive string, script bool) bool {
	sources := strings.Fields(directive)[1:]
	if len(sources) == 0 || len(sources) == 1 && strings.EqualFold(sources[0], "'none'") {
		return false
	}
	unsafeInline, nonceOrHash, strictDynamic := false, false, false
	for _, s := range sources {
		l := strings.ToLower(s)
		switch {
		case l == "'unsafe-inline'":
			unsafeInline = true
		case l == "'strict-dynamic'":
			strictDynamic = true
		case strings.HasPrefix(l, "'nonce-"), strings.HasPrefix(l, "'sha256-"),
			strings.HasPrefix(l, "'sha384-"), strings.HasPrefix(l, "'sha512-"):
			nonceOrHash = true
		}
	}
	return !unsafeInline || nonceOrHash || script && strictDynamic
}

// hasSource reports whether a directive lists source s already.
func hasSource(directive, s string) bool {
	for _, f := range strings.Fields(directive)[1:] {
		if f == s {
			return true
		}
	}
	return false
}

// allowInjected lets what an HTML page gets injected pass the origin's
// policies. A HEAD gets the fields a GET would.
func (rw *responseWriter) allowInjected() {
	h := rw.Header()
	if !slices.ContainsFunc(originPolicyFields[:], func(name string) bool { return len(h[name]) > 0 }) {
		return
	}
	var styles []string
	if rw.r.Method == http.MethodGet || rw.r.Method == http.MethodHead {
		styles = rw.h.injectedStyleHashes()
	}
	allowInjected(h, rw.h.injectedScriptHashes(rw.granted), styles)
}
