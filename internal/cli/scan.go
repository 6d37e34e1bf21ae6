package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// scan: what consentedge would do to pages, before it is switched on. The
// pages go through the same filter and rules as in the proxy; nothing here
// has its own idea of what a tracker is.

const scanUsage = `usage: caddy consent scan [--json|--suggest] [--fail-on <categories>] [--rules <file>]... [--list <format>:<file>]... <file|dir|url>...

Lists every tracker in HTML pages (vendor, category, element, line), what
each consent state would remove, and the third-party scripts, frames and
pixels no rule names. A directory is searched for *.html and *.htm; a URL is
fetched (redirects followed, 30 s timeout).

  --json                 one JSON document on stdout
  --suggest              a rules file with a vendor per site of the loads no
                         rule names, to check and complete
  --fail-on <categories> exit 1 when trackers of these categories (comma-
                         separated, e.g. analytics,advertising) are present
  --rules <file>         an operator rules file on top of the defaults (repeatable)
  --list <format>:<file> a tracker list, as the directive's list <format> <file>
                         (format ghostery, tds or disconnect; repeatable)

Exit status: 0 done, 1 --fail-on matched, 2 bad usage or unreadable input.`

// scanStates are the consent states reported, as in the test suites.
var scanStates = []struct {
	name  string
	grant []rules.Category
	gpc   bool
}{
	{"none", nil, false},
	{"functional", []rules.Category{rules.Functional}, false},
	{"analytics", []rules.Category{rules.Analytics}, false},
	{"advertising", []rules.Category{rules.Advertising}, false},
	{"all", []rules.Category{rules.Functional, rules.Analytics, rules.Advertising}, false},
	{"all+gpc", []rules.Category{rules.Functional, rules.Analytics, rules.Advertising}, true},
}

type scanTracker struct {
	Line     int    `json:"line"`
	Element  string `json:"element"`
	Vendor   string `json:"vendor"`
	Category string `json:"category"`
}

type scanState struct {
	State   string         `json:"state"`
	Removed int            `json:"removed"`
	Vendors map[string]int `json:"vendors"`
}

type scanResult struct {
	Input        string             `json:"input"`
	Trackers     []scanTracker      `json:"trackers"`
	States       []scanState        `json:"states"`
	Unclassified []unclassifiedLoad `json:"unclassified"`
}

// Scan is `caddy consent scan`; it returns the exit status.
func Scan(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("scan", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	asJSON := fset.Bool("json", false, "")
	suggest := fset.Bool("suggest", false, "")
	failOn := fset.String("fail-on", "", "")
	var ruleFiles multiFlag
	fset.Var(&ruleFiles, "rules", "")
	var lists listFlag
	fset.Var(&lists, "list", "")
	inputArgs, err := parseInterspersed(fset, args)
	if err != nil || len(inputArgs) == 0 {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "caddy consent scan: %v\n", err)
		}
		fmt.Fprintln(stderr, scanUsage)
		return 2
	}
	rs, _, err := rules.LoadLists(lists, ruleFiles...)
	if err != nil {
		fmt.Fprintf(stderr, "caddy consent scan: %v\n", err)
		return 2
	}
	fail, err := failCategories(rs, *failOn)
	if err != nil {
		fmt.Fprintf(stderr, "caddy consent scan: %v\n", err)
		return 2
	}
	results, failed, err := scanInputs(rs, inputArgs, fail, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "caddy consent scan: %v\n", err)
		return 2
	}
	switch {
	case *suggest:
		printSuggestion(stdout, results)
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"results": results}); err != nil {
			fmt.Fprintf(stderr, "caddy consent scan: %v\n", err)
			return 2
		}
	default:
		printScan(stdout, results)
	}
	if failed {
		fmt.Fprintf(stderr, "caddy consent scan: trackers of %s found\n", *failOn)
		return 1
	}
	return 0
}

// failCategories reads --fail-on: category ids joined by ",".
func failCategories(rs *rules.Rules, list string) (rules.Set, error) {
	var fail rules.Set
	if list == "" {
		return fail, nil
	}
	for _, id := range strings.Split(list, ",") {
		c, ok := rs.CategoryByID(strings.TrimSpace(id))
		if !ok {
			return 0, fmt.Errorf("--fail-on: unknown category %q", id)
		}
		fail = fail.With(c)
	}
	return fail, nil
}

