// Command consentedge is Caddy with the standard modules and the consent
// handler (http.handlers.consent, Caddyfile directive `consent`).
//
//	go run ./cmd/consentedge run --config Caddyfile
package main

import (
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/consentedge/consentedge/caddymodule"
)

func main() {
	caddycmd.Main()
}

// The operator tools, as Caddy subcommands: `consentedge scan`, `consentedge
// rules check|list`, `consentedge consent decode`. Each parses its own flags
// (cobra's are off) so that it runs, and is tested, as a plain function.
func init() {
	for _, c := range []struct {
		name, usage, short string
		run                func(args []string) int
	}{
		{"scan", "[--json] [--fail-on <categories>] <file|dir|url>...", "Lists the trackers in HTML pages and what each consent state removes",
			func(a []string) int { return runScan(a, os.Stdout, os.Stderr) }},
		{"rules", "check <file>... | list [--json]", "Checks rules files or lists the vendor rules",
			func(a []string) int { return runRules(a, os.Stdout, os.Stderr) }},
		{"consent", "decode [--header 'Name: value']... '<Cookie header>'", "Shows what a visitor's consent signals grant",
			func(a []string) int { return runConsent(a, os.Stdout, os.Stderr) }},
	} {
		caddycmd.RegisterCommand(caddycmd.Command{
			Name:  c.name,
			Usage: c.usage,
			Short: c.short,
			CobraFunc: func(cmd *cobra.Command) {
				cmd.DisableFlagParsing = true
				cmd.RunE = func(_ *cobra.Command, args []string) error {
					if code := c.run(args); code != 0 {
						os.Exit(code)
					}
					return nil
				}
			},
		})
	}
}
