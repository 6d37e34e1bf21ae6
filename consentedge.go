// Package consentedge is the module as a Caddy plugin: a blank import of
// it, as xcaddy's `--with github.com/consentedge/consentedge` writes,
// brings in the consent handler (package caddymodule) and the operator
// tools as one Caddy command, `caddy consent scan|rules|decode|version`
// (package internal/cli).
package consentedge

import (
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	_ "github.com/consentedge/consentedge/caddymodule"
	"github.com/consentedge/consentedge/internal/cli"
)

// init registers `caddy consent`. The tools parse their own flags
// (cobra's are off) so that each runs, and is tested, as a plain
// function; a command registered under a name Caddy already has panics
// (caddycmd.RegisterCommand), hence one command with subcommands.
func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "consent",
		Usage: "scan|rules|decode|version [arguments]",
		Short: cli.Short,
		Long:  cli.Usage(),
		CobraFunc: func(cmd *cobra.Command) {
			cmd.DisableFlagParsing = true
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				if code := cli.Main(args, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != 0 {
					// Caddy's Main exits 1 on any error and 0 without one:
					// the tools' statuses (1 for a finding, 2 for usage) need
					// their own exit.
					os.Exit(code)
				}
				return nil
			}
		},
	})
}
