package caddymodule

import (
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/privacylog"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// What the handler adds to the request's access log entry (Caddy's
// ExtraLogFields): the consent state on every request it reads consent
// for, and what the filter removed on filtered responses. Aggregable
// values only: the cookie's value, which could single a visitor out, is
// never logged.

// extraLogFields returns the request's access log fields: nil outside
// Caddy's server (handler tests), and nil when the server writes no access
// log (no log directive, Caddy's default), where nothing would read them
// and their first Set alone costs an allocation and a lock.
func extraLogFields(r *http.Request) *caddyhttp.ExtraLogFields {
	if srv, ok := r.Context().Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server); ok && srv.Logs == nil {
		return nil
	}
	extra, _ := r.Context().Value(caddyhttp.ExtraLogFieldsCtxKey).(*caddyhttp.ExtraLogFields)
	return extra
}

// accessFields are the handler's fields of a request's access log entry.
// They are set once, when the consent is read, and completed as the
// request goes on: each Set of Caddy's ExtraLogFields resets its
// per-request logger cache (an allocation and ~300ns), and the access log
// is written after the handler returns. Their object is written inline.
type accessFields struct {
	consent  consentFields
	request  requestFields
	response responseFields
	filtered bool // response holds a filtered response's fields
}

func (a *accessFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if err := a.consent.MarshalLogObject(enc); err != nil {
		return err
	}
	if err := a.request.MarshalLogObject(enc); err != nil {
		return err
	}
	if !a.filtered {
		return nil
	}
	return a.response.MarshalLogObject(enc)
}

// logConsent adds the consent state to the request's access log entry:
// consent_granted (the granted categories joined by "."), consent_signal
// (what decided: the consent tools whose cookies stated something, and gpc
// or dnt when they took something away, joined by "+"; "none" when nothing
// did and only necessary is granted) and consent_gpc (Sec-GPC: 1 sent and
// honoured, whether or not it changed anything). When the tools record
// choices vendor by vendor: consent_vendors_refused and
// consent_vendors_granted (the vendor ids named, joined by "."), and
// consent_vendors_only (the categories granted vendor by vendor, whose
// other vendors are refused). It returns the entry's fields for the rest
// of the request to complete, nil outside Caddy's server.
func (h *Handler) logConsent(r *http.Request, st consent.State) *accessFields {
	extra := extraLogFields(r)
	if extra == nil {
		return nil
	}
	a := &accessFields{consent: consentFields{
		granted: h.rules.FormatSet(st.Granted),
		signal:  st.Signals,
		gpc:     h.gpc && consent.GPC(r.Header),
		vendors: st.Vendors,
		rules:   h.rules,
	}}
	extra.Set(zapcore.Field{Key: "consent", Type: zapcore.InlineMarshalerType, Interface: a})
	return a
}

// consentFields are logConsent's fields.
type consentFields struct {
	granted string
	signal  consent.Signals
	gpc     bool
	vendors consent.VendorChoices
	rules   *rules.Rules
}

func (c consentFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("consent_granted", c.granted)
	enc.AddString("consent_signal", c.signal.String())
	enc.AddBool("consent_gpc", c.gpc)
	if c.vendors.Refused != nil {
		enc.AddString("consent_vendors_refused", strings.Join(c.rules.VendorIDs(c.vendors.Refused), "."))
	}
	if c.vendors.Granted != nil {
		enc.AddString("consent_vendors_granted", strings.Join(c.rules.VendorIDs(c.vendors.Granted), "."))
	}
	if c.vendors.Only != 0 {
		enc.AddString("consent_vendors_only", c.rules.FormatSet(c.vendors.Only))
	}
	return nil
}

// logRequestFilter adds what the request filter took away to the access log
// entry: consent_cookies_removed and consent_params_removed, when any.
func (a *accessFields) logRequestFilter(rf requestFilter) {
	if a != nil {
		a.request = requestFields{cookies: len(rf.cookies), params: rf.params}
	}
}

