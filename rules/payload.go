package rules

import "bytes"

// Hydration payloads: the inline scripts with which server-rendered apps
// hand their state to the client (Next.js's self.__next_f.push, Nuxt's
// window.__NUXT__, Remix's window.__remixContext, Apollo and Redux state).
// They are data: an article about Google Analytics quotes "gtag/js" and
// "fbq(" in them, and removing the payload breaks the app. In a payload a
// vendor found counts only with evidence that the payload makes it load: its
// URL as the value of a loading key (src, href, srcset, poster: a rendered
// element's props, or markup in a string) or in a preload hint, or a loading
// call near it (the snippet a <Script> component will inject). Elsewhere
// any mention in code counts, as the rest of script.go says.

// payloadPrefixes start the payloads, as normalizeScript writes them.
var payloadPrefixes = [...]string{
	"self.__next_f.push(",
	"(self.__next_f=self.__next_f||[]).push(",
	"window.__nuxt__=",
	"window.__remixcontext",
	"window.__reactroutercontext",
	"window.__staticrouterhydrationdata=",
	"window.__apollo_state__=",
	"window.__preloaded_state__=",
	"window.__initial_state__=",
}

// isPayload reports whether normalised script text is a hydration payload.
func isPayload(s []byte) bool {
	s = bytes.TrimLeft(s, " ")
	for _, p := range payloadPrefixes {
		if bytes.HasPrefix(s, []byte(p)) {
			return true
		}
	}
	return false
}

// loadingCalls are what a script that loads something calls or writes, in
// normalised form.
var loadingCalls = [...]string{
	"createelement(", ".src=", "appendchild(", "insertbefore(", "import(", "new image",
	"sendbeacon(", "document.write(", "fetch(", "xmlhttprequest",
}

// loadingCallReach is how far from a vendor's mention a loading call is
// looked for: a snippet's loader and its URL stand within it.
const loadingCallReach = 512

// loadingCallNear reports whether a loading call stands within reach of
// s[at].
func loadingCallNear(s []byte, at int) bool {
	w := s[max(0, at-loadingCallReach):min(len(s), at+loadingCallReach)]
	for _, c := range loadingCalls {
		if bytes.Contains(w, []byte(c)) {
			return true
		}
	}
	return false
}

// loadingKeyBefore reports whether the URL run starting at s[a] is the
// value of a loading key ("src":"…", src='…', {href:"…"}, srcSet, poster)
// or the URL of a preload hint row (Next.js's :HL["…","script"]).
func loadingKeyBefore(s []byte, a int) bool {
	j := skipBack(s, a)
	if j > 0 && s[j-1] == '[' {
		return bytes.HasSuffix(s[:j], []byte("hl["))
	}
	if j == 0 || s[j-1] != ':' && s[j-1] != '=' {
		return false
	}
	key := s[:skipBack(s, j-1)]
	for _, k := range [...]string{"src", "href", "srcset", "poster"} {
		if bytes.HasSuffix(key, []byte(k)) {
			return true
		}
	}
	return false
}

// skipBack steps back from s[i] over quotes, backslashes and spaces: the
// quoting of a value, however deeply it is nested in strings.
func skipBack(s []byte, i int) int {
	for i > 0 && (s[i-1] == '\'' || s[i-1] == '\\' || s[i-1] == ' ') {
		i--
	}
	return i
}
