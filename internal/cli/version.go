package cli

import (
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
)

// ModulePath is this module's path, as Go's build information names it.
const ModulePath = "github.com/consentedge/consentedge"

// Version is `caddy consent version`: the version and commit of this
// module and Caddy's version, in any build (xcaddy's or the ready one).
func Version(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: caddy consent version")
		return 2
	}
	bi, _ := debug.ReadBuildInfo()
	_, caddyFull := caddy.Version()
	fmt.Fprint(stdout, FormatVersion(bi, caddyFull))
	return 0
}

// FormatVersion writes the two lines of Version: this module's version
// with its commit where the build says it, then Caddy's.
func FormatVersion(bi *debug.BuildInfo, caddyVersion string) string {
	version, commit := moduleVersion(bi)
	line := "consentedge " + version
	if commit != "" {
		line += " (commit " + commit + ")"
	}
	return line + "\ncaddy " + caddyVersion + "\n"
}

// moduleVersion reads this module's version and commit from the build
// information (https://pkg.go.dev/runtime/debug#BuildInfo). In an xcaddy
// build the module is a dependency: its version is a release tag or a
// pseudo-version ending in the commit (https://go.dev/ref/mod#pseudo-versions).
// In the ready build it is the main module: the go command stamps the
// commit as vcs.revision, unless built with -buildvcs=false or outside a
// checkout. commit is "" for a release tag, which names its commit.
func moduleVersion(bi *debug.BuildInfo) (version, commit string) {
	if bi == nil {
		return "unknown", "unknown"
	}
	if bi.Main.Path == ModulePath {
		return mainVersion(bi)
	}
	for _, dep := range bi.Deps {
		if dep.Path != ModulePath {
			continue
		}
		version, commit = dep.Version, pseudoCommit(dep.Version)
		if r := dep.Replace; r != nil {
			// A replacement by a directory (a local checkout) has no
			// version, or "(devel)"; one by another module has its own.
			version += " => " + r.Path
			commit = "unknown"
			if r.Version != "" && r.Version != "(devel)" {
				version += "@" + r.Version
				commit = pseudoCommit(r.Version)
			}
		}
		return version, commit
	}
	return "unknown", "unknown"
}

// mainVersion is the version and commit of the main module.
func mainVersion(bi *debug.BuildInfo) (version, commit string) {
	version = bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified, _ = strconv.ParseBool(s.Value)
		}
	}
	switch {
	case revision == "":
		return version, "unknown"
	case modified:
		return version, revision + ", modified"
	}
	return version, revision
}

// pseudoCommit is the commit a pseudo-version ends in ("" for a release
// tag, "unknown" for the all-zero one the go command writes for a
// requirement that only a replacement satisfies).
func pseudoCommit(v string) string {
	m := pseudoVersion.FindStringSubmatch(v)
	switch {
	case m == nil:
		return ""
	case strings.Trim(m[1], "0") == "":
		return "unknown"
	}
	return m[1]
}

// pseudoVersion matches the end of the three forms of a pseudo-version:
// a 14-digit UTC time and a 12-character commit prefix, then maybe
// "+incompatible" or "+dirty" (https://go.dev/ref/mod#pseudo-versions).
var pseudoVersion = regexp.MustCompile(`[-.][0-9]{14}-([0-9a-f]{12})(\+[0-9A-Za-z.-]+)?$`)
