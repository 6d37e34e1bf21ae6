package rules

import (
	"io/fs"
	"strings"
	"testing"
)

func fuzzRules(t testing.TB) *Rules {
	r, err := Parse("fuzz.rules", []byte("category social \"Social\"\nvendor sw {\n category social\n host social.example/w\n path /sw/t.js?id=sw- /collect\n}\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// FuzzURL is a differential test: the fast path must agree with the WHATWG
// parser wherever it answers.
func FuzzURL(f *testing.F) {
	for _, tt := range urlTests {
		f.Add(tt.base, tt.raw)
	}
	f.Add("", "https://social.example/w/x")
	f.Add("https://social.example/", "w/x")
	f.Add("", "https://xn--bcher-kva.example/")
	f.Add("", "https://a.0x/")
	f.Add("", "https://a..b/")
	f.Add("", "https://www.facebook.com/tr?")
	f.Add("", "sw/T.js?x=1&ID=sw-1")
	f.Add("", "/a/%63ollect#x")
	f.Add("https://first.example/", "https://first.example/x/collect?v=2")
	r := fuzzRules(f)
	f.Fuzz(func(t *testing.T, base, raw string) {
		p := r.NewClassifier(testPage, Set(0).With(Functional))
		if base != "" {
			p.SetBase([]byte(base))
		}
		got := p.URL([]byte(raw))
		if raw == "" {
			return
		}
		if want := p.slowURL([]byte(raw)); got != want {
			t.Fatalf("base %q: URL(%q) = %+v, slow path %+v", base, raw, got, want)
		}
		if got.Block && got.Vendor == "" {
			t.Fatalf("block without vendor")
		}
	})
}

func FuzzScript(f *testing.F) {
	for _, tt := range scriptTests {
		f.Add(tt.text)
	}
	f.Add(`\u{110000}\u{`)
	f.Add(`'+'+'`)
	r := fuzzRules(f)
	f.Fuzz(func(t *testing.T, text string) {
		p := r.NewClassifier(testPage, 0)
		v := p.Script([]byte(text))
		if v.Block != (v.Vendor != "") || v.Block != (v.Category != "") {
			t.Fatalf("inconsistent verdict %+v", v)
		}
		if again := p.Script([]byte(text)); again != v {
			t.Fatalf("not deterministic: %+v then %+v", v, again)
		}
	})
}

func FuzzParseRules(f *testing.F) {
	f.Add(custom)
	names, _ := fs.Glob(vendorFiles, "vendors/*.rules")
	for _, name := range names {
		src, _ := vendorFiles.ReadFile(name)
		f.Add(string(src))
	}
	f.Add("vendor x {\n category analytics\n host a.com/x\n script \"abcd\"\n}\ndisable x\n")
	f.Add("category a\ncategory b \"B\\\"\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Parse("f.rules", []byte(src), nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.rules:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		// Every stored host is valid input again and maps to itself.
		for _, v := range r.Vendors() {
			for _, h := range v.Hosts {
				if n, err := normHostRule(h); err != nil || n != h {
					t.Fatalf("host %q re-normalises to %q, %v", h, n, err)
				}
			}
		}
		p := r.NewClassifier(testPage, 0)
		p.Script([]byte(src))
		p.URL([]byte(src))
	})
}

// custom is a rules file exercising every directive (also a fuzz seed).
const custom = `
category social "Social media"
category analytics "Statistics"
vendor sharethis {
    name     "ShareThis \"buttons\""
    category social
    host     platform-api.sharethis.com   BÜCHER.example. ｅｘａｍｐｌｅ.org/Path
    script   "__sharethis__"
    cookie   __sharethis_cookie_test__ st_*
    retention 2w
}
vendor hotjar {
    category analytics
    host     hj.example.com
}
disable clarity
`
