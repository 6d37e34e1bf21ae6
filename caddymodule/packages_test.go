package caddymodule

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestPurePackagesImportNoServer: the packages docs/packages.md calls pure
// never import Caddy or zap, directly or through another package, so that
// they stay testable, fuzzable and reusable without a server.
func TestPurePackagesImportNoServer(t *testing.T) {
	doc, err := os.ReadFile("../docs/packages.md")
	if err != nil {
		t.Fatal(err)
	}
	pure := regexp.MustCompile("(?m)^- `([a-z/]+)/` \\(pure\\)").FindAllStringSubmatch(string(doc), -1)
	if len(pure) < 7 {
		t.Fatalf("docs/packages.md names %d pure packages, want every one of them", len(pure))
	}
	for _, m := range pure {
		out, err := exec.Command("go", "list", "-deps", "../"+m[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", m[1], err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if strings.HasPrefix(dep, "github.com/caddyserver/") || strings.HasPrefix(dep, "go.uber.org/zap") {
				t.Errorf("%s imports %s", m[1], dep)
			}
		}
	}
}
