package caddymodule

import (
	"math"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("consent", parseCaddyfile)
	// After encode, so that encode compresses what we filtered (it wraps
	// us); before templates, reverse_proxy and file_server, so that we wrap
	// whatever produces the HTML. No global `order` option needed.
	httpcaddyfile.RegisterDirectiveOrder("consent", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	c := new(Handler)
	err := c.UnmarshalCaddyfile(h.Dispenser)
	return c, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	consent {
//	    mode   strip|defer
//	    cookie <name>
//	    rules  <file>...
//	    gpc    on|off
//	    cache  private|vary
//	    max_decoded <size>
//	}
//
// A bare `consent` uses the defaults: strip, cookie "consent", the embedded
// rules only, GPC honoured, filtered responses Cache-Control: private,
// decoded upstream HTML capped at 256 MiB. `rules` may repeat; files apply
// in order. <size> is a byte count with an optional unit (64MiB, 10MB).
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "mode":
			err = h.parseMode(d)
		case "cookie":
			err = h.parseCookie(d)
		case "rules":
			err = h.parseRules(d)
		case "gpc":
			err = h.parseGPC(d)
		case "cache":
			err = h.parseCache(d)
		case "max_decoded":
			err = h.parseMaxDecoded(d)
		default:
			err = d.Errf("unrecognized consent option %q", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// singleArg reads exactly one argument for the current option.
func singleArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	v := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return v, nil
}

func (h *Handler) parseMode(d *caddyfile.Dispenser) error {
	if h.Mode != "" {
		return d.Err("mode already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != modeStrip && v != modeDefer {
		return d.Errf("mode must be strip or defer, got %q", v)
	}
	h.Mode = v
	return nil
}

func (h *Handler) parseCookie(d *caddyfile.Dispenser) error {
	if h.Cookie != "" {
		return d.Err("cookie already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if !isToken(v) {
		return d.Errf("invalid cookie name %q", v)
	}
	h.Cookie = v
	return nil
}

func (h *Handler) parseRules(d *caddyfile.Dispenser) error {
	files := d.RemainingArgs()
	if len(files) == 0 {
		return d.ArgErr()
	}
	h.Rules = append(h.Rules, files...)
	return nil
}

func (h *Handler) parseGPC(d *caddyfile.Dispenser) error {
	if h.GPC != nil {
		return d.Err("gpc already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	var on bool
	switch v {
	case "on":
		on = true
	case "off":
	default:
		return d.Errf("gpc must be on or off, got %q", v)
	}
	h.GPC = &on
	return nil
}

func (h *Handler) parseCache(d *caddyfile.Dispenser) error {
	if h.Cache != "" {
		return d.Err("cache already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	if v != cachePrivate && v != cacheVary {
		return d.Errf("cache must be private or vary, got %q", v)
	}
	h.Cache = v
	return nil
}

func (h *Handler) parseMaxDecoded(d *caddyfile.Dispenser) error {
	if h.MaxDecoded != 0 {
		return d.Err("max_decoded already set")
	}
	v, err := singleArg(d)
	if err != nil {
		return err
	}
	// As Caddy's own size options (request_body max_size).
	size, err := humanize.ParseBytes(v)
	if err != nil || size == 0 || size > math.MaxInt64 {
		return d.Errf("max_decoded must be a positive size, got %q", v)
	}
	h.MaxDecoded = int64(size)
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
