// Package cli holds the operator tools of `caddy consent`: scan, rules,
// decode and version, for trying a site before consentedge is switched on
// and for support. Each tool is a function of its arguments and two
// writers that returns the exit status, so that it runs, and is tested,
// without a process; the module's root package registers them with
// Caddy's command line.
package cli

import (
	"fmt"
	"io"
	"strings"
)

// Command is one subcommand of `caddy consent`.
type Command struct {
	Name  string
	Args  string // what follows `caddy consent <Name>`
	Short string
	Run   func(args []string, stdout, stderr io.Writer) int
}

// Commands are the subcommands, in the order the usage lists them.
var Commands = []Command{
	{"scan", "[--json|--suggest] [--fail-on <categories>] <file|dir|url>...",
		"lists the trackers in HTML pages and what each consent state removes", Scan},
	{"rules", "check <file>... | list [--json]",
		"checks rules files or lists the vendor rules", Rules},
	{"decode", "[--header 'Name: value']... '<Cookie header>'",
		"shows what a visitor's consent signals grant", Decode},
	{"version", "",
		"prints the versions of consentedge and Caddy", Version},
}

// Short says what `caddy consent` is, for Caddy's list of commands.
const Short = "Tries consentedge on a site: scans pages, checks rules, decodes consent"

// Main is `caddy consent`: it runs the subcommand that args[0] names.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage())
		return 2
	}
	for _, c := range Commands {
		if c.Name == args[0] {
			return c.Run(args[1:], stdout, stderr)
		}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, Usage())
		return 0
	}
	fmt.Fprintf(stderr, "caddy consent: unknown command %q\n", args[0])
	fmt.Fprint(stderr, Usage())
	return 2
}

// Usage lists the subcommands; each says its own flags with --help.
func Usage() string {
	var b strings.Builder
	b.WriteString("usage: caddy consent <command> [arguments]\n\n")
	for _, c := range Commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.Name, c.Short)
		if c.Args != "" {
			fmt.Fprintf(&b, "           caddy consent %s %s\n", c.Name, c.Args)
		}
	}
	return b.String()
}
