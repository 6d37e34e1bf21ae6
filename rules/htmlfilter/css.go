package htmlfilter

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// This file finds the loads in CSS text: a <style> body or a decoded style=""
// value. It is a tokenizer that follows CSS Syntax Level 3 §4 on the raw
// bytes without building tokens (section numbers are those of the 2021-12-24
// Candidate Recommendation; the quoted algorithm names find them in later
// drafts). It only needs to know where each token ends, so that a quote,
// "url(" or "/*" is special exactly where a browser's tokenizer finds it, and
// it keeps just enough parser state (§5: the nesting of blocks and functions,
// the token after @import) to tell the strings that are URLs from the rest.
//
// The §3.3 preprocessing is applied on the fly instead of on a copy: CR LF, CR
// and FF are each one newline, and NUL is U+FFFD (an ident code point, and
// decoded as such in values). Other bytes are taken as they are: every byte
// >= 0x80 is a non-ASCII code point or part of one, and all of those are ident
// code points (§4.2), so invalid UTF-8 tokenizes as the U+FFFD a decoder
// would make of it; the URL bytes handed to fn keep such bytes raw.
//
// unicode-range tokens are not produced: current CSS Syntax §4.3.1 dropped
// them from the tokenizer, and browsers only read "U+..." specially inside the
// unicode-range descriptor, where no URL can load.

// cssClass is the §4.3.1 "consume a token" dispatch by first byte.
var cssClass = func() (t [256]uint8) {
	for c := 0x80; c < 0x100; c++ {
		t[c] = ccIdent // non-ASCII code points are ident-start (§4.2)
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = ccIdent, ccIdent
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = ccDigit
	}
	t['_'], t[0] = ccIdent, ccIdent // NUL is U+FFFD after §3.3
	for _, c := range []byte(" \t\n\r\f") {
		t[c] = ccSpace
	}
	t['"'], t['\''] = ccQuote, ccQuote
	t['('], t['['], t['{'] = ccOpen, ccOpen, ccOpen
	t[')'], t[']'], t['}'] = ccClose, ccClose, ccClose
	t['-'], t['+'], t['.'] = ccMinus, ccPlus, ccPlus
	t['#'], t['@'], t['<'], t['/'], t['\\'] = ccHash, ccAt, ccLT, ccSlash, ccBackslash
	return t
}()

const (
	ccDelim     = iota // a delim token or a one-byte token that matters to nobody here
	ccSpace            // whitespace (§4.2: newline, tab, space; CR and FF are newlines)
	ccIdent            // ident-start code point
	ccDigit            // a number
	ccQuote            // a string
	ccOpen             // ( [ {
	ccClose            // ) ] }
	ccMinus            // number, CDC, ident or delim
	ccPlus             // '+' or '.': number or delim
	ccHash             // hash or delim
	ccAt               // at-keyword or delim
	ccLT               // CDO or delim
	ccSlash            // comment or delim
	ccBackslash        // escape (ident) or delim
)

// cssIdentCP marks the ident code points of §4.2 (NUL: U+FFFD after §3.3).
var cssIdentCP = func() (t [256]bool) {
	for c := range 256 {
		k := cssClass[c]
		t[c] = k == ccIdent || k == ccDigit || c == '-'
	}
	return t
}()

// cssStrStop marks the bytes that end the fast loop in a string: either
// quote, a newline (§4.3.5: bad-string), '\' and NUL (decoded values).
var cssStrStop = func() (t [256]bool) {
	for _, c := range []byte("\"'\\\n\r\f\x00") {
		t[c] = true
	}
	return t
}()

// Kinds of open blocks (§5: simple blocks and functions), for the stack.
const (
	cbParen   = iota // ( or a function whose strings are not URLs
	cbURLArgs        // url(, src(, image-set(, -webkit-image-set(: its strings are URLs
	cbBracket        // [
	cbBrace          // {
)

// cssCloser maps a closing byte to the block kind it closes.
func cssCloser(c byte) uint8 {
	switch c {
	case ')':
		return cbParen
	case ']':
		return cbBracket
	}
	return cbBrace
}

