package caddymodule

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/privacylog"
	"github.com/consentedge/consentedge/rules"
)

// The consent endpoint (opt-in, `endpoint /consent`): GET reads the
// visitor's consent state as JSON, or, for a browser's navigation, as the
// settings page (choices.go); a same-origin POST records a decision in the
// native cookie, expires the tracking cookies of every category it leaves
// denied, and logs a receipt without personal data.

// defaultConsentMaxAge is how long a recorded decision lasts: six months, a
// common reading of the EDPB's and CNIL's guidance on asking again.
const defaultConsentMaxAge = 182 * 24 * time.Hour

// endpointState is what GET answers (and a JSON POST).
type endpointState struct {
	Granted       []string        `json:"granted"`
	Denied        []string        `json:"denied"`
	Decided       bool            `json:"decided"`
	GPC           bool            `json:"gpc"`
	PolicyVersion string          `json:"policy_version,omitempty"`
	Categories    []categoryState `json:"categories"`
	Receipt       string          `json:"receipt,omitempty"`
}

type categoryState struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Granted bool   `json:"granted"`
}

// endpointError is a request the endpoint refuses, with the status and the
// message the client gets.
type endpointError struct {
	status int
	msg    string
}

func (e *endpointError) Error() string { return e.msg }

// endpointErr is a refusal with its status and message.
func endpointErr(status int, format string, args ...any) error {
	return &endpointError{status, fmt.Sprintf(format, args...)}
}

func (h *Handler) serveEndpoint(w http.ResponseWriter, r *http.Request, granted rules.Set) error {
	w.Header().Set("Cache-Control", "no-store")
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		addVary(w.Header(), "Accept")
		if wantsSettingsPage(r.Header) {
			err = h.writeSettings(w, r, granted)
		} else {
			err = h.writeState(w, r, granted, "", http.StatusOK)
		}
	case http.MethodPost:
		err = h.recordDecision(w, r, granted)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		err = endpointErr(http.StatusMethodNotAllowed, "the consent endpoint answers GET and POST")
	}
	var ee *endpointError
	if errors.As(err, &ee) {
		// A clear message for the site's developer; nothing to log beyond
		// debug (a visitor's bad request is not the operator's error).
		if c := h.logger.Check(zap.DebugLevel, "consent endpoint refused a request"); c != nil {
			c.Write(zap.Int("status", ee.status), zap.String("reason", ee.msg))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(ee.status)
		_, err = io.WriteString(w, ee.msg+"\n")
	}
	return err
}

// writeState answers with the consent state as JSON.
func (h *Handler) writeState(w http.ResponseWriter, r *http.Request, granted rules.Set, receipt string, status int) error {
	st := endpointState{
		Granted:       []string{},
		Denied:        []string{},
		Decided:       h.consent.Decided(r.Header, h.consentConfig(r)),
		GPC:           h.gpc && consent.GPC(r.Header),
		PolicyVersion: h.PolicyVersion,
		Receipt:       receipt,
	}
	for i, c := range h.rules.Categories() {
		g := granted.Has(rules.Category(i))
		if g {
			st.Granted = append(st.Granted, c.ID)
		} else {
			st.Denied = append(st.Denied, c.ID)
		}
		st.Categories = append(st.Categories, categoryState{c.ID, c.Name, g})
	}
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.Header().Add("Vary", "Cookie")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(append(body, '\n'))
	return err
}

