// Package vendorexamples reads the vendors' examples (rules/testdata/vendors):
// each vendor's snippets and URLs as its documentation publishes them. The
// rules' tests check every example against the rules; the load benchmark
// builds its landing page from them.
package vendorexamples

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Example is one snippet or URL of a vendor.
type Example struct {
	File     string // the file and line of its "==" line
	Line     int
	Vendor   string
	Category string
	Source   string // the vendor page it comes from
	// Observed: the install code the vendor's portal generates, as sites
	// carry it; the source page documents the install but prints no code.
	Observed bool
	Text     string // the snippet or URL as written, trimmed
}

// Read reads dir/*.txt. Each example starts with a line
// "== <vendor> <category> <source URL> [observed]", and its text runs to
// the next such line; lines starting with '#' before the first example are
// comments. An error names the file and line.
func Read(dir string) ([]Example, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no vendor examples in %s", dir)
	}
	var out []Example
	for _, name := range files {
		if out, err = readFile(name, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readFile appends the examples of one file to out.
func readFile(name string, out []Example) ([]Example, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var cur *Example
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimSpace(body.String())
			out = append(out, *cur)
		}
		body.Reset()
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "== "); ok {
			flush()
			f := strings.Fields(rest)
			if len(f) < 3 || len(f) > 4 || !strings.HasPrefix(f[2], "https://") || len(f) == 4 && f[3] != "observed" {
				return nil, fmt.Errorf("%s:%d: want \"== <vendor> <category> <source URL> [observed]\", got %q", name, n, line)
			}
			cur = &Example{File: name, Line: n, Vendor: f[0], Category: f[1], Source: f[2], Observed: len(f) == 4}
			continue
		}
		if cur == nil {
			if line != "" && !strings.HasPrefix(line, "#") {
				return nil, fmt.Errorf("%s:%d: text before the first example", name, n)
			}
			continue
		}
		body.WriteString(line + "\n")
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}