// cssBufPool holds the buffers that escaped URLs are decoded into. A pool,
// not a scratch parameter: the Filter's own scratch buffer is where it decodes
// a style attribute's character references, so the natural buffer to pass
// would already hold the CSS being scanned. A pool owned by this file cannot
// alias its input, keeps the signature small, and is touched only when a URL
// holds an escape or NUL (real stylesheets almost never have one).
var cssBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// cssMaxPooled caps the buffers put back, so one huge URL does not stay
// resident.
const cssMaxPooled = 64 << 10

// cssURLs scans complete CSS text (a <style> body or a decoded style attribute value) the way a
// browser's CSS tokenizer (CSS Syntax Level 3, §4) reads it, and calls fn for every URL the CSS
// would fetch: url(...) tokens (unquoted, with CSS escapes decoded and whitespace trimmed),
// url("...")/url('...') and src("...") functions (the string decoded), @import "..." strings, and
// strings inside image-set()/-webkit-image-set(). start and end are the offsets in css of the
// bytes a caller replaces to neutralise that load: the whole url(...) token, or the string token
// (quotes included). fn returns false to stop. Comments are skipped; strings elsewhere are not URLs.
//
// Details a caller relies on:
//   - For url("...") and src("...") the span is the string token only: replacing it with ""
//     leaves url("")/src(""), any URL modifiers after it untouched (CSS Values 4 §4.5.3).
//   - Every string directly inside url(), src(), image-set() or -webkit-image-set() is reported,
//     also a second one that makes the function invalid; strings nested one function deeper
//     (type("image/avif"), format("woff"), integrity("...")) are not URLs.
//   - @import strings and url()s are reported wherever @import stands: an @import after other
//     rules is ignored by browsers, but reporting it costs nothing and fails safe.
//   - Empty URLs are not reported: url(), url(""), src(""), @import "" and "" in image-set()
//     resolve to an invalid resource and load nothing (CSS Values 4 §4.5.2, "Empty URLs"). This
//     is what makes the replacements of cssReplacement inert on a second scan.
//   - bad-url tokens (an unquoted url() holding ", ', ( or a non-printable code point, or an
//     escaped newline; §4.3.6) and bad-string tokens (a raw newline in a string; §4.3.5) are not
//     reported: no property or @import grammar accepts them, so the declaration or rule they are
//     in is dropped and nothing loads. Their bytes are inert and stay as they are, and fn is only
//     ever called for a load. The scanner still consumes them exactly (§4.3.14), so that what
//     follows them is read as the browser reads it.
//   - url() tokens are reported in every context, also those that fetch nothing (@namespace):
//     the policy decides, and a replacement there changes no load.
//
// url aliases css (or a pooled buffer when the URL held an escape or NUL): it is valid only
// during the call to fn.
func cssURLs(css []byte, fn func(start, end int, url []byte) bool) {
	var (
		n          = len(css)
		stackArr   [32]uint8 // open blocks; grows on the heap only past 32 levels
		stack      = stackArr[:0]
		importNext bool // the previous token was @import (whitespace and comments skipped)
		buf        *[]byte
	)
	// emit reports css[start:end] with the raw value v, decoding it if esc.
	emit := func(start, end int, v []byte, esc, str bool) bool {
		if esc {
			if buf == nil {
				buf = cssBufPool.Get().(*[]byte)
			}
			*buf = cssDecode((*buf)[:0], v, str)
			v = *buf
		}
		if len(v) == 0 {
			return true // CSS Values 4 §4.5.2: an empty URL loads nothing
		}
		return fn(start, end, v)
	}
	defer func() {
		if buf != nil && cap(*buf) <= cssMaxPooled {
			cssBufPool.Put(buf)
		}
	}()

	for i := 0; i < n; {
		c := css[i]
		start := i
		afterImport := false
		switch cssClass[c] {
		case ccSpace:
			// Whitespace tokens do not end the wait for @import's URL.
			for i++; i < n && cssClass[css[i]] == ccSpace; i++ {
			}
			continue
		case ccSlash:
			if i+1 < n && css[i+1] == '*' {
				// §4.3.2: a comment is no token at all; unterminated, it
				// runs to the end.
				if j := bytes.Index(css[i+2:], []byte("*/")); j >= 0 {
					i += j + 4
				} else {
					i = n
				}
				continue
			}
			i++
		case ccQuote:
			end, closed, bad, esc := cssString(css, i)
			i = end
			if !bad && (importNext || len(stack) > 0 && stack[len(stack)-1] == cbURLArgs) {
				v := css[start+1 : end]
				if closed {
					v = v[:len(v)-1]
				}
				if !emit(start, end, v, esc, true) {
					return
				}
			}
		case ccIdent:
			// Most idents are property names and keywords: skip them here,
			// and take the full path only for a function or an escape.
			j := i + 1
			for j < n && cssIdentCP[css[j]] {
				j++
			}
			esc := false
			if j < n && css[j] == '\\' {
				j, esc = cssIdentEnd(css, i)
			}
			if j == n || css[j] != '(' {
				i = j
				break
			}
			var ok bool
			if i, stack, ok = cssFunction(css, i, j, esc, stack, emit); !ok {
				return
			}
		case ccBackslash:
			if cssValidEscape(css, i) {
				var ok bool
				if i, stack, ok = cssIdentLike(css, i, stack, emit); !ok {
					return
				}
			} else {
				i++ // §4.3.1: a delim '\' (it precedes a newline)
			}
		case ccMinus:
			switch {
			case cssStartsNumber(css, i):
				i = cssNumeric(css, i)
			case i+2 < n && css[i+1] == '-' && css[i+2] == '>':
				i += 3 // CDC
			case cssStartsIdent(css, i):
				var ok bool
				if i, stack, ok = cssIdentLike(css, i, stack, emit); !ok {
					return
				}
			default:
				i++
			}
		case ccPlus:
			if cssStartsNumber(css, i) {
				i = cssNumeric(css, i)
			} else {
				i++
			}
		case ccDigit:
			i = cssNumeric(css, i)
		case ccHash:
			// §4.3.1: a hash token when an ident code point or an escape
			// follows; its name is never a function ("#url(" is a hash and
			// a parenthesis).
			if i+1 < n && (cssIdentCP[css[i+1]] || cssValidEscape(css, i+1)) {
				i, _ = cssIdentEnd(css, i+1)
			} else {
				i++
			}
		case ccAt:
			if cssStartsIdent(css, i+1) {
				end, esc := cssIdentEnd(css, i+1)
				afterImport = cssNameIs(css[i+1:end], esc, "import")
				i = end
			} else {
				i++
			}
		case ccLT:
			if bytes.HasPrefix(css[i+1:], []byte("!--")) {
				i += 4 // CDO: "<!--url(x)" is a url token after it
			} else {
				i++
			}
		case ccOpen:
			k := uint8(cbParen)
			if c == '[' {
				k = cbBracket
			} else if c == '{' {
				k = cbBrace
			}
			stack = append(stack, k)
			i++
		case ccClose:
			// §5.4.8 "consume a simple block", §5.4.9 "consume a function":
			// only the mirror of the innermost block closes it; any other
			// closer is an ordinary token inside it.
			if len(stack) > 0 && cssCloses(stack[len(stack)-1], cssCloser(c)) {
				stack = stack[:len(stack)-1]
			}
			i++
		default:
			// Delims (':', ';', ',', '!', '*', '>', ...): each a token of
			// its own that only ends the wait for @import's URL.
			for i++; i < n && cssClass[css[i]] == ccDelim; i++ {
			}
		}
		importNext = afterImport
	}
}

