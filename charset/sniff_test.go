package charset

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func TestSniff(t *testing.T) {
	fill := strings.Repeat("x", 1024)
	tests := []struct {
		name   string
		ct     string
		prefix string
		want   string
		ok     bool
	}{
		// BOM precedence (HTML §13.2.3.2 step 1).
		{"utf8 BOM over header", "text/html; charset=iso-8859-2", "\xEF\xBB\xBF<p>", "UTF-8", true},
		{"utf16be BOM over header", "text/html; charset=utf-8", "\xFE\xFF\x00<", "UTF-16BE", true},
		{"utf16le BOM over header", "text/html; charset=shift_jis", "\xFF\xFE<\x00", "UTF-16LE", true},
		{"BOM over meta", "text/html", "\xFF\xFE<meta charset=koi8-r>", "UTF-16LE", true},
		{"bare BOM", "", "\xFE\xFF", "UTF-16BE", true},

		// Header labels (Encoding §4.2).
		{"latin1", "text/html; charset=latin1", "<p>hi</p>", "windows-1252", true},
		{"iso-8859-1", "text/html;charset=ISO-8859-1", "<p>hi</p>", "windows-1252", true},
		{"ascii", "text/html; charset=us-ascii", "<p>", "windows-1252", true},
		{"x-sjis", "text/html; charset=x-sjis", "<p>", "Shift_JIS", true},
		{"quoted", `text/html; charset="euc-kr"`, "<p>", "EUC-KR", true},
		{"quoted escape", `text/html; charset="gb\k"`, "<p>", "GBK", true},
		{"padded label", "text/html; charset= utf-8 ", "<p>", "UTF-8", true},
		{"header utf-16", "text/html; charset=utf-16", "<\x00p\x00", "UTF-16LE", true},
		{"header utf-16be", "text/html; charset=UTF-16BE", "\x00<", "UTF-16BE", true},
		{"header x-user-defined stays", "text/html; charset=x-user-defined", "<p>", "x-user-defined", true},
		{"header replacement", "text/html; charset=iso-2022-kr", "<p>", "replacement", true},
		{"first charset param wins", "text/html; charset=koi8-r; charset=gbk", "<p>", "KOI8-R", true},
		{"charset param case", "text/html; CHARSET=Big5", "<p>", "Big5", true},
		{"kelvin sign not folded", "text/html; charset=\u212Aoi8-r", "<p>", "UTF-8", false},
		{"unknown label falls to meta", "text/html; charset=bogus", "<meta charset=koi8-u>", "KOI8-U", true},
		{"unknown label falls to default", "text/html; charset=bogus", pad("<p>", 1024), "UTF-8", true},
		{"comma values: last type wins", "text/html;charset=gbk, text/plain", "<meta charset=big5>", "Big5", true},
		{"comma values: charset carries", "text/html;charset=gbk, text/html", "<p>", "GBK", true},
		{"comma inside quotes", `text/html;charset="gb,k", text/html;charset=koi8-r`, "<p>", "KOI8-R", true},
		{"invalid mime ignored", "html; charset=gbk", "<meta charset=big5>", "Big5", true},

		// Header and a BOM that may still arrive.
		{"empty prefix with header", "text/html; charset=gbk", "", "GBK", false},
		{"FE with header utf-16be", "text/html; charset=utf-16be", "\xFE", "UTF-16BE", true},
		{"FE with header gbk", "text/html; charset=gbk", "\xFE", "GBK", false},
		{"EF BB with header utf-8", "text/html; charset=utf-8", "\xEF\xBB", "UTF-8", true},
		{"EF BB no header", "", "\xEF\xBB", "windows-1252", false},
		{"not a BOM prefix", "text/html; charset=gbk", "\xEF<", "GBK", true},

		// Meta prescan (HTML §13.2.3.2 "prescan a byte stream").
		{"meta charset", "", "<meta charset=utf-8>", "UTF-8", true},
		{"meta charset uppercase", "", "<META CHARSET=KOI8-R>", "KOI8-R", true},
		{"meta single quoted", "", "<meta charset='iso-8859-5'>", "ISO-8859-5", true},
		{"meta double quoted", "", `<meta charset="iso-8859-7">`, "ISO-8859-7", true},
		{"meta slash sep", "", "<meta/charset=koi8-r>", "KOI8-R", true},
		{"meta http-equiv then content", "", `<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">`, "windows-1251", true},
		{"meta content then http-equiv", "", `<meta content="text/html; charset=windows-1251" http-equiv=content-type>`, "windows-1251", true},
		{"content without pragma ignored", "", `<meta content="text/html; charset=windows-1251"><meta charset=gbk>`, "GBK", true},
		{"content unquoted charset value", "", `<meta http-equiv=content-type content='text/html;charset="koi8-u"'>`, "KOI8-U", true},
		{"content charset without =", "", `<meta http-equiv=content-type content="charset; charset=big5">`, "Big5", true},
		{"content unmatched quote", "", `<meta http-equiv=content-type content='charset="big5'><meta charset=gbk>`, "GBK", true},
		{"charset attr beats earlier content", "", `<meta http-equiv=content-type content="charset=big5" charset=gbk>`, "GBK", true},
		{"content after charset ignored", "", `<meta charset=gbk http-equiv=content-type content="charset=big5">`, "GBK", true},
		{"duplicate charset attr first wins", "", `<meta charset=koi8-r charset=gbk>`, "KOI8-R", true},
		{"meta unknown charset skipped", "", `<meta charset=bogus><meta charset=gbk>`, "GBK", true},
		{"meta utf-16 becomes utf-8", "", `<meta charset=utf-16le>`, "UTF-8", true},
		{"meta utf-16 via content", "", `<meta http-equiv=content-type content="charset=utf-16">`, "UTF-8", true},
		{"meta x-user-defined becomes windows-1252", "", `<meta charset=x-user-defined>`, "windows-1252", true},
		{"meta in comment ignored", "", pad("<!-- <meta charset=gbk> -->", 1024), "UTF-8", true},
		{"meta after short comment", "", "<!--><meta charset=gbk>", "GBK", true},
		{"meta after <!--->", "", "<!---><meta charset=gbk>", "GBK", true},
		{"unterminated comment", "", pad("<!-- <meta charset=gbk>", 1024), "UTF-8", true},
		{"charset inside another attribute", "", pad(`<div title="<meta charset=gbk>">`, 1024), "UTF-8", true},
		{"charset in other tag's attr", "", pad(`<a charset=gbk>`, 1024), "UTF-8", true},
		{"content charset without pragma", "", pad(`<meta name=description content="see charset=gbk">`, 1024), "UTF-8", true},
		{"charset in another meta attr", "", pad(`<meta http-equiv=content-type content="text/html" data-x="charset=gbk">`, 1024), "UTF-8", true},
		{"meta inside attr of meta", "", pad(`<meta name="<meta charset=gbk>">`, 1024), "UTF-8", true},
		{"meta in bogus comment", "", pad(`<!doctype <meta charset=gbk>`, 1024), "UTF-8", true},
		{"<meta> without attributes then meta", "", `<meta><meta charset=gbk>`, "GBK", true},
		{"metax is not meta", "", pad(`<metax charset=gbk>`, 1024), "UTF-8", true},
		{"meta in end tag", "", pad(`</meta charset=gbk>`, 1024), "UTF-8", true},
		{"meta after 1024 bytes ignored", "", fill + "<meta charset=gbk>", "UTF-8", true},
		{"meta cut by 1024 ignored", "", fill[:1010] + "<meta charset=gbk>", "UTF-8", true},
		{"meta ending at 1024", "", fill[:1006] + "<meta charset=gbk>", "GBK", true},
		{"meta needs more bytes", "", "<meta charset=gbk", "UTF-8", false},
		{"meta quoted needs more", "", `<meta charset="gbk"`, "UTF-8", false},
		{"meta after doctype and comment", "", "<!DOCTYPE html><!-- x --><html><head><meta charset=\"shift_jis\">", "Shift_JIS", true},
		{"utf-16le xml decl", "", "<\x00?\x00x\x00m\x00", "UTF-16LE", true},
		{"utf-16be xml decl", "", "\x00<\x00?\x00x\x00m", "UTF-16BE", true},
		{"utf-16le xml decl prefix", "", "<\x00?\x00", "UTF-8", false},
		{"utf-8 xml decl not read", "", pad(`<?xml version="1.0" encoding="gbk"?>`, 1024), "UTF-8", true},
		{"meta whitespace around =", "", "<meta charset = gbk >", "GBK", true},
		{"meta empty value", "", `<meta charset=""><meta charset=gbk>`, "GBK", true},
		{"meta value ends at quote", "", `<meta charset=gbk"x>`, "GBK", true},
		{"meta replacement", "", `<meta charset=hz-gb-2312>`, "replacement", true},

		// Default (our choice): UTF-8 if valid, else windows-1252.
		{"empty", "", "", "UTF-8", false},
		{"ascii short", "text/html", "<p>hello", "UTF-8", false},
		{"ascii full", "text/html", pad("<p>hello", 1024), "UTF-8", true},
		{"utf8 full", "", pad("<p>h\u00e9llo", 1024), "UTF-8", true},
		{"latin1 bytes", "", pad("<p>h\xe9llo", 1024), "windows-1252", true},
		{"latin1 short", "", "<p>h\xe9llo", "windows-1252", false},
		{"utf8 cut at 1024 tolerated", "", fill[:1023] + "\xC3\xA9", "UTF-8", true},
		{"utf8 cut short is invalid at EOF", "", "<p>\xC3", "windows-1252", false},
		{"utf-16 without BOM or header", "", pad("<\x00p\x00>\x00", 1024), "UTF-8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, ok := Sniff(tt.ct, []byte(tt.prefix))
			if enc.Name() != tt.want || ok != tt.ok {
				t.Errorf("Sniff(%q, %q) = %s, %v; want %s, %v", tt.ct, tt.prefix, enc.Name(), ok, tt.want, tt.ok)
			}
		})
	}
}