// recordDecision handles a POST: checks, reads, sets the cookie, expires
// withdrawn cookies, logs the receipt and answers.
func (h *Handler) recordDecision(w http.ResponseWriter, r *http.Request, before rules.Set) error {
	if err := h.sameOrigin(r); err != nil {
		return err
	}
	d, isJSON, err := readDecision(r)
	if err != nil {
		return err
	}
	chosen, err := h.chosenSet(d)
	if err != nil {
		return err
	}
	target := "/"
	if d.Redirect != "" {
		if target, err = sameSitePath(d.Redirect); err != nil {
			return err
		}
	} else if p, err := refererPath(r); err == nil {
		target = p
	}

	cookie, expired := h.setConsentCookie(w.Header(), r, chosen)

	receipt := newReceipt()
	w.Header().Set("Consent-Receipt", receipt)
	action := d.Action
	if action == "" {
		action = "save" // the grants as sent, as chosenSet reads them
	}
	if c := h.logger.Check(zap.InfoLevel, "consent recorded"); c != nil {
		c.Write(
			zap.String("receipt", receipt),
			// RFC 3339 text, whatever time format the log's encoder
			// gives its own timestamp (Caddy's default: Unix seconds):
			// a receipt reads the same in every log.
			zap.String("time", h.now().UTC().Format(time.RFC3339)),
			zap.String("granted", h.rules.FormatSet(chosen.With(rules.Necessary))),
			zap.String("before", h.rules.FormatSet(before)),
			zap.String("action", action),
			zap.String("policy_version", h.PolicyVersion),
			zap.String("client_ip", privacylog.TruncateIP(clientIP(r))),
			zap.Int("cookies_expired", expired),
		)
	}

	// What the visitor will have from the next request on (GPC still
	// applies on top of a recorded grant).
	after := chosen.With(rules.Necessary)
	if h.gpc && consent.GPC(r.Header) {
		after &^= 1 << rules.Advertising
	}
	if isJSON {
		return h.writeState(w, withCookie(r, cookie), after, receipt, http.StatusOK)
	}
	// RFC 9110 §15.4.4: 303 makes the browser GET the page it came from.
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

// withCookie is r as the next request will be: with the new consent
// cookie in place of the old ones, so that "decided" reads true.
func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header["Cookie"] = []string{c.Name + "=" + c.Value}
	return r2
}

// sameOrigin refuses a POST that is not from a page of the site itself, so
// that no other site can record (or withdraw) a visitor's consent: Fetch
// Metadata first (Sec-Fetch-Site, sent by every current browser), then
// Origin (sent with every POST since 2020). A request with neither cannot
// show where it comes from and is refused.
func (h *Handler) sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site != "same-origin" {
			return endpointErr(http.StatusForbidden, "consent can only be recorded from the site itself (Sec-Fetch-Site: %s)", site)
		}
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return endpointErr(http.StatusForbidden, "consent can only be recorded from the site itself: the request has neither Sec-Fetch-Site nor Origin")
	}
	scheme := "http://"
	if h.siteHTTPS(r) {
		scheme = "https://"
	}
	if !strings.EqualFold(origin, scheme+r.Host) {
		return endpointErr(http.StatusForbidden, "consent can only be recorded from the site itself (Origin %q)", origin)
	}
	return nil
}

// chosenSet turns a decision into the categories granted.
func (h *Handler) chosenSet(d decision) (rules.Set, error) {
	var set rules.Set
	switch d.Action {
	case "accept_all":
		for i := range h.rules.Categories() {
			set = set.With(rules.Category(i))
		}
		return set, nil
	case "reject_all":
		return set.With(rules.Necessary), nil
	case "", "save":
	default:
		return 0, endpointErr(http.StatusBadRequest, "unknown consent action %q (accept_all, reject_all or save)", d.Action)
	}
	set = set.With(rules.Necessary)
	if len(d.Grant) > 64 {
		return 0, endpointErr(http.StatusBadRequest, "too many categories in the consent decision")
	}
	for _, id := range d.Grant {
		c, ok := h.rules.CategoryByID(strings.ToLower(id))
		if !ok {
			return 0, endpointErr(http.StatusBadRequest, "unknown consent category %q", id)
		}
		set = set.With(c)
	}
	return set, nil
}

// sameSitePath accepts a redirect target only as a path on this site: it
// starts with one '/', not "//" or "/\" (which browsers read as another
// host), holds no backslash or control byte, and parses to no scheme and no
// host. Anything else would make the endpoint an open redirect.
func sameSitePath(s string) (string, error) {
	bad := endpointErr(http.StatusBadRequest, "redirect must be a path on this site, like /page")
	if len(s) > 2048 || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return "", bad
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return "", bad
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "", bad
	}
	return s, nil
}

// refererPath is the path (and query) of a same-origin Referer.
func refererPath(r *http.Request) (string, error) {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host == "" || !strings.EqualFold(ref.Host, r.Host) {
		return "", errors.New("no same-origin referer")
	}
	return sameSitePath(ref.RequestURI())
}

// newReceipt is a random receipt id: 80 bits, base32, no personal data.
func newReceipt() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// clientIP is Caddy's resolved client address (trusted_proxies honoured),
// else the connection's peer.
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	return r.RemoteAddr
}
