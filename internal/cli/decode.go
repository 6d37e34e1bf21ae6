package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
)

const decodeUsage = `usage: caddy consent decode [--header 'Name: value']... [--dnt] [--map name=target]... '<Cookie header>'

Shows what each consent signal in a Cookie header grants (our consent
cookie, every consent tool consentedge reads, IAB TCF) and the state the
visitor gets with all of them read together (an explicit denial anywhere
wins), with the vendors the tools grant or refuse by name. --header adds a
request header such as 'Sec-GPC: 1'; --dnt honours DNT: 1 as 'dnt on'
would; --map reads a tool's name as a 'map <name> <target>' line would.`

// Decode is `caddy consent decode`.
func Decode(args []string, stdout, stderr io.Writer) int {
	h, names, dnt, err := decodeArgs(args)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) && err != errUsage {
			fmt.Fprintf(stderr, "caddy consent decode: %v\n", err)
		}
		if !strings.HasPrefix(err.Error(), "--") {
			fmt.Fprintln(stderr, decodeUsage)
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
