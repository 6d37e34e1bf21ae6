// Command caddy is the Caddy that bench runs: cmd/consentedge's modules and,
// for comparison only, a floor handler (Caddyfile directive `bench_floor`).
//
// The floor is the least any HTML filter must do. It finds every '<' of the
// body with bytes.IndexByte and looks at the byte after it, then passes the
// body on unchanged, Content-Length and all, so that the client writes are
// a plain proxy's. No filter that reads tags can cost less: when the floor
// itself misses a target, no filter meets it on that machine.
package main

import (
	"bytes"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/consentedge/consentedge/caddymodule"
)

func init() {
	caddy.RegisterModule(Floor{})
	httpcaddyfile.RegisterHandlerDirective("bench_floor", func(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
		h.Next()
		if h.NextArg() {
			return nil, h.ArgErr()
		}
		return Floor{}, nil
	})
	httpcaddyfile.RegisterDirectiveOrder("bench_floor", httpcaddyfile.After, "encode")
}

func main() {
	caddycmd.Main()
}

// Floor is the floor handler.
type Floor struct{}

// CaddyModule returns the Caddy module information.
func (Floor) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.bench_floor", New: func() caddy.Module { return Floor{} }}
}

// ServeHTTP looks at every tag of the response body on its way out.
func (Floor) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return next.ServeHTTP(&floorWriter{ResponseWriter: w}, r)
}

type floorWriter struct {
	http.ResponseWriter
	endTags int // kept, so that the search is not optimised away
}

func (f *floorWriter) Write(p []byte) (int, error) {
	for q := p; ; {
		i := bytes.IndexByte(q, '<')
		if i < 0 || i+1 >= len(q) {
			break
		}
		if q[i+1] == '/' {
			f.endTags++
		}
		q = q[i+1:]
	}
	return f.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (reverse_proxy
// flushes through it).
func (f *floorWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

var (
	_ caddyhttp.MiddlewareHandler = Floor{}
	_ caddy.Module                = Floor{}
)
