package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
)

const rulesUsage = `usage: consentedge rules check [--list <format>:<file>]... <file>...
       consentedge rules list [--json] [--list <format>:<file>]... [--rules <file>]...

check reads rules files on top of the embedded defaults, as the consent
directive would, and prints each error with its file and line; list prints
the vendors of the rule set (the defaults, plus --rules files).

  --list <format>:<file>  a tracker list, as the directive's list <format> <file>
                          (format ghostery, tds or disconnect; repeatable)`

// runRules is `consentedge rules`.
func runRules(args []string, stdout, stderr io.Writer) int {
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
		fmt.Fprintf(stderr, "consentedge rules: %v\n", err)
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

const consentUsage = `usage: consentedge consent decode [--header 'Name: value']... [--dnt] [--map name=target]... '<Cookie header>'

Shows what each consent signal in a Cookie header grants (our consent
cookie, every consent tool consentedge reads, IAB TCF) and the state the
visitor gets with all of them read together (an explicit denial anywhere
wins), with the vendors the tools grant or refuse by name. --header adds a
request header such as 'Sec-GPC: 1'; --dnt honours DNT: 1 as 'dnt on'
would; --map reads a tool's name as a 'map <name> <target>' line would.`

// runConsent is `consentedge consent decode`.
func runConsent(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "decode" {
		fmt.Fprintln(stderr, consentUsage)
		return 2
	}
	h, names, dnt, err := decodeArgs(args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && err != errUsage {
			fmt.Fprintf(stderr, "consentedge consent decode: %v\n", err)
		}
		if !strings.HasPrefix(err.Error(), "--") {
			fmt.Fprintln(stderr, consentUsage)
		}
		return 2
	}
	rs := rules.Default()
	rd := consent.NewReader(rs)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "signal\tcookie\tgrants\tdenies\tvendors granted\tvendors refused\tnote")
	var all []consent.Source
	for _, name := range consent.SourceNames() {
		src := consent.Source{Name: name}
		all = append(all, src)
		stated, reason, _ := rd.SourceState(h, src, consent.Config{Names: names})
		if stated.Grant|stated.Deny == 0 && reason == "" && stated.VendorDeny == nil {
			continue // nothing of this tool in the header
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, consent.DefaultSourceCookie(name),
			dash(rs.FormatSet(stated.Grant)), dash(rs.FormatSet(stated.Deny)),
			vendorList(rs, stated.VendorGrant), vendorList(rs, stated.VendorDeny), dash(reason))
	}
	if consent.GPC(h) {
		fmt.Fprintf(tw, "gpc\tSec-GPC: 1\t\tadvertising\t\n")
	}
	if dnt && consent.DNT(h) {
		fmt.Fprintf(tw, "dnt\tDNT: 1\t\tanalytics.advertising\t\n")
	}
	tw.Flush()
	printFinal(stdout, rs, rd.Read(h, consent.Config{Sources: all, GPC: true, DNT: dnt, Names: names}))
	return 0
}

// errUsage: the arguments are wrong in a way the usage says.
var errUsage = errors.New("usage")

// decodeArgs reads consent decode's flags and its Cookie header: the
// request headers to decode, the operator's map lines, and --dnt. An error
// starting "--" names the flag that was wrong.
func decodeArgs(args []string) (h http.Header, names *consent.NameMap, dnt bool, err error) {
	fset := flag.NewFlagSet("consent decode", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	var headers, maps multiFlag
	fset.Var(&headers, "header", "")
	fset.Var(&maps, "map", "")
	dntFlag := fset.Bool("dnt", false, "")
	pos, err := parseInterspersed(fset, args)
	if err != nil {
		return nil, nil, false, err
	}
	if len(pos) != 1 {
		return nil, nil, false, errUsage
	}
	h = http.Header{"Cookie": {pos[0]}}
	for _, kv := range headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, nil, false, fmt.Errorf("--header %q: want 'Name: value'", kv)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	lines := map[string]string{}
	for _, kv := range maps {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, false, fmt.Errorf("--map %q: want name=target", kv)
		}
		lines[k] = v
	}
	if names, err = consent.NewReader(rules.Default()).ParseNameMap(lines); err != nil {
		return nil, nil, false, fmt.Errorf("--map: %v", err)
	}
	return h, names, *dntFlag, nil
}

// printFinal writes the state all the signals make together.
func printFinal(w io.Writer, rs *rules.Rules, st consent.State) {
	fmt.Fprintf(w, "\nfinal: %s (decided by %s)\n", rs.FormatSet(st.Granted), st.Signals)
	if v := st.Vendors; v.Refused != nil || v.Granted != nil || v.Only != 0 {
		fmt.Fprintf(w, "vendors granted by name: %s\n", vendorList(rs, v.Granted))
		fmt.Fprintf(w, "vendors refused by name: %s\n", vendorList(rs, v.Refused))
		if v.Only != 0 {
			fmt.Fprintf(w, "granted vendor by vendor: %s (its other vendors are refused)\n", rs.FormatSet(v.Only))
		}
	}
	if st.Reason != "" {
		fmt.Fprintf(w, "note: %s\n", st.Reason)
	}
}

// vendorList names the vendors of vs, the first few by id: a TC string
// refuses hundreds.
func vendorList(rs *rules.Rules, vs rules.VendorSet) string {
	ids := rs.VendorIDs(vs)
	const shown = 6
	if len(ids) > shown {
		return fmt.Sprintf("%s and %d more", strings.Join(ids[:shown], "."), len(ids)-shown)
	}
	return dash(strings.Join(ids, "."))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
