package caddymodule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"

	// The goldens use standard directives around ours.
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

// TestCaddyfileAdapt runs the goldens in testdata/caddyfile, in the format of
// Caddy's caddytest/integration/caddyfile_adapt: Caddyfile, a line of ten
// dashes, then the expected JSON or a substring of the expected error.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob("../testdata/caddyfile/*.caddyfiletest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			caddyfile, expected, ok := strings.Cut(string(data), "----------")
			if !ok {
				t.Fatal("no ---------- separator")
			}
			caddyfile = strings.TrimSpace(caddyfile) + "\n"
			expected = strings.TrimSpace(expected)
			if strings.HasPrefix(expected, "{") {
				if !caddytest.CompareAdapt(t, file, caddyfile, "caddyfile", expected) {
					t.Error("adapted JSON differs (diff above)")
				}
				return
			}
			_, _, err = caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
			if err == nil {
				t.Fatalf("adapted without error; want one containing %q", expected)
			}
			if !strings.Contains(err.Error(), expected) {
				t.Errorf("error %q does not contain %q", err, expected)
			}
		})
	}
}
