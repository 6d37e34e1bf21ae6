package cli

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestFormatVersion: the module's version and commit as each kind of
// build records them, and Caddy's version on the second line.
func TestFormatVersion(t *testing.T) {
	const caddyV = "v2.11.9 h1:abc="
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	dep := func(m *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "caddy"}, Deps: []*debug.Module{
			{Path: "github.com/caddyserver/caddy/v2", Version: "v2.11.9"}, m}}
	}
	const rev = "6d3c77f0abcd1234567890abcdef1234567890ab"
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"xcaddy, a release", dep(&debug.Module{Path: ModulePath, Version: "v0.3.0", Sum: "h1:x="}),
			"consentedge v0.3.0"},
		{"xcaddy, a commit", dep(&debug.Module{Path: ModulePath, Version: "v0.0.0-20261206033357-6d3c77f0abcd"}),
			"consentedge v0.0.0-20261206033357-6d3c77f0abcd (commit 6d3c77f0abcd)"},
		{"xcaddy, a commit after a tag", dep(&debug.Module{Path: ModulePath, Version: "v0.3.1-0.20261206033357-6d3c77f0abcd"}),
			"consentedge v0.3.1-0.20261206033357-6d3c77f0abcd (commit 6d3c77f0abcd)"},
		{"xcaddy, a local checkout", dep(&debug.Module{Path: ModulePath, Version: "v0.0.0-00010101000000-000000000000",
			Replace: &debug.Module{Path: "/src/consentedge", Version: "(devel)"}}),
			"consentedge v0.0.0-00010101000000-000000000000 => /src/consentedge (commit unknown)"},
		{"a local checkout, no version", dep(&debug.Module{Path: ModulePath, Version: "v0.0.0-00010101000000-000000000000",
			Replace: &debug.Module{Path: "/src/consentedge"}}),
			"consentedge v0.0.0-00010101000000-000000000000 => /src/consentedge (commit unknown)"},
		{"xcaddy, a fork", dep(&debug.Module{Path: ModulePath, Version: "v0.3.0",
			Replace: &debug.Module{Path: "example.com/fork", Version: "v0.0.0-20261206033357-abcdef012345"}}),
			"consentedge v0.3.0 => example.com/fork@v0.0.0-20261206033357-abcdef012345 (commit abcdef012345)"},
		{"ready build from a checkout", &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v0.0.0-20261206033357-6d3c77f0abcd"},
			Settings: vcs(rev, "false")},
			"consentedge v0.0.0-20261206033357-6d3c77f0abcd (commit " + rev + ")"},
		{"ready build with changes", &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "v0.0.0-20261206033357-6d3c77f0abcd+dirty"},
			Settings: vcs(rev, "true")},
			"consentedge v0.0.0-20261206033357-6d3c77f0abcd+dirty (commit " + rev + ", modified)"},
		{"ready build, -buildvcs=false", &debug.BuildInfo{Main: debug.Module{Path: ModulePath, Version: "(devel)"}},
			"consentedge (devel) (commit unknown)"},
		{"ready build, no version", &debug.BuildInfo{Main: debug.Module{Path: ModulePath}},
			"consentedge (devel) (commit unknown)"},
		{"module not in the build", dep(&debug.Module{Path: "example.com/other", Version: "v1.0.0"}),
			"consentedge unknown (commit unknown)"},
		{"no build information", nil,
			"consentedge unknown (commit unknown)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := c.want + "\ncaddy " + caddyV + "\n"
			if got := FormatVersion(c.bi, caddyV); got != want {
				t.Errorf("got\n%swant\n%s", got, want)
			}
		})
	}
}

// TestVersion: the command itself, in this test binary, names both.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	_, caddyFull := caddy.Version()
	lines := strings.Split(stdout.String(), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "consentedge ") || lines[1] != "caddy "+caddyFull {
		t.Errorf("version printed %q", stdout.String())
	}
	if bi, ok := debug.ReadBuildInfo(); !ok || bi.Main.Path != ModulePath {
		t.Errorf("ModulePath %q is not the module of this test binary", ModulePath)
	}
}
