package rules

import "github.com/consentedge/consentedge/internal/httpfield"

// nameBuffer is the size of the stack buffers a parameter name is decoded
// into; Params with longer names use the heap.
const nameBuffer = 64

// nameForm is a parameter name as one family of parsers reads it: n counts
// every byte, buf holds the first len(buf) of them, enough to compare with
// each of the Params' names and prefixes.
type nameForm struct {
	buf []byte
	n   int
}

func (f *nameForm) add(c byte) {
	if f.n < len(f.buf) {
		f.buf[f.n] = c
	}
	f.n++
}

// in returns the categories of the names of p the name is, or of the
// prefixes it starts with; 0 if none.
func (f *nameForm) in(p *Params) Set {
	var cats Set
	if f.n <= len(f.buf) {
		cats = p.exact[string(f.buf[:f.n])]
	}
	for _, e := range p.prefixes {
		if f.n >= len(e.prefix) && string(f.buf[:len(e.prefix)]) == e.prefix {
			cats |= e.cats
		}
	}
	return cats
}

// match returns the categories for which p lists a raw (still
// percent-encoded) parameter name, as any of the common parsers reads it. Each decodes the name once ('+'
// is a space, %XX a byte; a malformed escape stays as it is), and names
// match ASCII case-insensitively ("gcl%69d" and "GCLID" are still the click
// id a tag reads). Then:
//   - most (Go, Python, Node's querystring, Java) take the name as it is;
//   - Rack (so Rails) and Node's qs end it at the first '[' after its first
//     byte: "gclid[]" and "gclid[0]" are gclid;
//   - PHP drops leading spaces, ends it at a NUL (names are C strings),
//     turns ' ' and '.' into '_', and at the first '[' either ends it, when
//     a ']' follows, or turns every '[' into '_' too ("Variables From
//     External Sources" in the PHP manual; main/php_variables.c): li.fat.id
//     is li_fat_id to PHP.
//
// It reads the name once, whatever its length, into fixed buffers.
func (p *Params) match(raw string) Set {
	var plainStack, phpStack [nameBuffer]byte
	plain, php := nameForm{buf: plainStack[:]}, nameForm{buf: phpStack[:]}
	if p.longest > nameBuffer {
		plain.buf, php.buf = make([]byte, p.longest), make([]byte, p.longest)
	}
	rackEnd := -1    // where Rack ends the name, if it does
	phpBracket := -1 // PHP's first '['
	phpClosed, phpEnded := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(raw) && httpfield.IsHex(raw[i+1]) && httpfield.IsHex(raw[i+2]):
			c = httpfield.Unhex(raw[i+1])<<4 | httpfield.Unhex(raw[i+2])
			i += 2
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == '[' && plain.n > 0 && rackEnd < 0 {
			rackEnd = plain.n
		}
		plain.add(c)
		switch {
		case phpEnded:
		case c == 0:
			phpEnded = true
		case c == ' ' && php.n == 0: // a leading space
		case c == ' ' || c == '.':
			php.add('_')
		case c == '[' && phpBracket < 0:
			phpBracket = php.n
			php.add(c)
		case c == ']' && phpBracket >= 0:
			phpClosed = true
			php.add(c)
		default:
			php.add(c)
		}
	}
	cats := plain.in(p)
	if rackEnd >= 0 {
		rack := nameForm{buf: plain.buf, n: rackEnd}
		cats |= rack.in(p)
	}
	return cats | phpName(&php, phpBracket, phpClosed).in(p)
}

// phpName finishes PHP's reading of a name whose first '[' is at bracket
// (-1 if none): an array name ends there; an unclosed '[' is no bracket, so
// it and every later one become '_'. A name that starts with '[' is one PHP
// drops, so it matches nothing.
func phpName(f *nameForm, bracket int, closed bool) *nameForm {
	switch {
	case bracket == 0:
		f.n = 0
		f.buf = f.buf[:0]
	case bracket > 0 && closed:
		f.n = bracket
	case bracket > 0:
		for i := bracket; i < min(f.n, len(f.buf)); i++ {
			if f.buf[i] == '[' {
				f.buf[i] = '_'
			}
		}
	}
	return f
}
