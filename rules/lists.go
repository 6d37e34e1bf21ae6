package rules

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

// ListFile names a third-party tracker list on the operator's disk. Lists
// whose licence forbids shipping them (Ghostery's TrackerDB, DuckDuckGo's
// Tracker Data Set, Disconnect's services.json) are read at config time;
// their trackers become vendors of the rule set.
type ListFile struct {
	// Format is one of ListFormats.
	Format string `json:"format"`
	// Path is the list's file.
	Path string `json:"path"`
}

// The list formats.
const (
	ListGhostery   = "ghostery"   // @ghostery/trackerdb's dist/trackerdb.json
	ListTDS        = "tds"        // DuckDuckGo's Tracker Data Set (tds.json)
	ListDisconnect = "disconnect" // Disconnect's services.json
)

// ListFormats lists the formats LoadLists reads.
var ListFormats = []string{ListGhostery, ListTDS, ListDisconnect}

// ListStats says what one list brought into the rule set and what it left.
// Hosts, Known, Benign and Invalid count host entries; Ignored counts the
// list's own entries (a tds tracker, a Ghostery pattern).
type ListStats struct {
	Format, Path string
	Vendors      int // vendors added
	Hosts        int // host rules added
	// Known hosts are named already, by the rule set the list was loaded
	// on or by an earlier list: ours are sourced, a list's are not.
	Known int
	// Benign hosts are of a category that names no page tracker (a CDN,
	// hosting, a consent manager, payment...).
	Benign int
	// Ignored entries are ones the list does not block by host: a tds
	// tracker whose default is "ignore" without a literal rule, a Ghostery
	// pattern with filters only.
	Ignored int
	// Invalid hosts are no hostname a URL can have (a wildcard, a regex).
	Invalid int
}

// LoadLists returns the default rules extended by the tracker lists, then by
// the operator's rule files (so that a rules file can disable or redefine an
// imported vendor), with what each list brought. Errors name the file, and
// for a list the line and column of the offending value; nothing is
// half-loaded.
func LoadLists(lists []ListFile, ruleFiles ...string) (*Rules, []ListStats, error) {
	r := Default()
	stats := make([]ListStats, 0, len(lists))
	if len(lists) > 0 {
		imp := newImporter(r)
		for _, l := range lists {
			src, err := os.ReadFile(l.Path)
			if err != nil {
				// *PathError already names the file.
				return nil, nil, fmt.Errorf("rules: %w", err)
			}
			st, err := imp.add(l.Format, l.Path, src)
			if err != nil {
				return nil, nil, err
			}
			stats = append(stats, st)
		}
		var err error
		if r, err = imp.rules(); err != nil {
			return nil, nil, err
		}
	}
	for _, p := range ruleFiles {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("rules: %w", err)
		}
		if r, err = Parse(p, src, r); err != nil {
			return nil, nil, err
		}
	}
	return r, stats, nil
}

// ParseList returns base extended by the list src (named name in errors)
// of the given format. base is not modified.
func ParseList(base *Rules, format, name string, src []byte) (*Rules, ListStats, error) {
	if base == nil {
		base = compile(slices.Clone(canonical[:]), nil)
	}
	imp := newImporter(base)
	st, err := imp.add(format, name, src)
	if err != nil {
		return nil, ListStats{}, err
	}
	r, err := imp.rules()
	return r, st, err
}

// importer translates lists into vendor blocks of the rules format, so that
// Parse validates and compiles them as it does an operator's file: one
// compiler, one set of checks.
type importer struct {
	base  *Rules
	hosts map[string]bool // hostnames imported so far → whether a rule covers every path
	ids   map[string]bool // vendor ids taken, the base's included
	src   strings.Builder // the vendor blocks
	names []string
}

func newImporter(base *Rules) *importer {
	imp := &importer{base: base, hosts: map[string]bool{}, ids: map[string]bool{}}
	for _, v := range base.vendors {
		imp.ids[v.ID] = true
	}
	return imp
}

// add reads one list into vendor blocks.
func (imp *importer) add(format, name string, src []byte) (ListStats, error) {
	read, ok := listReaders[format]
	if !ok {
		return ListStats{}, fmt.Errorf("%s: unknown list format %q (one of %s)", name, format, strings.Join(ListFormats, ", "))
	}
	st := ListStats{Format: format, Path: name}
	if err := checkJSON(src); err != nil {
		return st, listError(name, src, err)
	}
	// JSON allows whitespace before the value; the walk starts at it.
	at := len(src) - len(bytes.TrimLeft(src, " \t\r\n"))
	entries, err := read(jsonValue{raw: src[at:], at: at}, &st)
	if err != nil {
		return st, listError(name, src, err)
	}
	imp.names = append(imp.names, name)
	imp.write(format, imp.group(entries, &st), &st)
	return st, nil
}

// rules compiles the base and every list added.
func (imp *importer) rules() (*Rules, error) {
	name := strings.Join(imp.names, ", ") + " (as vendors)"
	r, err := Parse(name, []byte(imp.src.String()), imp.base)
	if err != nil {
		// Every value was checked on the way in: this is our bug, but say
		// which lists it came from.
		return nil, fmt.Errorf("rules: importing tracker lists: %w", err)
	}
	for _, v := range r.vendors {
		if _, ok := imp.base.vendorIdx[v.ID]; !ok {
			v.Imported = true
		}
	}
	return r, nil
}
