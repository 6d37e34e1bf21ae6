// Package consent reads a visitor's consent from a request: our own cookie,
// the consent tools' cookies (cookieconsent, Klaro, Cookiebot, OneTrust,
// CookieYes, Complianz, tarteaucitron), IAB TCF strings, and the Sec-GPC
// and DNT headers. It also writes the labels `mode defer` leaves for a
// tool to revive (DeferDialect). It never imports Caddy.
package consent

import "github.com/consentedge/consentedge/rules"

// Reader reads consent against one rule set: the categories and vendors a
// signal may name are that rule set's.
type Reader struct {
	rules *rules.Rules
}

// NewReader returns a reader for the rule set rs.
func NewReader(rs *rules.Rules) *Reader { return &Reader{rules: rs} }

// Rules is the rule set r reads against.
func (r *Reader) Rules() *rules.Rules { return r.rules }
