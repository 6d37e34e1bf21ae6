package htmlfilter

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// scriptState is the script data sub-state of HTML §13.2.5.4 and §13.2.5.15–32.
// It matters for where a script ends: after "<!--" a "<script" switches to the
// double-escaped state, where "</script>" does not end the script. A filter
// that missed this would classify only part of the script and pass the rest on
// as markup.
type scriptState uint8

const (
	ssData scriptState = iota
	ssEsc
	ssEscDash
	ssEscDashDash
	ssDbl
	ssDblDash
	ssDblDashDash
)

// isEndDelim reports whether c may follow an end tag name (§13.2.5.11).
func isEndDelim(c byte) bool { return isSpace(c) || c == '/' || c == '>' }

// matchEnd reports whether d[i:] starts with "</"+name and a delimiter. more
// is true when d ends too soon to tell.
func matchEnd(d []byte, i int, name string) (ok, more bool) {
	n := i + 2 + len(name)
	if n >= len(d) {
		rest := d[i+2:]
		if len(rest) > len(name) {
			rest = rest[:len(name)]
		}
		return false, httpfield.EqualFold(rest, name[:len(rest)])
	}
	return httpfield.EqualFold(d[i+2:n], name) && isEndDelim(d[n]), false
}

// scanRaw looks for the end tag of the raw text element from pos. When it
// finds "</name" it switches to sRawEnd to read the end tag to its '>' and
// returns true. It returns false when the data ran out; at eof the body runs
// to the end of the document.
func (f *Filter) scanRaw(d []byte, eof bool) bool {
	if f.opt.XML {
		return f.scanRawXML(d, eof)
	}
	name := f.raw.name()
	if f.raw == kScript {
		return f.scanScript(d, eof)
	}
	for {
		j := bytes.IndexByte(d[f.pos:], '<')
		if j < 0 {
			f.pos = len(d)
			return false
		}
		i := f.pos + j
		if i+1 >= len(d) {
			f.pos = i
			return false
		}
		if d[i+1] == '/' {
			ok, more := matchEnd(d, i, name)
			if more && !eof {
				f.pos = i
				return false
			}
			if ok {
				f.endRaw(i, len(name))
				return true
			}
		}
		f.pos = i + 1
	}
}

// endRaw switches to reading the end tag found at i.
func (f *Filter) endRaw(i, n int) {
	f.rawEnd = i
	f.pos = i + 2 + n
	f.st = sRawEnd
	f.tst = tBeforeAttr
	f.endTag = true
	f.stream = false
	f.record = false
}

// scriptEnd checks for "</script" + delimiter at i, where it ends the
// script. end: it does (sRawEnd is entered); more: d ends too soon to tell
// (pos is left at i to look again with more data).
func (f *Filter) scriptEnd(d []byte, i int, eof bool) (end, more bool) {
	ok, more := matchEnd(d, i, "script")
	if more && !eof {
		f.pos = i
		return false, true
	}
	if ok {
		f.endRaw(i, 6)
		return true, false
	}
	return false, false
}

func (f *Filter) scanScript(d []byte, eof bool) bool {
	i, s := f.pos, f.ss
	defer func() { f.ss = s }()
	for {
		if s == ssData {
			j := bytes.IndexByte(d[i:], '<')
			if j < 0 {
				f.pos = len(d)
				return false
			}
			i += j
			if i+1 >= len(d) && !eof {
				f.pos = i
				return false
			}
			if i+1 >= len(d) {
				f.pos = len(d)
				return false
			}
			switch d[i+1] {
			case '/':
				if end, more := f.scriptEnd(d, i, eof); end || more {
					return end
				}
				i += 2
			case '!':
				// "<!--" enters the escaped state; "<!-" and "<!" fall back to data.
				if i+3 >= len(d) && !eof {
					f.pos = i
					return false
				}
				switch {
				case i+3 < len(d) && d[i+2] == '-' && d[i+3] == '-':
					if !f.rawEsc {
						f.rawEsc, f.rawEscAt = true, i
					}
					s = ssEscDashDash
					i += 4
				case i+2 < len(d) && d[i+2] == '-':
					i += 3
				default:
					i += 2
				}
			default:
				i++
			}
			continue
		}
		// The escaped states look at every byte: escaped sections are rare.
		if i >= len(d) {
			f.pos = i
			return false
		}
		c := d[i]
		switch {
		case c == '-':
			switch s {
			case ssEsc:
				s = ssEscDash
			case ssEscDash:
				s = ssEscDashDash
			case ssDbl:
				s = ssDblDash
			case ssDblDash:
				s = ssDblDashDash
			}
			i++
		case c == '>' && (s == ssEscDashDash || s == ssDblDashDash):
			s = ssData
			i++
		case c == '<':
			if i+1 >= len(d) {
				if !eof {
					f.pos = i
					return false
				}
				i++
				continue
			}
			escaped := s == ssEsc || s == ssEscDash || s == ssEscDashDash
			if escaped {
				s = ssEsc
			} else {
				s = ssDbl
			}
			switch c2 := d[i+1]; {
			case c2 == '/':
				if escaped {
					if end, more := f.scriptEnd(d, i, eof); end || more {
						return end
					}
					i += 2
					continue
				}
				// "</script" + delimiter leaves the double-escaped state.
				ok, more := matchEnd(d, i, "script")
				if more && !eof {
					f.pos = i
					return false
				}
				if ok {
					s = ssEsc
					i += 9
					continue
				}
				i += 2
			case escaped && isAlpha(c2):
				// "<script" + delimiter enters the double-escaped state.
				n := i + 1
				for n < len(d) && isAlpha(d[n]) {
					n++
				}
				if n >= len(d) && !eof {
					f.pos = i
					return false
				}
				if n < len(d) && httpfield.EqualFold(d[i+1:n], "script") && isEndDelim(d[n]) {
					s = ssDbl
					n++
				}
				i = n
			default:
				i++
			}
		default:
			switch s {
			case ssEscDash, ssEscDashDash:
				s = ssEsc
			case ssDblDash, ssDblDashDash:
				s = ssDbl
			}
			i++
		}
	}
}
