// Package rules holds consentedge's consent model and tracker rules: the
// categories a visitor can grant, the visitor's consent state read from request
// signals (our cookie, Sec-GPC), the vendor rule set (an embedded default plus
// operator files) and the per-response classifier of URLs and inline scripts
// that the HTML filter asks (Classifier implements htmlfilter.Policy).
//
// The package imports nothing of Caddy: it is usable and testable alone.
package rules

import "strings"

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

// canonical is the category table every rule set starts from, in the order of
// the common four-category cookie policy (README, "What it does"): the index
// is the Category value.
var canonical = [...]CategoryInfo{
	Necessary:   {"necessary", "Strictly necessary"},
	Functional:  {"functional", "Functionality"},
	Analytics:   {"analytics", "Performance and analytics"},
	Advertising: {"advertising", "Targeting or advertising"},
}

// MaxIDLen bounds category and vendor ids: consent parsing lowercases ids into
// a fixed stack buffer, and nobody needs a longer id.
const MaxIDLen = 64

// Categories lists the categories, index = Category.
func (r *Rules) Categories() []CategoryInfo {
	return append([]CategoryInfo(nil), r.cats...)
}

// CategoryByID finds a category by id (ids are lowercase; the lookup is exact).
func (r *Rules) CategoryByID(id string) (Category, bool) {
	c, ok := r.catIdx[id]
	return c, ok
}

// CategoryByIDBytes is CategoryByID for an id in bytes, without allocating.
func (r *Rules) CategoryByIDBytes(id []byte) (Category, bool) {
	c, ok := r.catIdx[string(id)]
	return c, ok
}

// CategoryID returns c's id, or "" for a category the rule set does not declare.
func (r *Rules) CategoryID(c Category) string {
	if int(c) >= len(r.cats) {
		return ""
	}
	return r.cats[c].ID
}

// all is the set of every declared category.
// AllCategories is the set of every category of the rule set.
func (r *Rules) AllCategories() Set {
	return Set(uint64(1)<<len(r.cats) - 1)
}

// FormatSet renders s as granted ids joined by ".", e.g. "necessary.analytics".
// Bits of undeclared categories are ignored.
func (r *Rules) FormatSet(s Set) string {
	if int(s) < len(r.setNames) {
		return r.setNames[s]
	}
	return r.formatSet(s)
}

// NamedSets is how many sets FormatSet names from its table: the sets
// below it are those of up to 8 categories, 0 when there are more.
func (r *Rules) NamedSets() int { return len(r.setNames) }

// formatSet is FormatSet without the table of names.
func (r *Rules) formatSet(s Set) string {
	var b strings.Builder
	for i, c := range r.cats {
		if !s.Has(Category(i)) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(c.ID)
	}
	return b.String()
}

// validID reports whether s is a category id: [a-z][a-z0-9_-]* (vendor ids may
// also start with a digit: first is the extra set allowed in front).
func validID(s string, digitFirst bool) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9':
			if i == 0 && !digitFirst {
				return false
			}
		case c == '_' || c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
