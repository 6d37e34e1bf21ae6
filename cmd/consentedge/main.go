// Command consentedge is Caddy with the standard modules and consentedge:
// the consent handler (http.handlers.consent, Caddyfile directive
// `consent`) and the operator tools (`consentedge consent scan|rules|
// decode|version`). It is the build `xcaddy build --with
// github.com/consentedge/consentedge` makes, ready in the repository.
//
//	go run ./cmd/consentedge run --config Caddyfile
package main

import (
	"io"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/consentedge/consentedge"
	"github.com/consentedge/consentedge/internal/cli"
)

func main() {
	if code, ok := ownCommand(os.Args[1:], os.Stdout, os.Stderr); ok {
		os.Exit(code)
	}
	caddycmd.Main()
}

// ownCommand answers the commands this build says otherwise than Caddy:
// `version` (and --version) names consentedge's version and commit as well
// as Caddy's. Caddy's CLI registers its own `version`, and registering a
// second one panics, so the arguments are looked at before Caddy's.
func ownCommand(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 1 && (args[0] == "version" || args[0] == "--version" || args[0] == "-v") {
		return cli.Version(nil, stdout, stderr), true
	}
	return 0, false
}
