package charset

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// prescan implements HTML §13.2.3.2 "prescan a byte stream to determine its
// encoding" over b. declared is false when no meta declares a supported
// encoding within b. Any read past the end of b ends the prescan without a
// result: a tag that the window cuts declares nothing.
func prescan(b []byte) (enc Encoding, declared bool) {
	// "Prescan for UTF-16 XML declarations": '<?x' in UTF-16LE or BE. (The
	// encoding name is not checked, for historical reasons.)
	if bytes.HasPrefix(b, []byte{'<', 0, '?', 0, 'x', 0}) {
		return Encoding{idUTF16LE}, true
	}
	if bytes.HasPrefix(b, []byte{0, '<', 0, '?', 0, 'x'}) {
		return Encoding{idUTF16BE}, true
	}
	for pos := 0; pos < len(b); pos++ {
		if b[pos] != '<' {
			continue // "Any other byte: Do nothing with that byte."
		}
		rest := b[pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			// Advance to the '>' of the first "-->" after the '<'; the dashes
			// of "<!--" count, so "<!-->" ends the comment.
			i := bytes.Index(rest[2:], []byte("-->"))
			if i < 0 {
				return Encoding{}, false
			}
			pos += 2 + i + 2
		case len(rest) >= 6 && httpfield.Lower(rest[1]) == 'm' && httpfield.Lower(rest[2]) == 'e' &&
			httpfield.Lower(rest[3]) == 't' && httpfield.Lower(rest[4]) == 'a' && isMetaSep(rest[5]):
			e, ok, next, complete := metaCharset(b, pos+5)
			if !complete {
				return Encoding{}, false
			}
			if ok {
				return e, true
			}
			pos = next // "next byte" then moves past where the attributes stopped
		case len(rest) >= 2 && isASCIIAlpha(rest[1]) ||
			len(rest) >= 3 && rest[1] == '/' && isASCIIAlpha(rest[2]):
			// Another tag: skip its name, then its attributes, so that a
			// "<meta" or "charset" inside an attribute value is not read.
			i := pos + 1
			for i < len(b) && !isASCIISpace(b[i]) && b[i] != '>' {
				i++
			}
			if i >= len(b) {
				return Encoding{}, false
			}
			for {
				_, _, n, got, complete := getAttribute(b, i)
				if !complete {
					return Encoding{}, false
				}
				i = n
				if !got {
					break
				}
			}
			pos = i // "next byte" then moves past the byte the attributes stopped at
		case len(rest) >= 2 && (rest[1] == '!' || rest[1] == '/' || rest[1] == '?'):
			i := bytes.IndexByte(rest[1:], '>')
			if i < 0 {
				return Encoding{}, false
			}
			pos += 1 + i
		}
	}
	return Encoding{}, false
}

func isMetaSep(c byte) bool { return isASCIISpace(c) || c == '/' }

func isASCIIAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// metaCharset runs the meta branch of the prescan loop from the separator
// after "<meta" at b[i]. It returns the declared encoding (ok), the position
// where the attributes stopped, and complete=false when it needed a byte past
// the end of b.
func metaCharset(b []byte, i int) (enc Encoding, ok bool, next int, complete bool) {
	var seen [3]bool // http-equiv, content, charset: "attribute list"
	gotPragma := false
	needPragma := 0   // 0 null, 1 true, 2 false
	charsetState := 0 // 0 null, 1 failure, 2 an encoding
	var charset Encoding
	for {
		name, value, n, got, comp := getAttribute(b, i)
		if !comp {
			return Encoding{}, false, 0, false
		}
		i = n
		if !got {
			break
		}
		// Only three names matter; the list of other names only serves to
		// ignore duplicates, which cannot matter for them.
		var k int
		switch string(name) {
		case "http-equiv":
			k = 0
		case "content":
			k = 1
		case "charset":
			k = 2
		default:
			continue
		}
		if seen[k] {
			continue // "If the attribute's name is already in attribute list"
		}
		seen[k] = true
		switch k {
		case 0:
			if string(value) == "content-type" {
				gotPragma = true
			}
		case 1:
			if label, found := charsetFromContent(value); found {
				if e, known := Lookup(string(label)); known && charsetState == 0 {
					charset, charsetState, needPragma = e, 2, 1
				}
			}
		case 2:
			if e, known := Lookup(string(value)); known {
				charset, charsetState = e, 2
			} else {
				charsetState = 1
			}
			needPragma = 2
		}
	}
	// "Processing"
	if needPragma == 0 || needPragma == 1 && !gotPragma || charsetState != 2 {
		return Encoding{}, false, i, true
	}
	switch charset.id {
	case idUTF16BE, idUTF16LE:
		charset = Encoding{idUTF8}
	case idXUserDefined:
		charset = Encoding{idWindows1252}
	}
	return charset, true, i, true
}

