package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestVersionCommand: the ready build's `version` names consentedge and
// Caddy; every other command is Caddy's.
func TestVersionCommand(t *testing.T) {
	_, caddyFull := caddy.Version()
	for _, arg := range []string{"version", "--version", "-v"} {
		var stdout, stderr bytes.Buffer
		code, ok := ownCommand([]string{arg}, &stdout, &stderr)
		if !ok || code != 0 {
			t.Fatalf("%s: answered %v, exit %d: %s", arg, ok, code, stderr.String())
		}
		lines := strings.Split(stdout.String(), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "consentedge ") || lines[1] != "caddy "+caddyFull {
			t.Errorf("%s printed %q", arg, stdout.String())
		}
	}
	for _, args := range [][]string{nil, {"run"}, {"version", "--help"}, {"consent", "version"}, {"list-modules"}} {
		if _, ok := ownCommand(args, new(bytes.Buffer), new(bytes.Buffer)); ok {
			t.Errorf("%q answered by the ready build, not by Caddy", args)
		}
	}
}
