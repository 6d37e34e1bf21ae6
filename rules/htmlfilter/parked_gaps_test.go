package htmlfilter

import "testing"

// TestParkedURLsOutsideLazyNames holds parked loads whose URL sits in an
// attribute lazyName does not read, though the tool's runtime loads it:
// Perfmatters' older delay mode keeps a script's src (or its inline text as
// a data: URL) in data-pmdelayedscript, and its runtime sets src from it
// (pmLoadDelayedScripts: elem.setAttribute("src",
// elem.getAttribute("data-pmdelayedscript"))); NitroPack's lazy loader keeps
// image URLs in nitro-lazy-src and nitro-lazy-srcset, which are not data-*
// attributes. Each must be judged as the load it becomes.
func TestParkedURLsOutsideLazyNames(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"perfmatters data-pmdelayedscript src",
			`<script data-pmdelayedscript="https://tracker.example/t.js" data-cfasync="false" data-no-optimize="1" data-no-defer="1" data-no-minify="1"></script>x`, `x`},
		{"perfmatters data-pmdelayedscript inline as data URL",
			`<script data-pmdelayedscript="data:text/javascript,tracker()" data-cfasync="false"></script>x`, `x`},
		{"nitropack nitro-lazy-src",
			`<img nitro-lazy-src="https://tracker.example/p.gif" class="lazyload" alt=a>`, `<img  class="lazyload" alt=a>`},
		{"nitropack nitro-lazy-srcset",
			`<img nitro-lazy-srcset="/a.png 1x, https://tracker.example/p.gif 2x" alt=a>`, `<img  alt=a>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range []Mode{Strip, Defer} {
				if got, _ := filter(c.in, m, 0); got != c.want {
					t.Errorf("%v:\n in: %s\ngot: %s\nwant %s", m, c.in, got, c.want)
				}
			}
		})
	}
}
