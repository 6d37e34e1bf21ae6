package charset_test

import (
	"bytes"
	"fmt"

	"github.com/consentedge/consentedge/charset"
)

// A UTF-16LE page hides "<script" from a byte scanner; after sniffing and
// transcoding, the filter and the browser both see plain UTF-8 markup.
func Example() {
	body := []byte("\xFF\xFE<\x00s\x00c\x00r\x00i\x00p\x00t\x00>\x00")
	ct := "text/html; charset=iso-8859-1"

	enc, ok := charset.Sniff(ct, body) // the BOM overrides the header
	fmt.Println(enc.Name(), ok)

	var out bytes.Buffer
	w := charset.NewUTF8Writer(&out, enc)
	w.Write(body[:5]) // any chunking gives the same output
	w.Write(body[5:])
	if err := w.Close(); err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", out.String())
	fmt.Println(charset.RelabelContentType(ct))
	// Output:
	// UTF-16LE true
	// "<script>"
	// text/html; charset=utf-8
}
