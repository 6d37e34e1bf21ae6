package consentedge

import (
	"bytes"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// TestConsentCommand: importing the package registers `caddy consent`, the
// handler with it, and the command runs its subcommands with the
// arguments as given (cobra's flag parsing off).
func TestConsentCommand(t *testing.T) {
	cmd, ok := caddycmd.Commands()["consent"]
	if !ok {
		t.Fatal("no consent command registered")
	}
	if _, err := caddy.GetModule("http.handlers.consent"); err != nil {
		t.Errorf("the handler is not registered: %v", err)
	}
	c := &cobra.Command{Use: cmd.Name}
	cmd.CobraFunc(c)
	if !c.DisableFlagParsing {
		t.Error("cobra parses the tools' flags")
	}
	var stdout, stderr bytes.Buffer
	c.SetOut(&stdout)
	c.SetErr(&stderr)
	if err := c.RunE(c, []string{"rules", "list", "--json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `"id": "google-analytics"`) {
		t.Errorf("consent rules list --json printed %.200q (stderr %q)", stdout.String(), stderr.String())
	}
}
