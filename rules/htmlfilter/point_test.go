package htmlfilter

import (
	"reflect"
	"strings"
	"testing"
)

// TestPointNamesEveryField: every field of Filter is the filter's setting,
// part of a Point, required empty by At, or state of one token that a fresh
// filter has as Resume leaves it. A field added to Filter fails this test
// until it is placed, so that a Point never leaves out state that decides
// what follows.
func TestPointNamesEveryField(t *testing.T) {
	placed := map[string]bool{}
	for _, names := range []string{
		// settings, scratch, and what the filter reports
		"w pass policy unclass opt journal trace written before lastIn child scratch scratch2 removed",
		// in a Point
		"prelude body sticky baseSeen last",
		// required empty or zero by At
		"err st buf out skip foreign ipDepth nguards inSelect inHead check",
		// one token's (or one raw text element's, or held only below a
		// count At requires zero): set before it is read
		`d outp isBody ipName pos keep hold tok consumed tst endTag k nameEnd stream record selfClose
		attrs cur declFrom declQ bangDecl xmlLocal xmlLocalN dropTok watchable watch watchDrop raw
		rawHold rawDrop rawExec rawDual rawData rawParked lazyHit rawWin winCut winSent winAt rawEsc
		rawEscAt rawCSS rawV rawTag rawEnd ss skipDepth foreignMath ipNames guards depth blocked why`,
	} {
		for _, name := range strings.Fields(names) {
			placed[name] = true
		}
	}
	ft := reflect.TypeFor[Filter]()
	for i := range ft.NumField() {
		if !placed[ft.Field(i).Name] {
			t.Errorf("Filter.%s is not placed: add it to Point, to At's checks, or say why a fresh filter's value will do", ft.Field(i).Name)
		}
	}
}
