package htmlfilter

import (
	"bytes"
	"strings"
)

// toy is a policy for testing the scanner alone: a URL or script is a
// tracker when it mentions "tracker" (category ads); "stats" is analytics.
type toy struct {
	base string
	all  bool // every category granted
}

func (p *toy) Permissive() bool { return p.all }

func (p *toy) URL(raw []byte) Verdict {
	if len(raw) == 0 {
		return Verdict{} // an empty URL fetches nothing
	}
	s := strings.ToLower(string(raw))
	if !strings.Contains(s, "://") && !strings.HasPrefix(s, "//") {
		s = p.base + s
	}
	return classify(s)
}

func (p *toy) Script(text []byte) Verdict {
	return classify(strings.ToLower(string(text)))
}

func (p *toy) SetBase(href []byte) Verdict {
	p.base = strings.ToLower(string(href))
	return Verdict{}
}

func classify(s string) Verdict {
	switch {
	case strings.Contains(s, "tracker"):
		return Verdict{Block: true, Category: "ads", Vendor: "tracker"}
	case strings.Contains(s, "stats"):
		return Verdict{Block: true, Category: "analytics", Vendor: "stats"}
	case strings.Contains(s, "bad url"):
		return Verdict{Block: true, Vendor: "invalid-url"}
	}
	return Verdict{}
}

// filter runs src through a new filter in chunks of size n (0: one write).
func filter(src string, mode Mode, n int) (string, []Removal) {
	return filterCap(src, mode, n, 1<<10)
}

// filterCap is filter with MaxBuffer maxBuf.
func filterCap(src string, mode Mode, n, maxBuf int) (string, []Removal) {
	var out bytes.Buffer
	f := New(&out, &toy{}, Options{Mode: mode, MaxBuffer: maxBuf})
	b := []byte(src)
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 {
		m := min(n, len(b))
		f.Write(b[:m])
		b = b[m:]
	}
	f.Close()
	return out.String(), f.Removed()
}