// cssCloses reports whether a closer of kind k ends an open block of kind open.
func cssCloses(open, k uint8) bool {
	if open == cbURLArgs {
		open = cbParen
	}
	return open == k
}

// cssIdentLike is §4.3.4 "consume an ident-like token" at i. Functions are
// pushed on stack; a url token, or a string directly inside url(), src() or
// image-set() later on, is what the caller reports. It returns the offset
// after the token, the stack, and false when emit asked to stop.
func cssIdentLike(css []byte, i int, stack []uint8, emit func(int, int, []byte, bool, bool) bool) (int, []uint8, bool) {
	end, esc := cssIdentEnd(css, i)
	if end >= len(css) || css[end] != '(' {
		return end, stack, true // an ident token
	}
	return cssFunction(css, i, end, esc, stack, emit)
}

// cssFunction is the rest of §4.3.4 for the ident sequence css[start:end]
// (esc: it holds an escape) followed by '(' at end: a url token or a
// function token.
func cssFunction(css []byte, start, end int, esc bool, stack []uint8, emit func(int, int, []byte, bool, bool) bool) (int, []uint8, bool) {
	n := len(css)
	name := css[start:end]
	if cssNameIs(name, esc, "url") {
		// After "url(", whitespace is skipped; a quote makes it a function
		// token followed by a string token, anything else a url token.
		j := end + 1
		for j < n && cssClass[css[j]] == ccSpace {
			j++
		}
		if j < n && (css[j] == '"' || css[j] == '\'') {
			return end + 1, append(stack, cbURLArgs), true
		}
		vs, ve, tokEnd, bad, vesc := cssURLToken(css, end+1)
		if !bad && !emit(start, tokEnd, css[vs:ve], vesc, false) {
			return tokEnd, stack, false
		}
		return tokEnd, stack, true
	}
	k := uint8(cbParen)
	if cssNameIs(name, esc, "src") || cssNameIs(name, esc, "image-set") || cssNameIs(name, esc, "-webkit-image-set") {
		k = cbURLArgs
	}
	return end + 1, append(stack, k), true
}

