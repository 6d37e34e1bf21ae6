package htmlfilter

import (
	"reflect"
	"testing"
)

// TestPointNamesEveryField: every field of Filter is the filter's setting,
// part of a Point, required empty by At, or state of one token that a fresh
// filter has as Resume leaves it. A field added to Filter fails this test
// until it is placed, so that a Point never leaves out state that decides
// what follows.
func TestPointNamesEveryField(t *testing.T) {
	placed := map[string]string{
		// settings and buffers, the same for the whole document
		"w": "set", "pass": "set", "policy": "set", "unclass": "set", "opt": "set",
		"removed": "kept", "journal": "set", "buf": "empty", "d": "token", "out": "empty", "outp": "token",
		"child": "token", "scratch": "token", "scratch2": "token",
		// in a Point
		"prelude": "point", "body": "point", "sticky": "point", "baseSeen": "point", "last": "point",
		// required empty or zero by At
		"err": "empty", "st": "empty", "skip": "empty", "foreign": "empty", "ipDepth": "empty",
		"nguards": "empty", "inSelect": "empty", "inHead": "empty", "check": "empty",
		// one token's (or one raw text element's): set before it is read
		"isBody": "token", "ipName": "token", "pos": "token", "keep": "token", "hold": "token",
		"tok": "token", "consumed": "token", "tst": "token", "endTag": "token", "k": "token",
		"nameEnd": "token", "stream": "token", "record": "token", "selfClose": "token",
		"attrs": "token", "cur": "token", "declFrom": "token", "declQ": "token", "bangDecl": "token",
		"xmlLocal": "token", "xmlLocalN": "token", "dropTok": "token", "watchable": "token",
		"watch": "token", "watchDrop": "token", "raw": "token", "rawHold": "token", "rawDrop": "token",
		"rawExec": "token", "rawDual": "token", "rawData": "token", "rawParked": "token",
		"lazyHit": "token", "rawWin": "token", "winCut": "token", "winSent": "token", "winAt": "token",
		"rawEsc": "token", "rawEscAt": "token", "rawCSS": "token", "rawV": "token", "rawTag": "token",
		"rawEnd": "token", "ss": "token", "skipDepth": "token", "foreignMath": "token",
		"ipNames": "token", "guards": "token", "depth": "token", "blocked": "token", "why": "token",
	}
	ft := reflect.TypeFor[Filter]()
	for i := range ft.NumField() {
		if _, ok := placed[ft.Field(i).Name]; !ok {
			t.Errorf("Filter.%s is not placed: add it to Point, to At's checks, or say why a fresh filter's value will do", ft.Field(i).Name)
		}
	}
}
