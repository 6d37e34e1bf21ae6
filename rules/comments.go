package rules

import "bytes"

// Comments in inline scripts. A vendor's call inside a comment ("// fbq('track',
// 'Purchase') once the pixel is back") runs nothing, so a signature found
// only in comments names nobody. Hostnames are still found everywhere: a URL
// anywhere in code may be loaded, and a misread comment must never hide one.

// mayHoldComments reports whether script text can hold a comment at all.
func mayHoldComments(src []byte) bool {
	return bytes.Contains(src, []byte("//")) || bytes.Contains(src, []byte("/*")) || bytes.Contains(src, []byte("<!--"))
}

// blankComments appends src to dst with the text of its comments replaced
// by spaces (newlines kept): // and /* */ comments, and the HTML-like
// "<!--" line comment of ECMA-262 Annex B.1.1. It follows string, template
// and regular expression literals so that "https://" in a string is no
// comment. A regular expression is told from a division by the byte before
// it; a misreading can only hide text after a "//" on that line, and only
// from signatures.
func blankComments(dst, src []byte) []byte {
	const (
		code = iota
		str
		regex
		class // a regular expression's [...]
		line
		block
	)
	state, quote := code, byte(0)
	prev := byte(0) // the last non-space byte of code
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch state {
		case code:
			switch {
			case c == '/' && i+1 < len(src) && src[i+1] == '/':
				state, c = line, ' '
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				state, c = block, ' '
				dst = append(dst, ' ')
				i++
			case c == '<' && bytes.HasPrefix(src[i:], []byte("<!--")):
				state, c = line, ' '
			case c == '\'' || c == '"' || c == '`':
				state, quote = str, c
			case c == '/' && regexCanStart(prev):
				state = regex
			}
			if !isJSSpace(c) {
				prev = c
			}
		case str:
			switch c {
			case '\\':
				if i+1 < len(src) {
					dst = append(dst, c)
					i++
					c = src[i]
				}
			case quote:
				state, prev = code, c
			case '\n':
				if quote != '`' {
					state, prev = code, c // an unterminated string ends here
				}
			}
		case regex, class:
			switch {
			case c == '\\' && i+1 < len(src):
				dst = append(dst, c)
				i++
				c = src[i]
			case c == '[':
				state = class
			case c == ']' && state == class:
				state = regex
			case c == '/' && state == regex:
				state, prev = code, 'x' // a regex literal is an operand
			case c == '\n':
				state = code
			}
		case line:
			if c == '\n' || c == '\r' {
				state = code
			} else {
				c = ' '
			}
		case block:
			if c == '*' && i+1 < len(src) && src[i+1] == '/' {
				state = code
				dst = append(dst, ' ')
				i++
				c = ' '
			} else if c != '\n' {
				c = ' '
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// regexCanStart reports whether a '/' after the code byte prev starts a
// regular expression literal rather than a division: after an operator or
// an opening bracket, or at the start.
func regexCanStart(prev byte) bool {
	switch prev {
	case 0, '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^':
		return true
	}
	return false
}
