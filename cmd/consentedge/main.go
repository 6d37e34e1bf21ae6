// Command consentedge is Caddy with the standard modules and the consent
// handler (http.handlers.consent, Caddyfile directive `consent`).
//
//	go run ./cmd/consentedge run --config Caddyfile
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/consentedge/consentedge/caddymodule"
)

func main() {
	caddycmd.Main()
}