type requestFields struct{ cookies, params int }

func (f requestFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if f.cookies > 0 {
		enc.AddInt("consent_cookies_removed", f.cookies)
	}
	if f.params > 0 {
		enc.AddInt("consent_params_removed", f.params)
	}
	return nil
}

// logFiltered records a filtered response in the metrics and its access log
// entry (observe), and writes a debug line of its own: no full IP, no
// cookies, no query string. The access log entry is the one line
// per request an SRE reads, as everywhere in Caddy; a line of ours at info
// would double the log and cost every response a write to the log file.
func (rw *responseWriter) logFiltered() {
	rw.observe()
	c := rw.h.logger.Check(zap.DebugLevel, "filtered")
	if c == nil {
		return
	}
	r := rw.r
	status := rw.statusCode
	if status == 0 {
		status = http.StatusOK
	}
	fields := []zap.Field{
		zap.String("client_ip", privacylog.TruncateIP(clientIP(r))),
		zap.String("granted", rw.h.rules.FormatSet(rw.granted)),
		zap.String("mode", rw.h.Mode),
		zap.String("host", r.Host),
		zap.String("path", r.URL.Path),
		zap.Int("status", status),
		zap.Int64("bytes_in", rw.body.in),
		zap.Int64("bytes_out", rw.body.hold.n),
		zap.Object("removed", removals(rw.body.removed())),
		zap.Bool("replayed", rw.body.replayed()),
	}
	if n := rw.body.resumed(); n > 0 {
		fields = append(fields, zap.Int("resumed", n))
	}
	if n := len(rw.reqFilter.cookies); n > 0 {
		fields = append(fields, zap.Int("cookies_removed", n))
	}
	if n := rw.reqFilter.params; n > 0 {
		fields = append(fields, zap.Int("params_removed", n))
	}
	if n := len(rw.setCookies); n > 0 {
		fields = append(fields, zap.Int("set_cookies_removed", n))
	}
	c.Write(fields...)
}

// removals logs as {vendor: count}.
type removals []htmlfilter.Removal

func (rs removals) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, r := range rs {
		enc.AddInt(r.Vendor, r.Count)
	}
	return nil
}

// observe records a filtered response: the metrics, and in its access log
// entry consent_removed ({vendor: count}), consent_set_cookies_removed
// (when any), consent_replayed (when the page cache wrote it) and
// consent_resumed (the bytes it wrote of a page that differed).
func (rw *responseWriter) observe() {
	removed := rw.body.removed()
	if m := rw.h.metrics; m != nil {
		m.observeFiltered(rw.stripe, rw.h.rules, rw.granted, removed, rw.body.in, rw.body.hold.n, rw.body.hold.clock.spent())
		m.observeVendors(rw.h.rules, rw.vendors)
	}
	if a := rw.log; a != nil {
		// A copy: the access log is written after the handler returns,
		// when the filter (and its slice) already serves another response.
		// A page replayed whole has the remembered page's, which stays.
		replayed := rw.body.replayed()
		if !replayed {
			removed = slices.Clone(removed)
		}
		a.response = responseFields{removed: removals(removed), setCookies: len(rw.setCookies),
			replayed: replayed, resumed: rw.body.resumed()}
		a.filtered = true
	}
}

type responseFields struct {
	removed    removals
	setCookies int
	replayed   bool // written from the page cache
	resumed    int  // input bytes the page cache replayed of a page that differed
}

func (f responseFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if err := enc.AddObject("consent_removed", f.removed); err != nil {
		return err
	}
	if f.setCookies > 0 {
		enc.AddInt("consent_set_cookies_removed", f.setCookies)
	}
	if f.replayed {
		enc.AddBool("consent_replayed", true)
	}
	if f.resumed > 0 {
		enc.AddInt("consent_resumed", f.resumed)
	}
	return nil
}
