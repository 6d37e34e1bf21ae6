package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the operator tools")

// TestTools runs `caddy consent` with each subcommand as a function and
// compares its output and exit status with testdata/cmd/<name>.golden (go
// test -update rewrites them).
func TestTools(t *testing.T) {
	page, err := os.ReadFile("../../testdata/cmd/site/shop.html")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/shop", http.StatusMovedPermanently)
		case "/shop":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"scan-file", []string{"scan", "../../testdata/cmd/site/shop.html"}},
		{"scan-dir-json", []string{"scan", "--json", "../../testdata/cmd/site"}},
		{"scan-fail-on", []string{"scan", "--fail-on", "advertising", "../../testdata/cmd/site/shop.html"}},
		{"scan-fail-on-clean", []string{"scan", "../../testdata/cmd/site/about.htm", "--fail-on", "analytics,advertising"}},
		{"scan-url-redirect", []string{"scan", srv.URL + "/old"}},
		{"scan-url-404", []string{"scan", srv.URL + "/missing"}},
		{"scan-missing-file", []string{"scan", "../../testdata/cmd/site/nope.html"}},
		{"scan-bad-category", []string{"scan", "--fail-on", "marketing", "../../testdata/cmd/site"}},
		{"scan-no-input", []string{"scan"}},
		{"scan-unclassified", []string{"scan", "../../testdata/cmd/unclassified.html"}},
		{"scan-list", []string{"scan", "--list", "tds:../../testdata/cmd/tracker-list.json", "../../testdata/cmd/unclassified.html"}},
		{"scan-suggest", []string{"scan", "--suggest", "../../testdata/cmd/unclassified.html", "../../testdata/cmd/site"}},
		{"rules-check-good", []string{"rules", "check", "../../testdata/cmd/good.rules"}},
		{"rules-check-bad", []string{"rules", "check", "../../testdata/cmd/bad.rules"}},
		{"rules-check-list", []string{"rules", "check", "--list", "tds:../../testdata/cmd/tracker-list.json", "../../testdata/cmd/good.rules"}},
		{"rules-check-list-format", []string{"rules", "check", "--list", "easylist:../../testdata/cmd/tracker-list.json"}},
		{"rules-list", []string{"rules", "list"}},
		{"rules-list-json", []string{"rules", "list", "--json", "--rules", "../../testdata/cmd/good.rules"}},
		{"decode", []string{"decode", "session=1; consent=analytics; OptanonConsent=groups=C0002%3A1%2CC0004%3A0; cmplz_marketing=allow", "--header", "Sec-GPC: 1"}},
		{"decode-tcf-dnt", []string{"decode", "--dnt", "--header", "DNT: 1", "euconsent-v2=CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA"}},
		{"decode-vendors", []string{"decode", "--map", "heatmaps=hotjar", "klaro=" + url.PathEscape(`{"googleAnalytics":true,"heatmaps":false}`) + "; euconsent-v2=CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA"}},
		{"decode-bad-map", []string{"decode", "--map", "heatmaps=weather", "klaro={}"}},
		{"decode-garbage", []string{"decode", "consent=%zz; klaro=notjson; cc_cookie={\"categories\":[\"analytics\"]}"}},
		{"consent-unknown-command", []string{"encode"}},
		{"consent-no-command", nil},
		{"decode-no-cookie", []string{"decode"}},
		{"version-extra-argument", []string{"version", "--json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(tt.args, &stdout, &stderr)
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout.String(), stderr.String())
			got = strings.ReplaceAll(got, srv.URL, "http://origin.test")
			golden := filepath.Join("../../testdata/cmd", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestScanSuggestParses: what --suggest writes is a rules file consentedge
// loads, and with it the loads it listed are no longer unclassified.
func TestScanSuggestParses(t *testing.T) {
	page := "../../testdata/cmd/unclassified.html"
	var stdout, stderr bytes.Buffer
	if code := Scan([]string{"--suggest", page}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	file := filepath.Join(t.TempDir(), "suggested.rules")
	if err := os.WriteFile(file, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := Scan([]string{"--json", "--rules", file, page}, &stdout, &stderr); code != 0 {
		t.Fatalf("scan with the suggested rules: exit %d: %s", code, stderr.String())
	}
	var got struct {
		Results []scanResult `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if r := got.Results[0]; len(r.Unclassified) != 0 || len(r.Trackers) != 3 {
		t.Errorf("with the suggested rules: %d unclassified, %d trackers, want 0 and 3", len(r.Unclassified), len(r.Trackers))
	}
}