// cssURLToken is §4.3.6 "consume a url token" from i, just after "url(". It
// returns the value's bounds (leading and trailing whitespace excluded), the
// offset after the token, whether it is a bad-url token, and whether the value
// holds an escape or NUL to decode.
func cssURLToken(css []byte, i int) (vs, ve, end int, bad, esc bool) {
	n := len(css)
	for i < n && cssClass[css[i]] == ccSpace {
		i++
	}
	vs = i
	for i < n {
		c := css[i]
		switch {
		case c == ')':
			return vs, i, i + 1, false, esc
		case cssClass[c] == ccSpace:
			ve = i
			for i < n && cssClass[css[i]] == ccSpace {
				i++
			}
			if i == n {
				return vs, ve, n, false, esc // EOF: a url token all the same
			}
			if css[i] == ')' {
				return vs, ve, i + 1, false, esc
			}
			return vs, ve, cssBadURLRemnants(css, i), true, esc
		case c == '"' || c == '\'' || c == '(' || cssNonPrintable(c):
			return vs, i, cssBadURLRemnants(css, i+1), true, esc
		case c == '\\':
			if !cssValidEscape(css, i) {
				return vs, i, cssBadURLRemnants(css, i+1), true, esc
			}
			esc = true
			i = cssEscapeEnd(css, i+1)
		case c == 0:
			esc = true // U+FFFD (§3.3), not a non-printable code point
			i++
		default:
			i++
		}
	}
	return vs, n, n, false, esc // EOF ends a url token (a parse error only)
}

// cssBadURLRemnants is §4.3.14: skip to the first ')' that is not escaped.
func cssBadURLRemnants(css []byte, i int) int {
	n := len(css)
	for i < n {
		switch c := css[i]; {
		case c == ')':
			return i + 1
		case c == '\\' && cssValidEscape(css, i):
			i = cssEscapeEnd(css, i+1) // "\)" does not end it
		default:
			i++
		}
	}
	return n
}

// cssNonPrintable is §4.2 "non-printable code point". NUL is absent: §3.3
// made it U+FFFD before the tokenizer sees it.
func cssNonPrintable(c byte) bool {
	return c <= 0x08 && c != 0 || c == 0x0B || 0x0E <= c && c <= 0x1F || c == 0x7F
}

