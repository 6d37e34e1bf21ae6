// Package charset decides the character encoding of an HTML document the way a
// browser does and transcodes the document to UTF-8, so that the byte-oriented
// HTML filter (rules/htmlfilter) reads the same markup the browser will parse.
//
// Why: the filter scans bytes as UTF-8/ASCII. A document in UTF-16 spells '<'
// as "<\x00" (or "\x00<"), and stateful or multi-byte legacy encodings can
// change which bytes are markup; unless the filter sees the decoded text, a
// tracker element can pass unseen.
//
// # API
//
//	const PrescanLen = 1024
//	func Sniff(contentType string, prefix []byte) (enc Encoding, ok bool)
//	func Lookup(label string) (Encoding, bool)
//	func (Encoding) Name() string            // WHATWG name: "UTF-8", "Shift_JIS", "windows-1252", ...
//	func (Encoding) IsUTF8() bool
//	func (Encoding) ASCIICompatible() bool
//	func NewUTF8Writer(w io.Writer, enc Encoding) io.WriteCloser
//	var ErrClosed                            // Write after Close
//	func RelabelContentType(ct string) string
//	type Transcoder                          // steps 1 and 2 below: Reset, Write, Flush, Close
//	func (*Transcoder) LeaveUTF8Check()      // UTF-8 passes unchecked, for a UTF8Check further on
//	type UTF8Check                           // the UTF-8 decoder alone: Reset, Write, Close, Pending, Replaced
//
// # Intended use (the handler, the scan command)
//
// Transcoder does step 1 and the streaming of step 2; the caller relabels.
//
//  1. Buffer the first bytes of the body and call Sniff(Content-Type, buf)
//     after each read until ok is true, 1024 bytes are buffered, or the body
//     ends; in the last two cases use enc as returned.
//  2. Set Content-Type to RelabelContentType(ct), then stream the body through
//     NewUTF8Writer(filterInput, enc) and Close it at the end.
//
// A reader that knows part of a UTF-8 document valid by other means (the
// page cache: a remembered page was valid) leaves the check to a UTF8Check
// of its own, in front of the filter (LeaveUTF8Check), and checks only the
// rest: the filter reads the same text.
//
// Step 2 is what makes the scheme safe: the browser receives UTF-8 labelled
// charset=utf-8 by the transport layer, which outranks every <meta> (HTML
// §13.2.3.2 step 4), and valid UTF-8 output can carry no UTF-16 BOM, so the
// browser decodes exactly the bytes the filter read. A wrong guess by Sniff
// (an undeclared legacy page, a locale default we cannot know) then costs
// mojibake, never a bypass. Without the relabel, any mismatch between our
// guess and the browser's could hide markup.
//
// # Sniff: the HTML encoding sniffing algorithm (HTML §13.2.3.2)
//
// Order: BOM (EF BB BF = UTF-8, FE FF = UTF-16BE, FF FE = UTF-16LE; a BOM
// overrides the header), then the charset parameter of Content-Type (parsed
// as in MIME Sniffing §4.4 "parse a MIME type", several comma-separated values
// as in Fetch "extract a MIME type"; the label resolved by Encoding §4.2 "get
// an encoding"; an unknown label is ignored; utf-16 labels are kept as UTF-16
// here), then the <meta> prescan of the first 1024 bytes (HTML §13.2.3.2
// "prescan a byte stream to determine its encoding", including the UTF-16 XML
// declaration check; a meta that declares UTF-16 yields UTF-8 and one that
// declares x-user-defined yields windows-1252), then the default.
//
// Default (HTML §13.2.3.2 steps 6-9 are browser-specific: parent document,
// history, frequency analysis, locale). We choose: UTF-8 when the sniffed
// prefix is valid UTF-8 (plain ASCII included; when the prefix is 1024 bytes
// an incomplete sequence at its very end is tolerated, since the document
// goes on), else windows-1252, the default of browsers in Western locales.
// Risk: a page whose first 1024 bytes are ASCII and whose later text is
// Latin-1 becomes U+FFFD where a Western-locale browser would have shown the
// letters; a page meant for a CJK or Cyrillic locale default renders as
// windows-1252 mojibake. Both are fidelity costs only (see above).
//
// The need-more-bytes result: enc is always the answer for prefix taken as
// the whole document. ok is false when len(prefix) < 1024 and more bytes can
// still change that answer: the prefix is empty or a proper prefix of a BOM
// (unless every BOM it could become names the same encoding as a supported
// header charset), or nothing has declared the encoding yet (no supported
// header charset and no complete meta declaration in the prefix). In the
// undeclared case more bytes can always change the answer (a byte 0xFF turns
// a UTF-8 default into windows-1252; an invalid prefix can still be followed
// by a meta), with one conservative corner: a prefix that is already invalid
// UTF-8 and so close to 1024 bytes that no meta fits any more still reports
// ok=false, and the caller waits for at most those few bytes. With 1024 bytes
// or more, ok is always true. A meta tag that the 1024-byte window cuts is
// ignored: any read past the end of the prefix ends the prescan without a
// result, as browsers that prescan with their tokenizer ignore an unfinished
// tag.
//
// # NewUTF8Writer
//
// It runs the Encoding standard's "decode" (§6): BOM sniffing first (a BOM
// found in the stream selects its encoding whatever enc says, and is
// dropped), then the decoder of enc with replacement error mode: every
// invalid sequence becomes U+FFFD, for UTF-8 one per maximal subpart and for
// UTF-16 per §14.2.1, exactly as browsers do. The "replacement" encoding
// (ISO-2022-KR, HZ-GB-2312, ISO-2022-CN, ...) decodes a non-empty stream to
// one U+FFFD (§14.1). The output is always valid UTF-8. Chunking never changes
// the output; memory is bounded (a few KiB per writer). Valid UTF-8 input is
// written to w straight from the caller's slices, without copying.
//
// ASCIICompatible reports whether the bytes 0x00-0x7F outside escape
// sequences mean ASCII (false for UTF-16BE/LE, ISO-2022-JP and replacement).
// It is not a licence to skip transcoding: in Shift_JIS, Big5 or GBK a letter
// byte can be the second byte of a double-byte character.
//
// Not covered: XHTML served as application/xhtml+xml is sniffed by XML rules
// (the XML declaration, default UTF-8); the relabel keeps it safe, but Sniff
// does not read the XML declaration. An iframe's inherited parent encoding
// and browsers' frequency analysis are not modelled.
package charset