// TestSniffOKMeansFinal checks the need-more-bytes contract: whenever Sniff
// reports ok for a prefix, every longer prefix of the same document gives the
// same encoding; and when it reports !ok, the full-document answer is what
// Sniff says for the complete body.
func TestSniffOKMeansFinal(t *testing.T) {
	docs := []struct{ ct, body string }{
		{"", "\xEF\xBB\xBF<meta charset=gbk>"},
		{"", "\xFE\xFF\x00<"},
		{"text/html; charset=utf-16be", "\xFE\xFF\x00<"},
		{"text/html; charset=utf-16le", "\xFE\x00<\x00"},
		{"text/html; charset=utf-8", "\xEF\xBB\xBF<p>"},
		{"", "<!-- c --><meta http-equiv=content-type content='text/html; charset=koi8-r'><p>\xC1"},
		{"", "<p>ascii then a meta <meta charset=gbk> done"},
		{"", "<p>caf\xC3\xA9 <meta charset=big5>"},
		{"", "<p>caf\xE9 <meta charset=big5>"},
		{"", "<\x00?\x00x\x00m\x00l\x00"},
		{"text/html; charset=bogus", "<meta charset=x-user-defined><p>"},
		{"", strings.Repeat("a", 1020) + "<meta charset=gbk>"},
		{"", strings.Repeat("\xE9", 1030)},
	}
	for _, d := range docs {
		body := []byte(d.body)
		final, _ := Sniff(d.ct, body) // the whole body: ok or not, this is the answer
		for i := 0; i <= len(body); i++ {
			enc, ok := Sniff(d.ct, body[:i])
			if ok && enc != final {
				t.Errorf("ct %q body %q: prefix %d says %s final, but the document gives %s", d.ct, d.body, i, enc.Name(), final.Name())
			}
			if i >= PrescanLen && !ok {
				t.Errorf("ct %q body %q: prefix %d of >= 1024 bytes not ok", d.ct, d.body, i)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		label string
		want  string
		ok    bool
	}{
		{"utf8", "UTF-8", true},
		{" \t UTF-8\n", "UTF-8", true},
		{"unicode-1-1-utf-8", "UTF-8", true},
		{"latin1", "windows-1252", true},
		{"l2", "ISO-8859-2", true},
		{"x-sjis", "Shift_JIS", true},
		{"ms932", "Shift_JIS", true},
		{"csshiftjis", "Shift_JIS", true},
		{"gb2312", "GBK", true},
		{"gb18030", "gb18030", true},
		{"big5-hkscs", "Big5", true},
		{"cseucpkdfmtjapanese", "EUC-JP", true},
		{"iso-2022-jp", "ISO-2022-JP", true},
		{"ks_c_5601-1987", "EUC-KR", true},
		{"utf-16", "UTF-16LE", true},
		{"unicodefffe", "UTF-16BE", true},
		{"iso-2022-cn-ext", "replacement", true},
		{"x-mac-ukrainian", "x-mac-cyrillic", true},
		{"iso-8859-8-i", "ISO-8859-8-I", true},
		{"x-user-defined", "x-user-defined", true},
		{"\u00a0utf-8", "", false}, // NBSP is not ASCII whitespace
		{"utf-8\v", "", false},     // nor is VT
		{"utf-7", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		e, ok := Lookup(tt.label)
		if ok != tt.ok || ok && e.Name() != tt.want {
			t.Errorf("Lookup(%q) = %s, %v; want %s, %v", tt.label, e.Name(), ok, tt.want, tt.ok)
		}
	}
}

func TestEncodingProperties(t *testing.T) {
	for id := range names {
		e := Encoding{uint8(id)}
		back, ok := Lookup(e.Name())
		if !ok || back != e {
			t.Errorf("Lookup(%q) = %v, %v; want itself", e.Name(), back, ok)
		}
		wantASCII := true
		switch e.Name() {
		case "UTF-16BE", "UTF-16LE", "ISO-2022-JP", "replacement":
			wantASCII = false
		}
		if e.ASCIICompatible() != wantASCII {
			t.Errorf("%s.ASCIICompatible() = %v", e.Name(), !wantASCII)
		}
		if e.IsUTF8() != (e.Name() == "UTF-8") {
			t.Errorf("%s.IsUTF8() wrong", e.Name())
		}
		if e.id >= idLegacy || e.id == idISO2022JP || e.id == idWindows1252 || e.id == idXUserDefined || e.id == idGBK || e.id == idGB18030 {
			if e.decoder() == nil {
				t.Errorf("%s has no decoder", e.Name())
			}
		}
	}
	// Every single-byte encoding (Encoding §9) takes the table path, so that
	// its bytes 0x80-0x9F follow the WHATWG index.
	for id := range names {
		e := Encoding{uint8(id)}
		multi := map[string]bool{"UTF-8": true, "UTF-16BE": true, "UTF-16LE": true, "replacement": true,
			"ISO-2022-JP": true, "GBK": true, "gb18030": true, "Big5": true, "EUC-JP": true, "Shift_JIS": true, "EUC-KR": true}
		if _, sb := e.decoder().(*charmap.Charmap); !multi[e.Name()] && !sb {
			t.Errorf("%s is not decoded as single-byte", e.Name())
		}
	}
	var zero Encoding
	if zero.Name() != "UTF-8" || !zero.IsUTF8() {
		t.Errorf("zero Encoding = %s", zero.Name())
	}
}

func TestRelabelContentType(t *testing.T) {
	tests := []struct{ in, want string }{
		{"text/html", "text/html; charset=utf-8"},
		{"text/html; charset=iso-8859-1", "text/html; charset=utf-8"},
		{"text/html;charset=Shift_JIS;level=1", "text/html; level=1; charset=utf-8"},
		{`text/html; CHARSET="gbk"; q="a;b"`, `text/html; q="a;b"; charset=utf-8`},
		{"application/xhtml+xml; charset=utf-16 ; profile=x", "application/xhtml+xml; profile=x; charset=utf-8"},
		{"Text/HTML", "Text/HTML; charset=utf-8"},
		{"text/html; charset=a; charset=b", "text/html; charset=utf-8"},
		{"text/html;", "text/html; charset=utf-8"},
		{"", "text/html; charset=utf-8"},
		{"text/html; charset", "text/html; charset=utf-8"},
		{"text/html; charset=utf-8", "text/html; charset=utf-8"},
		{"text/html; charset=UTF-8", "text/html; charset=utf-8"},
		{"text/html; charset=utf-9", "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		if got := RelabelContentType(tt.in); got != tt.want {
			t.Errorf("RelabelContentType(%q) = %q; want %q", tt.in, got, tt.want)
		}
		// The relabelled type must sniff as UTF-8 for any body.
		if e, ok := Sniff(RelabelContentType(tt.in), []byte("<meta charset=gbk>")); !e.IsUTF8() || !ok {
			t.Errorf("Sniff after relabel of %q = %s, %v", tt.in, e.Name(), ok)
		}
	}
}

// TestUTF8HTMLFastPath: the common label, recognised without parsing, reads
// as the parser reads it (a trailing space sends the same label through the
// parser).
func TestUTF8HTMLFastPath(t *testing.T) {
	for _, ct := range []string{"text/html; charset=utf-8", "text/html; charset=UTF-8", "text/html; charset=Utf-8"} {
		if !isUTF8HTML(ct) || isUTF8HTML(ct+" ") {
			t.Fatalf("%q: the fast path is not taken, or taken with a space", ct)
		}
		cs, ok := headerCharset(ct)
		cs2, ok2 := headerCharset(ct + " ")
		if cs != cs2 || ok != ok2 {
			t.Errorf("headerCharset(%q) = %q, %v; parsed: %q, %v", ct, cs, ok, cs2, ok2)
		}
		if got, want := RelabelContentType(ct), RelabelContentType(ct+" "); got != want {
			t.Errorf("RelabelContentType(%q) = %q; parsed: %q", ct, got, want)
		}
	}
	for _, ct := range []string{"text/html;charset=utf-8", "Text/html; charset=utf-8", "text/html; charset=utf-16", "text/html; charset=utf-8x", "text/html; charset=utf-"} {
		if isUTF8HTML(ct) {
			t.Errorf("%q taken for the common label", ct)
		}
	}
}

// TestSniffNotOKCanChange checks the other half of the contract: for each
// prefix Sniff calls undecided, some continuation changes the answer.
func TestSniffNotOKCanChange(t *testing.T) {
	tests := []struct{ ct, prefix, more string }{
		{"", "", "\xFE\xFF"},
		{"text/html; charset=gbk", "", "\xEF\xBB\xBF"},
		{"text/html; charset=gbk", "\xFE", "\xFF"},
		{"text/html; charset=utf-16be", "", "\xFF\xFE"},
		{"text/html; charset=utf-8", "", "\xFE\xFF"},
		{"", "\xEF\xBB", "\xBF"},
		{"", "<p>hello", "\xFF"},
		{"", "<p>h\xe9llo", "<meta charset=gbk>"},
		{"", "<p>\xC3", "\xA9"},
		{"", "<meta charset=gbk", ">"},
		{"", `<meta charset="gbk"`, ">"},
		{"", "<\x00?\x00", "x\x00"},
		{"", "<!-- <meta charset=gbk>", "--><meta charset=big5>"},
		{"text/html; charset=bogus", "<p>", "<meta charset=koi8-r>"},
		{"", strings.Repeat("\xe9", 1000), "<meta charset=gbk>"},
	}
	for _, tt := range tests {
		e1, ok := Sniff(tt.ct, []byte(tt.prefix))
		if ok {
			t.Errorf("Sniff(%q, %q) ok; want undecided", tt.ct, tt.prefix)
			continue
		}
		e2, _ := Sniff(tt.ct, []byte(tt.prefix+tt.more))
		if e1 == e2 {
			t.Errorf("Sniff(%q, %q) = %s, and with %q still %s: the answer could not change", tt.ct, tt.prefix, e1.Name(), tt.more, e2.Name())
		}
	}
	// Past PrescanLen the rest is not read.
	long := strings.Repeat("a", PrescanLen) + "\xFF<meta charset=gbk>"
	if e, ok := Sniff("", []byte(long)); !e.IsUTF8() || !ok {
		t.Errorf("long prefix: %s, %v", e.Name(), ok)
	}
}