// cssString is §4.3.5 "consume a string token" at i (the opening quote). It
// returns the offset after the token, whether it ends with its closing quote
// (else at EOF), whether it is a bad-string (an unescaped newline ends it
// there; the newline is not part of it), and whether its value holds an
// escape or NUL to decode.
func cssString(css []byte, i int) (end int, closed, bad, esc bool) {
	n := len(css)
	q := css[i]
	for i++; i < n; {
		c := css[i]
		if !cssStrStop[c] {
			i++
			continue
		}
		switch c {
		case q:
			return i + 1, true, false, esc
		case '\n', '\r', '\f':
			return i, false, true, esc
		case '\\':
			esc = true
			switch {
			case i+1 >= n:
				return n, false, false, esc // "\" then EOF: nothing
			case cssNewline(css[i+1]):
				i = cssNewlineEnd(css, i+1) // an escaped newline is dropped
			default:
				i = cssEscapeEnd(css, i+1)
			}
		case 0:
			esc = true
			i++
		default:
			i++ // the other quote
		}
	}
	return n, false, false, esc // EOF ends a string token (a parse error only)
}

// cssNewline reports whether c starts a newline (§3.3: LF, CR, FF).
func cssNewline(c byte) bool { return c == '\n' || c == '\r' || c == '\f' }

// cssNewlineEnd returns the offset after the newline at i: CR LF is one.
func cssNewlineEnd(css []byte, i int) int {
	if css[i] == '\r' && i+1 < len(css) && css[i+1] == '\n' {
		return i + 2
	}
	return i + 1
}

// cssValidEscape is §4.3.8 for the code points at i and i+1: '\' not followed
// by a newline. A '\' at the end is valid (it decodes to U+FFFD).
func cssValidEscape(css []byte, i int) bool {
	return i < len(css) && css[i] == '\\' && (i+1 == len(css) || !cssNewline(css[i+1]))
}

func cssHexVal(c byte) int {
	if !httpfield.IsHex(c) {
		return -1
	}
	return int(httpfield.Unhex(c))
}

// cssEscape is §4.3.7 "consume an escaped code point" from i, just after a
// valid '\'. It returns the code point and the offset after the escape. A
// non-hex byte escapes itself: for a multi-byte code point, its first byte
// is returned with raw set and the rest follows as ordinary bytes.
func cssEscape(css []byte, i int) (r rune, raw bool, end int) {
	n := len(css)
	if i >= n {
		return utf8.RuneError, false, n // EOF
	}
	if cssHexVal(css[i]) < 0 {
		if css[i] == 0 {
			return utf8.RuneError, false, i + 1
		}
		return rune(css[i]), true, i + 1
	}
	v, j := 0, i
	for ; j < n && j-i < 6; j++ {
		d := cssHexVal(css[j])
		if d < 0 {
			break
		}
		v = v<<4 | d
	}
	if j < n && cssClass[css[j]] == ccSpace {
		j = cssNewlineEnd(css, j) // one whitespace, CR LF being one
	}
	if v == 0 || 0xD800 <= v && v <= 0xDFFF || v > utf8.MaxRune {
		return utf8.RuneError, false, j
	}
	return rune(v), false, j
}

// cssEscapeEnd returns the offset after the escape whose '\' precedes i.
func cssEscapeEnd(css []byte, i int) int {
	_, _, end := cssEscape(css, i)
	return end
}

// cssIdentEnd is §4.3.11 "consume an ident sequence" from i. It returns the
// offset after it and whether it holds an escape.
func cssIdentEnd(css []byte, i int) (int, bool) {
	n := len(css)
	esc := false
	for i < n {
		c := css[i]
		if cssIdentCP[c] {
			i++ // NUL is U+FFFD: it matches no ASCII name, so no decoding
			continue
		}
		if c != '\\' || !cssValidEscape(css, i) {
			break
		}
		esc = true
		i = cssEscapeEnd(css, i+1)
	}
	return i, esc
}

// cssStartsIdent is §4.3.9 "would start an ident sequence" at i.
func cssStartsIdent(css []byte, i int) bool {
	n := len(css)
	if i >= n {
		return false
	}
	switch c := css[i]; {
	case c == '-':
		if i+1 >= n {
			return false
		}
		c1 := css[i+1]
		return cssClass[c1] == ccIdent || c1 == '-' || cssValidEscape(css, i+1)
	case cssClass[c] == ccIdent:
		return true
	case c == '\\':
		return cssValidEscape(css, i)
	}
	return false
}

