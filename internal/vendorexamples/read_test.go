package vendorexamples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRead: examples run from their "==" line to the next; a malformed
// "==" line or text before the first example is an error naming its file
// and line.
func TestRead(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"good", "# comment\n\n== ga analytics https://a.example/doc\n<script>\nx()</script>\n== fb advertising https://b.example/ observed\nhttps://b.example/p.js\n", ""},
		{"bad header", "== ga analytics http://a.example/doc\nx\n", "bad header.txt:1: want"},
		{"stray text", "# comment\nstray\n== ga analytics https://a.example/\nx\n", "stray text.txt:2: text before the first example"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tc.name+".txt"), []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Read(dir)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil || len(got) != 2 {
			t.Fatalf("%s: %v, %d examples", tc.name, err, len(got))
		}
		if e := got[0]; e.Vendor != "ga" || e.Category != "analytics" || e.Line != 3 || e.Text != "<script>\nx()</script>" || e.Observed {
			t.Errorf("first example: %+v", e)
		}
		if e := got[1]; e.Vendor != "fb" || !e.Observed || e.Source != "https://b.example/" || e.Text != "https://b.example/p.js" {
			t.Errorf("second example: %+v", e)
		}
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("a folder without examples read")
	}
}
