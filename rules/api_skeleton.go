package rules

// API skeleton: the rules helper replaces this file with the implementation.

import (
	"net/http"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Category is a consent category, an index into the rule set's category table.
type Category uint8

// The canonical categories; operators may declare more (up to MaxCategories).
const (
	Necessary Category = iota
	Functional
	Analytics
	Advertising
)

// MaxCategories bounds the category table (Set is a bit set).
const MaxCategories = 32

// Set is a set of categories. Necessary is always in a consent state.
type Set uint32

// Has reports whether c is in s.
func (s Set) Has(c Category) bool { return s&(1<<c) != 0 }

// With returns s with c added.
func (s Set) With(c Category) Set { return s | 1<<c }

// CategoryInfo names a category.
type CategoryInfo struct {
	ID   string // "analytics"
	Name string // "Performance and analytics"
}

// Vendor is one tracker vendor (or a necessary service that must never be touched).
type Vendor struct {
	ID        string
	Name      string
	Category  Category
	Hosts     []string // "host" or "host/path-prefix"
	Scripts   []string // inline-script signatures
	Cookies   []string // names; a trailing * makes a prefix
	Retention string   // e.g. "2y", "90d"; "" = unset
}

// Rules is a compiled, immutable rule set, safe for concurrent use.
type Rules struct{}

// Default returns the embedded default rule set.
func Default() *Rules { return &Rules{} }

// Load returns the default rules extended by the operator's files, in order.
// Errors name the file and line.
func Load(paths ...string) (*Rules, error) { return Default(), nil }

// Parse compiles src (named name in errors) on top of base (nil: empty).
func Parse(name string, src []byte, base *Rules) (*Rules, error) { return base, nil }

// Categories lists the categories, index = Category.
func (r *Rules) Categories() []CategoryInfo { return nil }

// CategoryByID finds a category by id.
func (r *Rules) CategoryByID(id string) (Category, bool) { return 0, false }

// CategoryID returns c's id.
func (r *Rules) CategoryID(c Category) string { return "" }

// Vendors lists the vendors.
func (r *Rules) Vendors() []*Vendor { return nil }

// FormatSet renders s as granted ids joined by ".", e.g. "necessary.analytics".
func (r *Rules) FormatSet(s Set) string { return "" }

// ParseConsent reads a native consent cookie value ("functional.analytics").
func (r *Rules) ParseConsent(v string) Set { return 1 }

// ConsentConfig says which signals to read.
type ConsentConfig struct {
	Cookie string // native cookie name; "" = "consent"
	GPC    bool   // honour Sec-GPC: 1 (denies advertising)
}

// Consent reads the visitor's consent state from request headers.
func (r *Rules) Consent(h http.Header, cfg ConsentConfig) Set { return 1 }

// CookieValues returns every value of the cookies named name in the Cookie
// headers of h, with a bounded scan of its own.
func CookieValues(h http.Header, name string) []string { return nil }

// Page is a per-response classifier: it implements htmlfilter.Policy.
type Page struct{}

// NewPage returns a classifier for a page at pageURL for a visitor who granted granted.
func (r *Rules) NewPage(pageURL string, granted Set) *Page { return &Page{} }

// URL implements htmlfilter.Policy.
func (p *Page) URL(raw []byte) htmlfilter.Verdict { return htmlfilter.Verdict{} }

// Script implements htmlfilter.Policy.
func (p *Page) Script(text []byte) htmlfilter.Verdict { return htmlfilter.Verdict{} }

// SetBase implements htmlfilter.Policy.
func (p *Page) SetBase(href []byte) {}

var _ htmlfilter.Policy = (*Page)(nil)