func cssDigit(css []byte, i int) bool { return i < len(css) && '0' <= css[i] && css[i] <= '9' }

// cssStartsNumber is §4.3.10 "would start a number" at i.
func cssStartsNumber(css []byte, i int) bool {
	switch c := css[i]; c {
	case '+', '-':
		return cssDigit(css, i+1) || i+1 < len(css) && css[i+1] == '.' && cssDigit(css, i+2)
	case '.':
		return cssDigit(css, i+1)
	}
	return cssDigit(css, i)
}

// cssNumeric is §4.3.3 "consume a numeric token" at i: a number (§4.3.12)
// and its unit or '%'. A unit is an ident sequence but never a function name:
// "5url(x)" is a dimension, then a parenthesis.
func cssNumeric(css []byte, i int) int {
	n := len(css)
	if css[i] == '+' || css[i] == '-' {
		i++
	}
	for cssDigit(css, i) {
		i++
	}
	if i < n && css[i] == '.' && cssDigit(css, i+1) {
		for i += 2; cssDigit(css, i); i++ {
		}
	}
	if i < n && css[i]|0x20 == 'e' {
		j := i + 1
		if j < n && (css[j] == '+' || css[j] == '-') {
			j++
		}
		if cssDigit(css, j) {
			for i = j + 1; cssDigit(css, i); i++ {
			}
		}
	}
	if cssStartsIdent(css, i) {
		i, _ = cssIdentEnd(css, i)
	} else if i < n && css[i] == '%' {
		i++
	}
	return i
}

// cssNameIs reports whether the ident sequence name, escapes decoded, equals
// the lowercase ASCII want, folding ASCII letters only (§4.3.4 compares
// "url" ASCII case-insensitively; so do at-rule and function names).
func cssNameIs(name []byte, esc bool, want string) bool {
	if !esc {
		if len(name) != len(want) {
			return false
		}
		for i := range len(name) {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != want[i] {
				return false
			}
		}
		return true
	}
	k := 0
	for i := 0; i < len(name); {
		var r rune
		if c := name[i]; c == '\\' {
			r, _, i = cssEscape(name, i+1)
		} else {
			r = rune(c)
			if c == 0 {
				r = utf8.RuneError
			}
			i++
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		if k >= len(want) || r != rune(want[k]) {
			return false // non-ASCII never matches: want is ASCII
		}
		k++
	}
	return k == len(want)
}

// cssDecode appends the value v of a url or string token to dst with escapes
// decoded (§4.3.7) and NUL as U+FFFD (§3.3). In a string an escaped newline
// is dropped and a final '\' (at EOF) is nothing (§4.3.5); in a url token a
// final '\' is U+FFFD (§4.3.7, EOF).
func cssDecode(dst, v []byte, str bool) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == 0:
			dst = utf8.AppendRune(dst, utf8.RuneError)
			i++
		case c != '\\':
			dst = append(dst, c)
			i++
		case i+1 == len(v) && str:
			i++
		case i+1 < len(v) && str && cssNewline(v[i+1]):
			i = cssNewlineEnd(v, i+1)
		default:
			var r rune
			var raw bool
			r, raw, i = cssEscape(v, i+1)
			if raw {
				dst = append(dst, byte(r))
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		}
	}
	return dst
}

// cssReplacement returns what replaces css[start:end], a span reported by
// cssURLs, so that it loads nothing: url("") for a url token, "" for a string
// token. Both are empty URLs (CSS Values 4 §4.5.2) and tokenize as what they
// replace, so nothing around them is read differently and a second scan
// reports nothing there. In a double-quoted attribute the caller escapes the
// quotes, as it escapes every attribute value it writes.
func cssReplacement(css []byte, start, end int) string {
	if start < end && end <= len(css) && (css[start] == '"' || css[start] == '\'') {
		return `""`
	}
	return `url("")`
}
