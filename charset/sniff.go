package charset

import (
	"bytes"
	"unicode/utf8"
)

// PrescanLen is how many bytes of the body the prescan reads (HTML §13.2.3.2:
// "User agents are encouraged to only prescan the first 1024 bytes").
const PrescanLen = 1024

// Sniff returns the encoding a browser uses for an HTML response with the
// given Content-Type whose body starts with prefix (HTML §13.2.3.2). Only the
// first PrescanLen bytes of prefix are read. enc is the answer for prefix taken
// as the whole body; ok is false when fewer than PrescanLen bytes were given
// and more bytes could still change the answer (see the package comment).
func Sniff(contentType string, prefix []byte) (enc Encoding, ok bool) {
	if len(prefix) > PrescanLen {
		prefix = prefix[:PrescanLen]
	}
	full := len(prefix) == PrescanLen

	// Step 1: BOM sniffing (Encoding §6 "BOM sniff").
	if e, found := bomEncoding(prefix); found {
		return e, true
	}
	header, haveHeader := Encoding{}, false
	if cs, has := headerCharset(contentType); has {
		header, haveHeader = Lookup(cs)
	}
	if !full && isBOMPrefix(prefix) {
		// A BOM may still arrive and override everything below, so the
		// answer is settled only if every BOM this prefix can become names
		// the header's encoding.
		return sniffNoBOM(header, haveHeader, prefix, full), haveHeader && bomsAgree(prefix, header)
	}

	// Step 4: the transport layer (Content-Type charset), certain.
	if haveHeader {
		return header, true
	}
	e, declared := prescan(prefix)
	if declared {
		return e, true
	}
	return defaultEncoding(prefix, full), full
}

// sniffNoBOM is Sniff for a prefix that carries no BOM (yet).
func sniffNoBOM(header Encoding, haveHeader bool, prefix []byte, full bool) Encoding {
	if haveHeader {
		return header
	}
	if e, declared := prescan(prefix); declared {
		return e
	}
	return defaultEncoding(prefix, full)
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF16LE = []byte{0xFF, 0xFE}
)

// bomEncoding implements Encoding §6 "BOM sniff".
func bomEncoding(b []byte) (Encoding, bool) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		return Encoding{idUTF8}, true
	case bytes.HasPrefix(b, bomUTF16BE):
		return Encoding{idUTF16BE}, true
	case bytes.HasPrefix(b, bomUTF16LE):
		return Encoding{idUTF16LE}, true
	}
	return Encoding{}, false
}

// isBOMPrefix reports whether b is a proper prefix of some BOM (the empty
// slice is one of all three).
func isBOMPrefix(b []byte) bool {
	return properPrefix(b, bomUTF8) || properPrefix(b, bomUTF16BE) || properPrefix(b, bomUTF16LE)
}

func properPrefix(b, bom []byte) bool { return len(b) < len(bom) && bytes.HasPrefix(bom, b) }

// bomsAgree reports whether every BOM that b can still become selects e.
func bomsAgree(b []byte, e Encoding) bool {
	if properPrefix(b, bomUTF8) && !e.IsUTF8() {
		return false
	}
	if properPrefix(b, bomUTF16BE) && e.id != idUTF16BE {
		return false
	}
	if properPrefix(b, bomUTF16LE) && e.id != idUTF16LE {
		return false
	}
	return true
}

// defaultEncoding is our choice for an undeclared document: UTF-8 when the
// prefix is valid UTF-8, else windows-1252 (see the package comment). When
// the prefix is the full prescan window the document goes on, so a sequence
// cut at its end is not an error.
func defaultEncoding(prefix []byte, full bool) Encoding {
	if full {
		prefix = prefix[:len(prefix)-incompleteTail(prefix)]
	}
	if utf8.Valid(prefix) {
		return Encoding{idUTF8}
	}
	return Encoding{idWindows1252}
}
