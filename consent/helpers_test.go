package consent

import (
	"testing"

	"github.com/consentedge/consentedge/rules"
)

var (
	onlyNecessary = rules.Set(1 << rules.Necessary)
	withAnalytics = onlyNecessary.With(rules.Analytics)
)

// defaultReader reads against the default rules.
func defaultReader() *Reader { return NewReader(rules.Default()) }

// fuzzReader reads against the default rules and one more category and
// vendor, so that readers meet ids of a richer rule set.
func fuzzReader(t testing.TB) *Reader {
	r, err := rules.Parse("fuzz.rules", []byte("category social \"Social\"\nvendor sw {\n category social\n host social.example/w\n path /sw/t.js?id=sw- /collect\n}\n"), rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	return NewReader(r)
}
