package rules

import (
	"strconv"
	"strings"
)

// listEntry is one tracker of a list, in our terms.
type listEntry struct {
	org   string   // who runs it: entries of one org and category make one vendor
	name  string   // the vendor's name
	cat   Category // ours, or notTracker
	hosts []string // "host" or "host/path", as the list writes them
}

// notTracker marks a list category that names no page tracker (benign
// infrastructure: CDN, hosting, consent managers, payment...). No rule set
// declares it (MaxCategories bounds them).
const notTracker Category = 0xff

// unknownCategory is ours for a tracker whose purpose the list does not
// state, or states in a category the tables do not know: the category that
// asks the most of a visitor's consent.
const unknownCategory = Advertising

// listReaders read a list file's entries; st takes the counts of what they
// leave out (Ignored).
var listReaders = map[string]func(src jsonValue, st *ListStats) ([]listEntry, error){
	ListGhostery:   readGhostery,
	ListTDS:        readTDS,
	ListDisconnect: readDisconnect,
}

// listGroup is one vendor to be: an org's hosts of one category.
type listGroup struct {
	org, name string
	cat       Category
	hosts     []string
}

// group files each host under one vendor, in file order: a host listed
// twice goes with its most restrictive category. Hosts of benign
// categories, hosts the base or an earlier list names, and hosts no URL can
// have are counted and left out.
func (imp *importer) group(entries []listEntry, st *ListStats) []*listGroup {
	type place struct {
		entry int
		host  string
	}
	best := map[string]int{} // normalised host → index in order
	var order []place
	for i, e := range entries {
		for _, h := range e.hosts {
			norm, err := normHostRule(h)
			switch {
			case err != nil:
				st.Invalid++
			case e.cat == notTracker:
				st.Benign++
			default:
				if j, ok := best[norm]; ok {
					if e.cat > entries[order[j].entry].cat {
						order[j].entry = i
					}
					continue
				}
				best[norm] = len(order)
				order = append(order, place{i, norm})
			}
		}
	}
	type key struct {
		org string
		cat Category
	}
	groups := map[key]*listGroup{}
	var out []*listGroup
	for _, p := range order {
		if imp.known(p.host) {
			st.Known++
			continue
		}
		e := entries[p.entry]
		g := groups[key{e.org, e.cat}]
		if g == nil {
			g = &listGroup{org: e.org, name: e.name, cat: e.cat}
			groups[key{e.org, e.cat}] = g
			out = append(out, g)
		}
		g.hosts = append(g.hosts, p.host)
	}
	return out
}

// known reports whether the base or an earlier list already names a host
// rule: its exact hostname, or a parent domain whose rule covers every path
// (a host rule matches its subdomains).
func (imp *importer) known(rule string) bool {
	host, _, _ := strings.Cut(rule, "/")
	if _, ok := imp.hosts[host]; ok {
		return true
	}
	if _, ok := imp.base.hosts[host]; ok {
		return true
	}
	for h := host; ; {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return false
		}
		h = h[i+1:]
		if imp.hosts[h] {
			return true
		}
		for _, hr := range imp.base.hosts[h] {
			if hr.path == "" {
				return true
			}
		}
	}
}

// write appends the groups as vendor blocks. An org with hosts in several
// of our categories gets one vendor per category, its id suffixed with
// the category's.
func (imp *importer) write(format string, groups []*listGroup, st *ListStats) {
	cats := map[string]int{}
	for _, g := range groups {
		cats[g.org]++
	}
	b := &imp.src
	for _, g := range groups {
		suffix := ""
		if cats[g.org] > 1 {
			suffix = "-" + canonical[g.cat].ID
		}
		id := imp.vendorID(format, g.org, suffix)
		b.WriteString("vendor " + id + " {\n    name " + quoteRule(g.name) +
			"\n    category " + canonical[g.cat].ID + "\n")
		for i, h := range g.hosts {
			if i%8 == 0 {
				b.WriteString("    host")
			}
			b.WriteString(" " + quoteRule(h))
			if i%8 == 7 || i == len(g.hosts)-1 {
				b.WriteByte('\n')
			}
			host, _, path := strings.Cut(h, "/")
			imp.hosts[host] = imp.hosts[host] || !path
		}
		b.WriteString("}\n")
		st.Vendors++
		st.Hosts += len(g.hosts)
	}
}

// vendorID makes "<format>-<slug of org><suffix>", unique among the ids
// taken: a valid vendor id (validID) of at most MaxIDLen bytes.
func (imp *importer) vendorID(format, org, suffix string) string {
	s := slug(org)
	if s == "" {
		s = "list" // an org named in no ASCII letter or digit
	}
	base := format + "-" + s
	// Room for the longest category suffix and a counter.
	if n := MaxIDLen - len("-advertising") - len("-99999"); len(base) > n {
		base = strings.TrimRight(base[:n], "-")
	}
	id := base + suffix
	for n := 2; imp.ids[id]; n++ {
		id = base + suffix + "-" + strconv.Itoa(n)
	}
	imp.ids[id] = true
	return id
}

// slug lowercases s's ASCII letters and digits and joins the runs of
// anything else with one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		default:
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quoteRule writes s as a quoted token of the rules format: '"' and '\'
// escaped, control bytes (which would end the line) dropped.
func quoteRule(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
