package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/consentedge/consentedge/rules"
)

// listFlag collects `--list <format>:<file>`, the tools' spelling of the
// consent directive's `list <format> <file>`, so that an operator can check
// and scan with the rule set the proxy will run.
type listFlag []rules.ListFile

func (l *listFlag) String() string {
	var s []string
	for _, f := range *l {
		s = append(s, f.Format+":"+f.Path)
	}
	return strings.Join(s, ",")
}

func (l *listFlag) Set(v string) error {
	format, path, _ := strings.Cut(v, ":")
	if !slices.Contains(rules.ListFormats, format) || path == "" {
		return fmt.Errorf("want <format>:<file>, format one of %s", strings.Join(rules.ListFormats, ", "))
	}
	*l = append(*l, rules.ListFile{Format: format, Path: path})
	return nil
}

// paths are the lists' files.
func (l listFlag) paths() []string {
	var p []string
	for _, f := range l {
		p = append(p, f.Path)
	}
	return p
}

// printListStats says, per list, what it brought into the rule set and
// what it left out, as the directive logs it at config load.
func printListStats(w io.Writer, stats []rules.ListStats) {
	for _, st := range stats {
		fmt.Fprintf(w, "%s (%s): %d vendors, %d hosts; left out %d hosts already named, %d benign, %d invalid, %d entries not blocked by host\n",
			st.Path, st.Format, st.Vendors, st.Hosts, st.Known, st.Benign, st.Invalid, st.Ignored)
	}
}

// multiFlag collects a repeatable flag's values.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseInterspersed parses flags wherever they stand among the positional
// arguments (`consent decode '<cookie>' --header 'Sec-GPC: 1'`), which the
// flag package alone does not: it stops at the first positional one.
func parseInterspersed(fset *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fset.Parse(args); err != nil {
			return nil, err
		}
		if fset.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fset.Arg(0))
		args = fset.Args()[1:]
	}
}
