package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/consentedge/consentedge/rules"
)

const rulesUsage = `usage: caddy consent rules check [--list <format>:<file>]... <file>...
       caddy consent rules list [--json] [--list <format>:<file>]... [--rules <file>]...

check reads rules files on top of the embedded defaults, as the consent
directive would, and prints each error with its file and line; list prints
the vendors of the rule set (the defaults, plus --rules files).

  --list <format>:<file>  a tracker list, as the directive's list <format> <file>
                          (format ghostery, tds or disconnect; repeatable)`

// Rules is `caddy consent rules`.
func Rules(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, rulesUsage)
		return 2
	}
	fset := flag.NewFlagSet("rules "+args[0], flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	var lists listFlag
	fset.Var(&lists, "list", "")
	switch args[0] {
	case "check":
		files, err := parseInterspersed(fset, args[1:])
		if err != nil || len(files)+len(lists) == 0 {
			return rulesUsageError(stderr, err)
		}
		rs, stats, err := rules.LoadLists(lists, files...)
		if err != nil {
			// The loader says "file:line: message".
			fmt.Fprintln(stderr, err)
			return 1
		}
		printListStats(stdout, stats)
		checked := append(lists.paths(), files...)
		fmt.Fprintf(stdout, "%s: ok (%d vendors, %d categories)\n", strings.Join(checked, ", "), len(rs.Vendors()), len(rs.Categories()))
		return 0
	case "list":
		asJSON := fset.Bool("json", false, "")
		var files multiFlag
		fset.Var(&files, "rules", "")
		if pos, err := parseInterspersed(fset, args[1:]); err != nil || len(pos) > 0 {
			return rulesUsageError(stderr, err)
		}
		rs, _, err := rules.LoadLists(lists, files...)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return listRules(rs, *asJSON, stdout, stderr)
	}
	return rulesUsageError(stderr, nil)
}

// rulesUsageError prints what was wrong with the arguments, if known, and
// the usage: exit status 2.
func rulesUsageError(stderr io.Writer, err error) int {
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stderr, "caddy consent rules: %v\n", err)
	}
	fmt.Fprintln(stderr, rulesUsage)
	return 2
}

type vendorRow struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Hosts     []string `json:"hosts"`
	Paths     []string `json:"paths,omitempty"`
	Scripts   []string `json:"scripts"`
	Cookies   []string `json:"cookies"`
	Params    []string `json:"params"`
	Retention string   `json:"retention,omitempty"`
	TCF       int      `json:"tcf,omitempty"`
}

func listRules(rs *rules.Rules, asJSON bool, stdout, stderr io.Writer) int {
	var rows []vendorRow
	for _, v := range rs.Vendors() {
		rows = append(rows, vendorRow{v.ID, v.Name, rs.CategoryID(v.Category), nonNil(v.Hosts), v.Paths, nonNil(v.Scripts), nonNil(v.Cookies), nonNil(v.Params), v.Retention, v.TCF})
	}
	if asJSON {
		var cats []map[string]string
		for _, c := range rs.Categories() {
			cats = append(cats, map[string]string{"id": c.ID, "name": c.Name})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"categories": cats, "vendors": rows}); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "vendor\tcategory\tretention\thosts\tcookies\tparams")
	for _, r := range rows {
		ret := r.Retention
		if ret == "" {
			ret = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Category, ret, strings.Join(append(slices.Clone(r.Hosts), r.Paths...), " "), strings.Join(r.Cookies, " "), strings.Join(r.Params, " "))
	}
	tw.Flush()
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
