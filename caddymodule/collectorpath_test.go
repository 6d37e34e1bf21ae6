package caddymodule

import (
	"strings"
	"testing"
)

func TestResolvePath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/g/collect", "/g/collect"},
		{"/G/Collect", "/g/collect"},
		{"//g///collect//", "/g/collect/"},
		{"/g/./collect/.", "/g/collect/"},
		{"/g/x/../collect", "/g/collect"},
		{"/../../g/collect", "/g/collect"},
		{"/g/collect/..", "/g/"},
		{`/g\collect`, "/g/collect"},
		{`\g\\collect`, "/g/collect"},
		{"/g;v=1/collect;jsessionid=x", "/g/collect"},
		{"/..;/g/collect", "/g/collect"},
		{"/g/;x/../collect", "/collect"}, // the parameter goes first, as in Tomcat
		{"/g./collect.", "/g/collect."},  // the last segment keeps its dots
		{"/g. . /collect", "/g/collect"},
		{"/g/.../collect", "/g/.../collect"}, // a name, not a dot segment
		{"/g/.../..", "/g/"},
		{"/trac\u212a", "/track"}, // the Kelvin sign
		{"/ÄÖÜ/İ", "/äöü/i"},
		{"/a\xffB", "/a\xffb"}, // not UTF-8: kept
		{"/%2F", "/%2f"},       // decoded once: this is no slash
		{"/" + strings.Repeat("../", 10000) + "g/collect", "/g/collect"},
		{"/" + strings.Repeat("a/", 10000) + strings.Repeat("../", 9999) + "g/collect", "/a/g/collect"},
	} {
		if got := string(resolvePath(nil, tt.in, false)); got != tt.want {
			t.Errorf("resolvePath(%.40q) = %.40q, want %.40q", tt.in, got, tt.want)
		}
	}
	if got := string(resolvePath(nil, "/g/;x/../collect;y", true)); got != "/g/collect;y" {
		t.Errorf("resolvePath keeping parameters = %q", got)
	}
}

func TestCollectorPattern(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		prefix   bool
	}{
		{"/g/collect", "/g/collect", false},
		{"/G/Collect/", "/g/collect", false},
		{"/g/collect.", "/g/collect", false},
		{"/", "", false},
		{"/gtm/*", "/gtm/", true},
		{"/collect*", "/collect", true},
		{"/file.*", "/file.", true}, // the incomplete segment keeps its dot
		{"/a/../gtm//*", "/gtm/", true},
		{"/g%2Fcollect", "/g/collect", false}, // written unescaped; an escape is decoded
		{"/%zz", "/%zz", false},
		{"/*", "/", true},
	} {
		got := newCollectorPattern(tt.in)
		if got.path != tt.want || got.prefix != tt.prefix {
			t.Errorf("newCollectorPattern(%q) = %q, %v; want %q, %v", tt.in, got.path, got.prefix, tt.want, tt.prefix)
		}
	}
}

// TestCollectorForAllocs: collectors are looked up on every request; a path
// in resolved form costs no allocation, nor does a short one that is not.
func TestCollectorForAllocs(t *testing.T) {
	h := &Handler{Collectors: []Collector{{Path: "/g/collect"}, {Path: "/gtm/*"}}}
	for i := range h.Collectors {
		h.Collectors[i].pattern = newCollectorPattern(h.Collectors[i].Path)
	}
	for _, path := range []string{"/shop/Product-42/reviews", "/G/collect", "/shop//./x;y/../Product"} {
		if a := testing.AllocsPerRun(100, func() { h.collectorFor(path) }); a != 0 {
			t.Errorf("collectorFor(%q): %v allocations", path, a)
		}
	}
}

// FuzzResolvePath: resolving is idempotent, a path it calls resolved comes
// back as it is but for its case, and the form holds no separator, parameter
// or dot segment that would resolve further.
func FuzzResolvePath(f *testing.F) {
	for _, s := range []string{"/", "/g/collect", "//G/./x/../Collect;x.", `/a\b`, "/..;/a", "/a./b. /...", "/trac\u212a", "/a/b/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := string(resolvePath(nil, p, false))
		if again := string(resolvePath(nil, r, false)); again != r {
			t.Fatalf("resolvePath(%q) = %q, then %q", p, r, again)
		}
		if isResolvedPath(p) && r != string(appendLower(nil, p)) {
			t.Fatalf("isResolvedPath(%q), but it resolves to %q", p, r)
		}
		if !strings.HasPrefix(r, "/") || strings.Contains(r, "//") || strings.ContainsAny(r, `\;`) ||
			strings.Contains(r+"/", "/./") || strings.Contains(r+"/", "/../") {
			t.Fatalf("resolvePath(%q) = %q", p, r)
		}
	})
}