// getAttribute implements "get an attribute" of HTML §13.2.3.2 from b[i].
// Names and values come back lower-cased. got is false when there is no
// further attribute; next is the position after the attribute (or of the
// byte where the search stopped); complete is false when a byte past the end
// of b was needed.
func getAttribute(b []byte, i int) (name, value []byte, next int, got, complete bool) {
	// Step 1: skip whitespace and '/'.
	for i < len(b) && (isASCIISpace(b[i]) || b[i] == '/') {
		i++
	}
	if i >= len(b) {
		return nil, nil, i, false, false
	}
	if b[i] == '>' { // Step 2
		return nil, nil, i, false, true
	}
	// Steps 3-5: the name; the first byte is taken whatever it is ('=' too).
	name = append(name, httpfield.Lower(b[i]))
	i++
	for {
		if i >= len(b) {
			return nil, nil, i, false, false
		}
		c := b[i]
		if c == '=' {
			i++
			goto value
		}
		if isASCIISpace(c) {
			break
		}
		if c == '/' || c == '>' {
			return name, nil, i, true, true
		}
		name = append(name, httpfield.Lower(c))
		i++
	}
	// Steps 6-8: spaces, then '=' or the attribute ends without a value.
	for i < len(b) && isASCIISpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return nil, nil, i, false, false
	}
	if b[i] != '=' {
		return name, nil, i, true, true
	}
	i++
value:
	// Steps 9-12: the value.
	for i < len(b) && isASCIISpace(b[i]) {
		i++
	}
	if i >= len(b) {
		return nil, nil, i, false, false
	}
	switch c := b[i]; c {
	case '"', '\'':
		end := bytes.IndexByte(b[i+1:], c)
		if end < 0 {
			return nil, nil, len(b), false, false
		}
		for _, v := range b[i+1 : i+1+end] {
			value = append(value, httpfield.Lower(v))
		}
		return name, value, i + 1 + end + 1, true, true
	case '>':
		return name, nil, i, true, true
	}
	for {
		c := b[i]
		if isASCIISpace(c) || c == '"' || c == '\'' || c == '>' {
			return name, value, i, true, true
		}
		value = append(value, httpfield.Lower(c))
		i++
		if i >= len(b) {
			return nil, nil, i, false, false
		}
	}
}

// charsetFromContent implements HTML's "algorithm for extracting a
// character encoding from a meta element" on a content attribute value.
func charsetFromContent(s []byte) ([]byte, bool) {
	pos := 0
	for {
		// "Find the first seven characters in s after position that are an
		// ASCII case-insensitive match for the word charset."
		i := indexFoldCharset(s[pos:])
		if i < 0 {
			return nil, false
		}
		pos += i + len("charset")
		for pos < len(s) && isASCIISpace(s[pos]) {
			pos++
		}
		if pos >= len(s) || s[pos] != '=' {
			// "move position to point just before that next character, and
			// jump back to the step labeled loop"
			continue
		}
		pos++
		for pos < len(s) && isASCIISpace(s[pos]) {
			pos++
		}
		if pos >= len(s) {
			return nil, false
		}
		if q := s[pos]; q == '"' || q == '\'' {
			end := bytes.IndexByte(s[pos+1:], q)
			if end < 0 {
				return nil, false
			}
			return s[pos+1 : pos+1+end], true
		}
		end := pos
		for end < len(s) && !isASCIISpace(s[end]) && s[end] != ';' {
			end++
		}
		return s[pos:end], true
	}
}

func indexFoldCharset(s []byte) int {
	const w = "charset"
	for i := 0; i+len(w) <= len(s); i++ {
		if httpfield.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}
