package caddymodule

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentedge/consentedge/consent"
)

// TestAccessFieldsOnlyWithAccessLog: the consent fields go into the
// request's access log entry when the server writes an access log, and
// are not made when it writes none.
func TestAccessFieldsOnlyWithAccessLog(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, c := range []struct {
		name   string
		server *caddyhttp.Server // nil: none in the context
		want   bool
	}{
		{"no access log", &caddyhttp.Server{}, false},
		{"access log", &caddyhttp.Server{Logs: &caddyhttp.ServerLogConfig{}}, true},
		{"no server in the context", nil, true},
	} {
		ctx := context.WithValue(context.Background(), caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
		if c.server != nil {
			ctx = context.WithValue(ctx, caddyhttp.ServerCtxKey, c.server)
		}
		r := httptest.NewRequest("GET", "https://shop.example/", nil).WithContext(ctx)
		if got := h.logConsent(r, consent.State{}) != nil; got != c.want {
			t.Errorf("%s: fields made %v, want %v", c.name, got, c.want)
		}
	}
}