// scanInputs scans every input (files, directories, URLs) and reports
// whether a tracker of a category in fail was found.
func scanInputs(rs *rules.Rules, args []string, fail rules.Set, progress io.Writer) (results []scanResult, failed bool, err error) {
	inputs, err := expandInputs(args)
	if err != nil {
		return nil, false, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	last := time.Now()
	for i, in := range inputs {
		if time.Since(last) > time.Second && len(inputs) > 1 {
			// A progress line on long scans, on stderr so stdout stays
			// the report.
			fmt.Fprintf(progress, "scanned %d of %d inputs\n", i, len(inputs))
			last = time.Now()
		}
		doc, err := readInput(client, in)
		if err != nil {
			return nil, false, err
		}
		res := scanDoc(rs, in, doc)
		for _, tr := range res.Trackers {
			if c, ok := rs.CategoryByID(tr.Category); ok && fail.Has(c) {
				failed = true
			}
		}
		results = append(results, res)
	}
	return results, failed, nil
}

// expandInputs turns directories into the HTML files under them; URLs and
// files stay as given.
func expandInputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if isURL(a) {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := strings.ToLower(filepath.Ext(p)); !d.IsDir() && (ext == ".html" || ext == ".htm") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// maxScanBody bounds what one input may be.
const maxScanBody = 64 << 20

// readInput reads a file or fetches a URL, as UTF-8 (a page in another
// encoding is decoded as a browser would decide it, as in the proxy).
func readInput(client *http.Client, in string) ([]byte, error) {
	var body []byte
	ct := ""
	if isURL(in) {
		resp, err := client.Get(in)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", in, resp.Status)
		}
		ct = resp.Header.Get("Content-Type")
		if body, err = io.ReadAll(io.LimitReader(resp.Body, maxScanBody+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
	} else {
		f, err := os.Open(in)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if body, err = io.ReadAll(io.LimitReader(f, maxScanBody+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
	}
	if len(body) > maxScanBody {
		return nil, fmt.Errorf("%s: larger than %d MiB", in, maxScanBody>>20)
	}
	// The proxy's own transcoder, so that the filter here reads the text
	// the filter in the proxy reads (invalid UTF-8 as U+FFFD, no BOM).
	var out bytes.Buffer
	var tc charset.Transcoder
	tc.Reset(&out, ct)
	if _, err := tc.Write(body); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if err := tc.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	return out.Bytes(), nil
}

// scanDoc filters doc once with nothing granted, recording every blocked
// element, then once per consent state, counting.
func scanDoc(rs *rules.Rules, name string, doc []byte) scanResult {
	res := scanResult{Input: name, Trackers: []scanTracker{}, Unclassified: []unclassifiedLoad{}}
	page := "https://example.com/"
	if isURL(name) {
		page = name
	}
	lines := lineStarts(doc)
	// Once with nothing granted and the loads no rule names counted as
	// advertising's, recording every blocked element and every such load.
	rec := &unclassifiedRecorder{Classifier: rs.NewClassifier(page, 0)}
	rec.page, _ = url.Parse(page)
	rec.Unclassify(rules.Advertising)
	onBlock := func(b htmlfilter.Blocked) {
		line := lineOf(lines, b.Offset)
		if b.Verdict.Vendor == rules.VendorUnclassified {
			res.Unclassified = append(res.Unclassified, rec.take(b, line))
			return
		}
		res.Trackers = append(res.Trackers, scanTracker{
			Line: line, Element: b.Tag, Vendor: b.Verdict.Vendor, Category: b.Verdict.Category,
		})
	}
	f := htmlfilter.New(io.Discard, rec, htmlfilter.Options{OnBlock: onBlock})
	f.Write(doc)
	f.Close()
	run := func(granted rules.Set) []htmlfilter.Removal {
		f := htmlfilter.New(io.Discard, rs.NewClassifier(page, granted), htmlfilter.Options{})
		f.Write(doc)
		f.Close()
		return f.Removed()
	}
	for _, st := range scanStates {
		var g rules.Set
		for _, c := range st.grant {
			g = g.With(c)
		}
		if st.gpc {
			g &^= 1 << rules.Advertising
		}
		s := scanState{State: st.name, Vendors: map[string]int{}}
		for _, r := range run(g) {
			s.Removed += r.Count
			s.Vendors[r.Vendor] += r.Count
		}
		res.States = append(res.States, s)
	}
	return res
}

// lineStarts lists the offsets at which lines start.
func lineStarts(doc []byte) []int64 {
	starts := []int64{0}
	for i, c := range doc {
		if c == '\n' {
			starts = append(starts, int64(i+1))
		}
	}
	return starts
}

func lineOf(starts []int64, off int64) int {
	i, found := slices.BinarySearch(starts, off)
	if !found {
		i--
	}
	return i + 1
}

func printScan(w io.Writer, results []scanResult) {
	for i, res := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %d tracker elements\n", res.Input, len(res.Trackers))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if len(res.Trackers) > 0 {
			fmt.Fprintln(tw, "  line\telement\tvendor\tcategory")
			for _, tr := range res.Trackers {
				cat := tr.Category
				if cat == "" {
					cat = "-"
				}
				fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", tr.Line, tr.Element, tr.Vendor, cat)
			}
		}
		fmt.Fprintln(tw, "  consent granted\tremoved\tby vendor")
		for _, st := range res.States {
			var vs []string
			for v, n := range st.Vendors {
				vs = append(vs, fmt.Sprintf("%s %d", v, n))
			}
			slices.Sort(vs)
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", st.State, st.Removed, strings.Join(vs, ", "))
		}
		if len(res.Unclassified) > 0 {
			fmt.Fprintf(tw, "  third-party loads no rule names (%d; --suggest drafts rules)\n", len(res.Unclassified))
			fmt.Fprintln(tw, "  line\telement\turl")
			for _, l := range res.Unclassified {
				fmt.Fprintf(tw, "  %d\t%s\t%s\n", l.Line, l.Element, l.URL)
			}
		}
		tw.Flush()
	}
}
