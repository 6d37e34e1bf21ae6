// Package httpfield holds the small byte-level helpers that reading HTTP
// fields and URLs needs everywhere: splitting a field value at a separator
// outside quoted strings, HTTP tokens, hex digits and percent-decoding, and
// ASCII case folding. It is pure Go and imports nothing of Caddy, so the
// rules, charset and caddymodule packages share one implementation of each.
package httpfield
