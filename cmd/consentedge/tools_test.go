package main

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

// TestTools runs each subcommand as a function and compares its output and
// exit status with testdata/cmd/<name>.golden (go test -update rewrites them).
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
		run  func([]string, *bytes.Buffer, *bytes.Buffer) int
		args []string
	}{
		{"scan-file", scan, []string{"../../testdata/cmd/site/shop.html"}},
		{"scan-dir-json", scan, []string{"--json", "../../testdata/cmd/site"}},
		{"scan-fail-on", scan, []string{"--fail-on", "advertising", "../../testdata/cmd/site/shop.html"}},
		{"scan-fail-on-clean", scan, []string{"../../testdata/cmd/site/about.htm", "--fail-on", "analytics,advertising"}},
		{"scan-url-redirect", scan, []string{srv.URL + "/old"}},
		{"scan-url-404", scan, []string{srv.URL + "/missing"}},
		{"scan-missing-file", scan, []string{"../../testdata/cmd/site/nope.html"}},
		{"scan-bad-category", scan, []string{"--fail-on", "marketing", "../../testdata/cmd/site"}},
		{"scan-no-input", scan, nil},
		{"scan-unclassified", scan, []string{"../../testdata/cmd/unclassified.html"}},
		{"scan-list", scan, []string{"--list", "tds:../../testdata/cmd/tracker-list.json", "../../testdata/cmd/unclassified.html"}},
		{"scan-suggest", scan, []string{"--suggest", "../../testdata/cmd/unclassified.html", "../../testdata/cmd/site"}},
		{"rules-check-good", rulesCmd, []string{"check", "../../testdata/cmd/good.rules"}},
		{"rules-check-bad", rulesCmd, []string{"check", "../../testdata/cmd/bad.rules"}},
		{"rules-check-list", rulesCmd, []string{"check", "--list", "tds:../../testdata/cmd/tracker-list.json", "../../testdata/cmd/good.rules"}},
		{"rules-check-list-format", rulesCmd, []string{"check", "--list", "easylist:../../testdata/cmd/tracker-list.json"}},
		{"rules-list", rulesCmd, []string{"list"}},
		{"rules-list-json", rulesCmd, []string{"list", "--json", "--rules", "../../testdata/cmd/good.rules"}},
		{"consent-decode", consentCmd, []string{"decode", "session=1; consent=analytics; OptanonConsent=groups=C0002%3A1%2CC0004%3A0; cmplz_marketing=allow", "--header", "Sec-GPC: 1"}},
		{"consent-decode-tcf-dnt", consentCmd, []string{"decode", "--dnt", "--header", "DNT: 1", "euconsent-v2=CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA"}},
		{"consent-decode-vendors", consentCmd, []string{"decode", "--map", "heatmaps=hotjar", "klaro=" + url.PathEscape(`{"googleAnalytics":true,"heatmaps":false}`) + "; euconsent-v2=CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA"}},
		{"consent-decode-bad-map", consentCmd, []string{"decode", "--map", "heatmaps=weather", "klaro={}"}},
		{"consent-decode-garbage", consentCmd, []string{"decode", "consent=%zz; klaro=notjson; cc_cookie={\"categories\":[\"analytics\"]}"}},
		{"consent-usage", consentCmd, []string{"encode"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := tt.run(tt.args, &stdout, &stderr)
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

func scan(a []string, o, e *bytes.Buffer) int       { return runScan(a, o, e) }
func rulesCmd(a []string, o, e *bytes.Buffer) int   { return runRules(a, o, e) }
func consentCmd(a []string, o, e *bytes.Buffer) int { return runConsent(a, o, e) }

// TestScanSuggestParses: what --suggest writes is a rules file consentedge
// loads, and with it the loads it listed are no longer unclassified.
func TestScanSuggestParses(t *testing.T) {
	page := "../../testdata/cmd/unclassified.html"
	var stdout, stderr bytes.Buffer
	if code := scan([]string{"--suggest", page}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	file := filepath.Join(t.TempDir(), "suggested.rules")
	if err := os.WriteFile(file, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := scan([]string{"--json", "--rules", file, page}, &stdout, &stderr); code != 0 {
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
