package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestScanReadsAsTheProxy: scan reads a page through the proxy's transcoder,
// so its filter sees the text the proxy's filter sees: a UTF-8 BOM dropped,
// invalid UTF-8 as U+FFFD, other encodings decoded.
func TestScanReadsAsTheProxy(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"utf-8 bom", "\xef\xbb\xbf<p>caf\xc3\xa9</p>", "<p>café</p>"},
		{"invalid utf-8 after a utf-8 meta", "<meta charset=utf-8><img src=\"https://px.test/p?\xff\">", "<meta charset=utf-8><img src=\"https://px.test/p?\uFFFD\">"},
		{"windows-1252 by meta", "<meta charset=windows-1252><p>caf\xe9</p>", "<meta charset=windows-1252><p>café</p>"},
		{"utf-16le bom", "\xff\xfe<\x00p\x00>\x00", "<p>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "page.html")
			if err := os.WriteFile(file, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readInput(http.DefaultClient, file)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("read %q, want %q", got, c.want)
			}
		})
	}
}
