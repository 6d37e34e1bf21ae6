package charset

import (
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Encoding is one of the encodings of the WHATWG Encoding standard (§4.2).
// The zero value is UTF-8.
type Encoding struct{ id uint8 }

// Encoding ids. The order of names below follows these constants.
const (
	idUTF8 uint8 = iota
	idUTF16BE
	idUTF16LE
	idReplacement
	idISO2022JP
	idWindows1252
	idXUserDefined
	idGBK
	idGB18030
	idLegacy // first id of the rest of the table, in names order
)

// names lists the WHATWG names (Encoding §4.2, the "Name" column), indexed
// by id. htmlindex's canonical names are these names in lower case.
var names = [...]string{
	"UTF-8", "UTF-16BE", "UTF-16LE", "replacement", "ISO-2022-JP",
	"windows-1252", "x-user-defined", "GBK", "gb18030",
	"IBM866", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5",
	"ISO-8859-6", "ISO-8859-7", "ISO-8859-8", "ISO-8859-8-I", "ISO-8859-10",
	"ISO-8859-13", "ISO-8859-14", "ISO-8859-15", "ISO-8859-16", "KOI8-R",
	"KOI8-U", "macintosh", "windows-874", "windows-1250", "windows-1251",
	"windows-1253", "windows-1254", "windows-1255", "windows-1256",
	"windows-1257", "windows-1258", "x-mac-cyrillic", "Big5", "EUC-JP",
	"Shift_JIS", "EUC-KR",
}

// Name returns the WHATWG name of the encoding, e.g. "UTF-8", "Shift_JIS".
func (e Encoding) Name() string {
	if int(e.id) < len(names) {
		return names[e.id]
	}
	return names[idUTF8]
}

// String returns Name.
func (e Encoding) String() string { return e.Name() }

// IsUTF8 reports whether the encoding is UTF-8.
func (e Encoding) IsUTF8() bool { return e.id == idUTF8 }

// ASCIICompatible reports whether the bytes 0x00-0x7F, outside escape
// sequences, decode to ASCII; false for the UTF-16 encodings, ISO-2022-JP
// (escape sequences switch to double-byte sets) and replacement.
func (e Encoding) ASCIICompatible() bool {
	switch e.id {
	case idUTF16BE, idUTF16LE, idReplacement, idISO2022JP:
		return false
	}
	return true
}

// Lookup resolves an encoding label as Encoding §4.2 "get an encoding" does:
// ASCII whitespace trimmed, ASCII case-insensitive. Labels with other bytes
// never match (strings.ToLower would fold U+212A KELVIN SIGN to 'k', and
// strings.TrimSpace would trim VT and NBSP, which browsers do not).
func Lookup(label string) (Encoding, bool) {
	label = trimASCIISpace(label)
	if httpfield.EqualFold(label, "utf-8") {
		return Encoding{idUTF8}, true // most pages: no table needed
	}
	if label == "" || len(label) > 32 {
		return Encoding{}, false
	}
	var buf [32]byte
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c <= 0x20 || c >= 0x7F {
			// No label has these; htmlindex would trim Unicode spaces and
			// fold non-ASCII letters.
			return Encoding{}, false
		}
		buf[i] = httpfield.Lower(c)
	}
	e, err := htmlindex.Get(string(buf[:len(label)]))
	if err != nil {
		return Encoding{}, false
	}
	canon, err := htmlindex.Name(e)
	if err != nil {
		return Encoding{}, false
	}
	for id, n := range names {
		if httpfield.EqualFold(n, canon) {
			return Encoding{uint8(id)}, true
		}
	}
	return Encoding{}, false
}

// decoder returns the x/text decoder for the legacy (non-UTF, non-
// replacement) encodings.
func (e Encoding) decoder() encoding.Encoding {
	name := e.Name()
	if e.id == idGBK {
		// Encoding §10.1.1: "The gbk decoder is the gb18030 decoder"; x/text's
		// GBK decoder rejects gb18030 four-byte sequences.
		name = "gb18030"
	}
	if e.Name() == "ISO-8859-8-I" {
		// Encoding §9: same index as ISO-8859-8 (the two differ only in
		// bidi handling); x/text wraps it in a type the single-byte path
		// would not recognise.
		name = "iso-8859-8"
	}
	enc, err := htmlindex.Get(name)
	if err != nil {
		return nil
	}
	return enc
}

// isASCIISpace reports the ASCII whitespace of the Infra standard (TAB, LF,
// FF, CR, SPACE).
func isASCIISpace(c byte) bool {
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func trimASCIISpace(s string) string {
	for len(s) > 0 && isASCIISpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isASCIISpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
