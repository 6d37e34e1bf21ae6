package e2e

import "testing"

// TestBrowserNoscriptProbe checks the suite's JavaScript-off mode before the
// other tests rely on it: with scripting disabled through DevTools
// (Emulation.setScriptExecutionDisabled), Chromium must parse <noscript>
// content as markup (its img loads) and run no script; with scripting on, the
// reverse. Were the setting only to stop scripts from running while the parser
// still read noscript as raw text, every JS-off check would miss the noscript
// pixels that are the point of testing without JavaScript.
func TestBrowserNoscriptProbe(t *testing.T) {
	e := needBrowser(t)
	for _, tc := range []struct {
		noJS      bool
		want, not string
	}{
		{false, "script-probe.test", "noscript-probe.test"},
		{true, "noscript-probe.test", "script-probe.test"},
	} {
		v := visitor{noJS: tc.noJS}
		o, err := e.load(e.off+"/browser/noscript-probe.html", v)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := o.hosts[tc.want]; !ok {
			t.Errorf("%s: %s not contacted; contacted %v", v, tc.want, sortedKeys(o.hosts))
		}
		if _, ok := o.hosts[tc.not]; ok {
			t.Errorf("%s: %s contacted; contacted %v", v, tc.not, sortedKeys(o.hosts))
		}
		t.Logf("%s: hosts %v urls %v", v, sortedKeys(o.hosts), o.urls)
	}
}
