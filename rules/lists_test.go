package rules

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// importFixture reads testdata/lists/<file> as a list of format on top of
// the default rules.
func importFixture(t *testing.T, format, file string) (*Rules, ListStats) {
	t.Helper()
	path := filepath.Join("testdata", "lists", file)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, st, err := ParseList(Default(), format, path, src)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return r, st
}

// wantVendor checks which vendor, of which category, a URL belongs to;
// id "" wants none.
func wantVendor(t *testing.T, r *Rules, url, id, category string) {
	t.Helper()
	v := r.Classify(url)
	switch {
	case id == "" && v != nil:
		t.Errorf("%s: vendor %s, want none", url, v.ID)
	case id == "":
	case v == nil:
		t.Errorf("%s: no vendor, want %s", url, id)
	case v.ID != id || r.CategoryID(v.Category) != category:
		t.Errorf("%s: vendor %s (%s), want %s (%s)", url, v.ID, r.CategoryID(v.Category), id, category)
	}
}

func wantStats(t *testing.T, got, want ListStats) {
	t.Helper()
	got.Format, got.Path = "", ""
	if got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestImportGhostery(t *testing.T) {
	r, st := importFixture(t, ListGhostery, "ghostery.json")
	wantStats(t, st, ListStats{Vendors: 4, Hosts: 5, Known: 1, Benign: 3, Ignored: 1, Invalid: 1})
	wantVendor(t, r, "https://ads.adnet.example/tag.js", "ghostery-adnet-ads", "advertising")
	wantVendor(t, r, "https://x.sync.adnet.example/p", "ghostery-adnet-ads", "advertising")
	wantVendor(t, r, "https://insights.adnet.example/i.js", "ghostery-adnet-insights", "analytics")
	wantVendor(t, r, "https://widget.helpchat.example/w.js", "ghostery-helpchat", "functional")
	wantVendor(t, r, "https://oddtrack.example/o.js", "ghostery-oddtrack", "advertising") // misc: unclassified
	// Benign categories stay untouched; our own vendors stay ours.
	wantVendor(t, r, "https://fastcache.example/app.js", "", "")
	wantVendor(t, r, "https://cdn.consentbox.example/banner.js", "", "")
	wantVendor(t, r, "https://google-analytics.com/analytics.js", "google-analytics", "analytics")
	if v, _ := r.VendorByID("ghostery-adnet-ads"); v == nil || v.Name != "AdNet Ads" {
		t.Errorf("vendor name: %+v", v)
	}
	// A list has no script signatures: an inline loader is known by the
	// hostname it names, as our own vendors' are.
	loader := []byte(`var s=document.createElement('script');s.src='https://ads.adnet.example/t.js';document.head.appendChild(s)`)
	if v := r.NewClassifier(testPage, 0).Script(loader); !v.Block || v.Vendor != "ghostery-adnet-ads" {
		t.Errorf("inline loader: %+v, want blocked as ghostery-adnet-ads", v)
	}
}

func TestImportTDS(t *testing.T) {
	r, st := importFixture(t, ListTDS, "tds.json")
	wantStats(t, st, ListStats{Vendors: 4, Hosts: 5, Known: 1, Benign: 2, Ignored: 1, Invalid: 0})
	// "block": the whole host, its "ignore" rules too (no consent, no load).
	wantVendor(t, r, "https://adnet.example/player.js", "tds-adnet", "advertising")
	// An entity with trackers of two categories: a vendor for each.
	wantVendor(t, r, "https://cdn.metrics.example/m.js", "tds-metrics-co-analytics", "analytics")
	wantVendor(t, r, "https://metrics-embed.example/e", "tds-metrics-co-functional", "functional")
	// "ignore": only the literal rule, as a path prefix; no categories: advertising.
	wantVendor(t, r, "https://mixed.example/collect?id=1", "tds-mixed", "advertising")
	wantVendor(t, r, "https://mixed.example/widget/embed", "tds-mixed", "advertising") // click-to-load: blocks
	wantVendor(t, r, "https://mixed.example/x/tag.js", "", "")
	wantVendor(t, r, "https://mixed.example/lib.js", "", "")
	wantVendor(t, r, "https://quiet.example/v2/q.js", "", "")
	wantVendor(t, r, "https://adnet-static.example/a.png", "", "")
	wantVendor(t, r, "https://payments.example/pay.js", "", "")
	wantVendor(t, r, "https://doubleclick.net/ad", "google-ads", "advertising")
	if v, _ := r.VendorByID("tds-adnet"); v == nil || v.Name != "AdNet" {
		t.Errorf("vendor name: %+v", v)
	}
}

func TestImportDisconnect(t *testing.T) {
	r, st := importFixture(t, ListDisconnect, "disconnect.json")
	wantStats(t, st, ListStats{Vendors: 5, Hosts: 6, Known: 2, Benign: 1, Ignored: 0, Invalid: 0})
	wantVendor(t, r, "https://adnet-sync.example/s", "disconnect-adnet", "advertising")
	wantVendor(t, r, "https://minerads.example/m.js", "disconnect-minerads", "advertising")
	// Listed as analytics and as fingerprinting: the stricter wins.
	wantVendor(t, r, "https://metrics.example/m.js", "disconnect-metrics-advertising", "advertising")
	wantVendor(t, r, "https://metrics-cdn.example/m.js", "disconnect-metrics-analytics", "analytics")
	wantVendor(t, r, "https://player.videos.example/embed/1", "disconnect-videos", "functional")
	wantVendor(t, r, "https://fraudcheck.example/f.js", "", "")
	// Under our doubleclick.net rule: ours.
	wantVendor(t, r, "https://stats.g.doubleclick.net/r/collect", "google-ads", "advertising")
	if _, ok := r.VendorByID("disconnect-google"); ok {
		t.Error("a vendor of known hosts only was made")
	}
}

// TestListErrors: a list that cannot be read fails with the file, and the
// line and column of the offending value.
func TestListErrors(t *testing.T) {
	for _, tc := range []struct{ format, file, want string }{
		{ListGhostery, "ghostery_malformed.json", "ghostery_malformed.json:4:99: invalid JSON: invalid character ']'"},
		{ListTDS, "tds_malformed.json", "tds_malformed.json:6:27: trackers.adnet.example.categories: want an array, got string"},
		{ListDisconnect, "disconnect_malformed.json", "disconnect_malformed.json:6:36: categories.Advertising[].AdNet.http://adnet.example/: want an array, got object"},
		{ListTDS, "ghostery.json", `ghostery.json:1:1: no "trackers" object: not a Tracker Data Set`},
		{ListGhostery, "tds.json", `tds.json:1:1: no "patterns" object: not a Ghostery TrackerDB export`},
		{ListDisconnect, "tds.json", `tds.json:1:1: no "categories" object: not a Disconnect services.json`},
		{"adblock", "tds.json", `tds.json: unknown list format "adblock" (one of ghostery, tds, disconnect)`},
	} {
		path := filepath.Join("testdata", "lists", tc.file)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ParseList(Default(), tc.format, path, src)
		if err == nil || !strings.HasPrefix(err.Error(), "testdata/lists/"+tc.want) {
			t.Errorf("%s as %s: error %v, want %q", tc.file, tc.format, err, tc.want)
		}
	}
}

func TestListSemanticErrors(t *testing.T) {
	for _, tc := range []struct{ format, src, want string }{
		{ListTDS, "{\"trackers\": {\n  \"a.example\": {\"default\": \"allow\"}}}", `x.json:2:16: trackers.a.example.default: want "block" or "ignore", got "allow"`},
		{ListTDS, `{"trackers": []}`, `x.json:1:14: trackers: want an object`},
		{ListTDS, `[]`, `x.json:1:1: tds: want an object`},
		{ListTDS, "\n  {\"trackers\": {\"a.example\": 1}}", `x.json:2:30: trackers.a.example: want an object, got number`},
		{ListDisconnect, `{"categories": {"Advertising": {}}}`, `x.json:1:32: categories.Advertising: want an array`},
		{ListGhostery, "{\"patterns\": {\"p\": {\"domains\": [\"a.example\", 7]}}}", `x.json:1:46: patterns.p.domains: want a string, got number`},
		{ListGhostery, "{\"patterns\": {\"p\": {\"name\": \"caf\u00e9\", \"category\": true}}}", `x.json:1:49: patterns.p.category: want a string, got bool`},
		{ListGhostery, `{"patterns": {}`, `x.json:1:16: invalid JSON: unexpected end of JSON input`},
	} {
		_, _, err := ParseList(Default(), tc.format, "x.json", []byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %s: error %v, want %q", tc.format, tc.src, err, tc.want)
		}
	}
}

// TestLoadLists: defaults, then lists in order, then the rule files; a host
// an earlier list took stays with it; nothing is half-loaded.
func TestLoadLists(t *testing.T) {
	dir := filepath.Join("testdata", "lists")
	rulesFile := filepath.Join(t.TempDir(), "site.rules")
	src := "disable tds-mixed\nvendor tds-adnet {\n category analytics\n host adnet.example\n}\n"
	if err := os.WriteFile(rulesFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	lists := []ListFile{
		{Format: ListTDS, Path: filepath.Join(dir, "tds.json")},
		{Format: ListDisconnect, Path: filepath.Join(dir, "disconnect.json")},
	}
	r, stats, err := LoadLists(lists, rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Path != lists[0].Path || stats[1].Format != ListDisconnect {
		t.Fatalf("stats %+v", stats)
	}
	// adnet.example and metrics.example were the tds list's.
	wantStats(t, stats[1], ListStats{Vendors: 4, Hosts: 4, Known: 4, Benign: 1})
	wantVendor(t, r, "https://adnet-sync.example/s", "disconnect-adnet", "advertising")
	wantVendor(t, r, "https://metrics.example/m.js", "tds-metrics-co-analytics", "analytics")
	// The operator's file came last: it redefined and disabled imports.
	wantVendor(t, r, "https://adnet.example/a.js", "tds-adnet", "analytics")
	wantVendor(t, r, "https://mixed.example/collect", "", "")
	// Imported marks what a list brought, and only that: not the defaults,
	// not what the operator's file redefined.
	imported := map[string]bool{}
	for _, v := range r.Vendors() {
		imported[v.ID] = v.Imported
	}
	for id, want := range map[string]bool{"disconnect-adnet": true, "tds-metrics-co-analytics": true, "tds-adnet": false, "google-analytics": false} {
		if got, ok := imported[id]; !ok || got != want {
			t.Errorf("vendor %s: Imported %v (present %v), want %v", id, got, ok, want)
		}
	}

	bad := append(lists, ListFile{Format: ListTDS, Path: filepath.Join(dir, "tds_malformed.json")})
	if r, _, err := LoadLists(bad); err == nil || r != nil {
		t.Errorf("a malformed list loaded: %v", err)
	}
	missing := []ListFile{{Format: ListTDS, Path: filepath.Join(dir, "nonexistent.json")}}
	if _, _, err := LoadLists(missing); err == nil || !strings.Contains(err.Error(), "nonexistent.json") {
		t.Errorf("missing list: %v", err)
	}
}

// TestListVendorIDs: ids are valid and unique whatever the names.
func TestListVendorIDs(t *testing.T) {
	imp := newImporter(Default())
	long := strings.Repeat("Very Long Company Name ", 5)
	for _, tc := range []struct{ org, suffix, want string }{
		{"AdNet, Inc.", "", "tds-adnet-inc"},
		{"AdNet Inc", "", "tds-adnet-inc-2"},
		{"株式会社", "", "tds-list"},
		{"Ünïcode Ltd", "-analytics", "tds-n-code-ltd-analytics"},
		{long, "-advertising", "tds-very-long-company-name-very-long-company-n-advertising"},
		{long, "-advertising", "tds-very-long-company-name-very-long-company-n-advertising-2"},
	} {
		id := imp.vendorID(ListTDS, tc.org, tc.suffix)
		if id != tc.want || !validID(id, true) {
			t.Errorf("vendorID(%q, %q) = %q, want %q", tc.org, tc.suffix, id, tc.want)
		}
	}
	imp = newImporter(Default())
	if id := imp.vendorID("x", "google ads", ""); id != "x-google-ads" {
		t.Errorf("id %q", id)
	}
}

// TestListQuoting: a name the rules format would read otherwise is quoted.
func TestListQuoting(t *testing.T) {
	src := `{"trackers": {"q.example": {"owner": {"name": "Say \"hi\" \\ # {x}\nnow"}, "categories": ["Analytics"], "default": "block"}}}`
	r, _, err := ParseList(Default(), ListTDS, "q.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	v := r.Classify("https://q.example/")
	if v == nil || v.Name != `Say "hi" \ # {x}now` {
		t.Errorf("vendor %+v", v)
	}
}

// TestTrackerDBPackage reads the real @ghostery/trackerdb export named by
// CONSENTEDGE_TRACKERDB (dist/trackerdb.json of the npm package), which is
// not ours to ship.
func TestTrackerDBPackage(t *testing.T) {
	path := os.Getenv("CONSENTEDGE_TRACKERDB")
	if path == "" {
		t.Skip("CONSENTEDGE_TRACKERDB names no trackerdb.json")
	}
	var r *Rules
	var stats []ListStats
	var err error
	heap := retained(func() any {
		r, stats, err = LoadLists([]ListFile{{Format: ListGhostery, Path: path}})
		return r
	})
	if err != nil {
		t.Fatal(err)
	}
	st := stats[0]
	t.Logf("vendors %d, hosts %d, known %d, benign %d, ignored %d, invalid %d; rule set: %d vendors, %d bytes of heap",
		st.Vendors, st.Hosts, st.Known, st.Benign, st.Ignored, st.Invalid, len(r.Vendors()), heap)
	if st.Vendors < 1000 || st.Hosts < 1000 {
		t.Errorf("too little imported: %+v", st)
	}
	wantVendor(t, r, "https://www.google-analytics.com/analytics.js", "google-analytics", "analytics")
}

// retained is the heap that what build returns keeps alive.
func retained(build func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return after.HeapAlloc - before.HeapAlloc
}
