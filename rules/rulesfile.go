package rules

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Vendor is one tracker vendor (or a necessary service that must never be touched).
type Vendor struct {
	ID       string
	Name     string
	Category Category
	Hosts    []string // "host" or "host/path[?param-prefix]" (pathform.go)
	Paths    []string // "/path[?param-prefix]" on any host (pathrules.go)
	Scripts  []string // inline-script signatures
	Cookies  []string // names; a trailing * makes a prefix
	// Params are the query parameters the vendor's tags read from a
	// landing page's URL (click ids, link decoration); a trailing *
	// makes a prefix.
	Params    []string
	Retention string // e.g. "2y", "90d"; "" = unset
	TCF       int    // the vendor's id in the IAB TCF Global Vendor List; 0 = none
	// Imported says the vendor came from an operator's tracker list
	// (LoadLists), not from a rules file.
	Imported bool
}

func (v *Vendor) clone() *Vendor {
	c := *v
	c.Hosts = slices.Clone(v.Hosts)
	c.Paths = slices.Clone(v.Paths)
	c.Scripts = slices.Clone(v.Scripts)
	c.Cookies = slices.Clone(v.Cookies)
	c.Params = slices.Clone(v.Params)
	return &c
}

// Reserved vendor ids: verdicts that name no rule. A rules file cannot use them.
const (
	VendorInvalidURL = "invalid-url" // a loading URL that a browser cannot parse
	VendorLateBase   = "late-base"   // a <base href> after URLs it could resolve to a vendor's host
)

var reservedVendors = []string{VendorInvalidURL, VendorLateBase, VendorUnclassified, htmlfilter.VendorOversize, htmlfilter.VendorAmbiguous}

// Rules is a compiled, immutable rule set, safe for concurrent use.
type Rules struct {
	cats      []CategoryInfo
	catIdx    map[string]Category
	vendors   []*Vendor // in definition order; a redefinition moves to the end
	vendorIdx map[string]int
	hosts     map[string][]hostRule // hostname → its rules, longest path first
	paths     map[string][]pathRule // last path segment → rules on any host, longest first
	ac        *matcher              // script signatures and vendor hostnames
	acVendor  []int32               // pattern id → vendor index, or -1 for a hostname

	cookieExact  map[string]int32 // tracking cookie name → vendor index
	cookiePrefix []cookieRule     // "name*" patterns, longest first

	setNames []string // FormatSet's answers, by Set, when there are few categories
}

// hostRule is one "host/path" of a vendor, filed under its hostname.
type hostRule struct {
	path   string // lowercase "/path[?param prefix]" (pathform.go); "" matches every path
	vendor int32
}

// vendorFiles are the embedded default vendors, a file per kind, read in
// the order of their names.
//
//go:embed vendors/*.rules
var vendorFiles embed.FS

// defaultRules is the embedded default set, compiled once. Immutable.
var defaultRules = func() *Rules {
	r, err := parseDefault()
	if err != nil {
		panic("rules: embedded vendors: " + err.Error())
	}
	return r
}()

// parseDefault compiles the embedded vendor files, each on top of the last.
func parseDefault() (*Rules, error) {
	names, err := fs.Glob(vendorFiles, "vendors/*.rules")
	if err != nil {
		return nil, err
	}
	var r *Rules
	for _, name := range names { // fs.Glob sorts them
		src, err := vendorFiles.ReadFile(name)
		if err == nil {
			r, err = Parse(name, src, r)
		}
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Default returns the embedded default rule set.
func Default() *Rules { return defaultRules }

// Load returns the default rules extended by the operator's files, in order.
// Errors name the file and line.
func Load(paths ...string) (*Rules, error) {
	r := Default()
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			// *PathError already names the file.
			return nil, fmt.Errorf("rules: %w", err)
		}
		if r, err = Parse(p, src, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Parse compiles src (named name in errors) on top of base (nil: the canonical
// categories and no vendors). base is not modified.
//
// The format, line by line ('#' starts a comment outside quotes; tokens are
// bare words or "double-quoted" strings with \" and \\ escapes):
//
//	category social "Social media"     # declare (or rename) a category
//	vendor facebook {                   # define (or wholly replace) a vendor
//	    name      "Facebook / Meta pixel"
//	    category  advertising           # required
//	    host      connect.facebook.net  # the host and its subdomains
//	    host      www.facebook.com/tr   # host + path at a segment boundary
//	    path      /tr?id=               # a path on any host; * = one segment
//	    script    "fbq('init'"          # inline-script signatures
//	    cookie    _fbp _fbc fr          # cookie names; trailing * = prefix
//	    param     fbclid                # query parameters its tags read
//	    retention 90d                   # Nd, Nw or Ny
//	    tcf       1                     # IAB TCF vendor id
//	}
//	disable hotjar                      # drop a vendor defined earlier
func Parse(name string, src []byte, base *Rules) (*Rules, error) {
	p := &ruleParser{name: name}
	if base == nil {
		p.cats = slices.Clone(canonical[:])
	} else {
		p.cats = slices.Clone(base.cats)
		for _, v := range base.vendors {
			p.vendors = append(p.vendors, v.clone())
		}
	}
	if err := p.parse(string(src)); err != nil {
		return nil, err
	}
	return compile(p.cats, p.vendors), nil
}

type ruleParser struct {
	name    string
	cats    []CategoryInfo
	vendors []*Vendor

	cur     *Vendor // the open vendor block, if any
	curLine int
	hasCat  bool
	hasName bool
	discard bool // the open block's vendor line was wrong: read it, keep nothing
	// blockErr: a line of the open block was wrong; its end checks nothing
	// more (a bad host line would also read as "no host").
	blockErr bool
	// braceNext: the last line was a vendor line without its "{", which
	// may stand on the next line: that block is read and dropped too.
	braceNext bool
}

// maxParseErrors bounds the errors one file reports: past it, the file is
// likely not a rules file at all.
const maxParseErrors = 50

type token struct {
	text   string
	quoted bool
}

func (p *ruleParser) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, args...))
}

// parse reads the whole file and reports every error in it, one per line,
// not just the first: an operator fixes them in one go.
func (p *ruleParser) parse(src string) error {
	var errs []error
	for n := 1; src != "" && len(errs) < maxParseErrors; n++ {
		line := src
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = ""
		}
		toks, err := tokenize(line)
		if err == nil && len(toks) == 0 {
			continue
		}
		if err != nil {
			err = p.errf(n, "%v", err)
		} else {
			err = p.statement(n, toks)
		}
		if err != nil {
			errs = append(errs, err)
			p.blockErr = p.blockErr || p.cur != nil && p.curLine != n
		}
	}
	if p.cur != nil && !p.discard {
		errs = append(errs, p.errf(p.curLine, "unterminated vendor block %q", p.cur.ID))
	}
	return errors.Join(errs...)
}

// tokenize splits one line into tokens. '{' and '}' outside quotes are tokens
// of their own.
func tokenize(line string) ([]token, error) {
	var toks []token
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '#':
			return toks, nil
		case c == '{' || c == '}':
			toks = append(toks, token{text: line[i : i+1]})
			i++
		case c == '"':
			var b strings.Builder
			i++
			for {
				if i >= len(line) {
					return nil, fmt.Errorf("unterminated string")
				}
				c := line[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					if i+1 >= len(line) || line[i+1] != '"' && line[i+1] != '\\' {
						return nil, fmt.Errorf(`invalid escape in string (only \" and \\)`)
					}
					c = line[i+1]
					i++
				}
				b.WriteByte(c)
				i++
			}
			toks = append(toks, token{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t\r\f\v#{}\"", rune(line[j])) {
				j++
			}
			toks = append(toks, token{text: line[i:j]})
			i = j
		}
	}
	return toks, nil
}

func (p *ruleParser) statement(n int, toks []token) error {
	head := toks[0]
	args := toks[1:]
	if p.braceNext {
		p.braceNext = false
		if p.cur == nil && len(toks) == 1 && !head.quoted && head.text == "{" {
			p.cur, p.curLine, p.discard = &Vendor{}, n, true
			return nil
		}
	}
	if p.cur != nil && !head.quoted && head.text == "vendor" {
		// The open block lacks its "}": report it and read on from the
		// new one.
		var err error
		if !p.discard {
			err = p.errf(p.curLine, "unterminated vendor block %q", p.cur.ID)
		}
		p.cur, p.discard = nil, false
		return errors.Join(err, p.openVendor(n, args))
	}
	if !head.quoted && (head.text == "{" || head.text == "}") {
		return p.brace(n, head.text, args)
	}
	if p.cur == nil && !head.quoted && !slices.Contains(topDirectives, head.text) {
		// A misspelt "vendor x {" still opens a block: read it to its "}"
		// rather than report each of its lines too.
		if slices.ContainsFunc(args, func(t token) bool { return !t.quoted && t.text == "{" }) {
			p.cur, p.curLine, p.discard = &Vendor{}, n, true
		}
		return p.errf(n, "unknown directive %q%s", head.text, didYouMean(head.text, topDirectives))
	}
	for _, a := range args {
		if !a.quoted && (a.text == "{" || a.text == "}") && !(p.cur == nil && head.text == "vendor") {
			return p.errf(n, "unexpected %q", a.text)
		}
	}
	if head.quoted {
		return p.errf(n, "unknown directive %q", head.text)
	}
	if p.cur != nil {
		if p.discard {
			return nil
		}
		return p.vendorDirective(n, head.text, args)
	}
	switch head.text {
	case "category":
		return p.category(n, args)
	case "vendor":
		return p.openVendor(n, args)
	case "disable":
		return p.disable(n, args)
	}
	return p.errf(n, "unknown directive %q%s", head.text, didYouMean(head.text, topDirectives))
}

// brace reads a line that starts with "{" or "}".
func (p *ruleParser) brace(n int, b string, args []token) error {
	switch {
	case b == "{" && p.cur != nil:
		return p.errf(n, "duplicate {")
	case b == "}" && p.cur != nil && len(args) > 0:
		return p.errf(n, "unexpected %q after }", args[0].text)
	case b == "}" && p.cur != nil:
		return p.closeVendor(n)
	}
	return p.errf(n, "unexpected %q", b)
}

// The directives of a rules file, for "did you mean".
var (
	topDirectives    = []string{"category", "vendor", "disable"}
	vendorDirectives = []string{"name", "category", "host", "path", "script", "cookie", "param", "tcf", "retention"}
)

func (p *ruleParser) category(n int, args []token) error {
	if len(args) < 1 || len(args) > 2 {
		return p.errf(n, "category: expected an id and an optional name")
	}
	id := args[0].text
	if !validID(id, false) {
		return p.errf(n, "invalid category id %q (want [a-z][a-z0-9_-]*, at most %d bytes)", id, MaxIDLen)
	}
	name := id
	if len(args) == 2 {
		name = args[1].text
	}
	for i := range p.cats {
		if p.cats[i].ID == id {
			p.cats[i].Name = name
			return nil
		}
	}
	if len(p.cats) >= MaxCategories {
		return p.errf(n, "too many categories (at most %d)", MaxCategories)
	}
	p.cats = append(p.cats, CategoryInfo{ID: id, Name: name})
	return nil
}

func (p *ruleParser) openVendor(n int, args []token) error {
	err := p.vendorLine(n, args)
	if err == nil {
		p.cur = &Vendor{ID: args[0].text}
		p.curLine, p.hasCat, p.hasName, p.blockErr = n, false, false, false
	} else if slices.ContainsFunc(args, func(t token) bool { return !t.quoted && t.text == "{" }) {
		// The block still opens: read it to its "}" and keep nothing,
		// rather than report each of its lines as out of place.
		p.cur, p.curLine, p.discard = &Vendor{}, n, true
	} else {
		p.braceNext = true
	}
	return err
}

// vendorLine checks a "vendor <id> {" line.
func (p *ruleParser) vendorLine(n int, args []token) error {
	if len(args) != 2 || args[1].quoted || args[1].text != "{" {
		if len(args) > 2 && args[1].text == "{" && args[2].text == "{" {
			return p.errf(n, "duplicate {")
		}
		return p.errf(n, "vendor: expected an id and {")
	}
	id := args[0].text
	if args[0].quoted || !validID(id, true) {
		return p.errf(n, "invalid vendor id %q (want [a-z0-9][a-z0-9_-]*, at most %d bytes)", id, MaxIDLen)
	}
	if slices.Contains(reservedVendors, id) {
		return p.errf(n, "vendor id %q is reserved", id)
	}
	return nil
}

func (p *ruleParser) closeVendor(n int) error {
	v := p.cur
	p.cur = nil
	if p.discard || p.blockErr {
		p.discard, p.blockErr = false, false
		return nil
	}
	if !p.hasCat {
		return p.errf(p.curLine, "vendor %q: missing category", v.ID)
	}
	if len(v.Hosts) == 0 && len(v.Paths) == 0 && len(v.Scripts) == 0 && len(v.Cookies) == 0 {
		return p.errf(n, "vendor %q: no host, path, script or cookie", v.ID)
	}
	if v.Name == "" {
		v.Name = v.ID
	}
	// A redefinition replaces the old vendor wholly and counts as the newest,
	// so that an operator's vendor wins ties over a default one.
	p.vendors = slices.DeleteFunc(p.vendors, func(o *Vendor) bool { return o.ID == v.ID })
	p.vendors = append(p.vendors, v)
	return nil
}

func (p *ruleParser) disable(n int, args []token) error {
	if len(args) == 0 {
		return p.errf(n, "disable: expected vendor ids")
	}
	for _, a := range args {
		i := slices.IndexFunc(p.vendors, func(v *Vendor) bool { return v.ID == a.text })
		if i < 0 {
			ids := make([]string, len(p.vendors))
			for i, v := range p.vendors {
				ids[i] = v.ID
			}
			return p.errf(n, "disable: unknown vendor %q%s", a.text, didYouMean(a.text, ids))
		}
		p.vendors = slices.Delete(p.vendors, i, i+1)
	}
	return nil
}

func (p *ruleParser) vendorDirective(n int, dir string, args []token) error {
	v := p.cur
	switch dir {
	case "name":
		if len(args) != 1 {
			return p.errf(n, "name: expected one value")
		}
		if p.hasName {
			return p.errf(n, "duplicate name")
		}
		v.Name, p.hasName = args[0].text, true
	case "category":
		return p.vendorCategory(n, args)
	case "host", "path", "script", "cookie", "param":
		if len(args) == 0 {
			return p.errf(n, "%s: expected at least one value", dir)
		}
		for _, a := range args {
			if err := addValue(v, dir, a.text); err != nil {
				return p.errf(n, "%v", err)
			}
		}
	case "tcf":
		id, err := strconv.Atoi(args0(args))
		if len(args) != 1 || err != nil || id < 1 || id > 65535 {
			return p.errf(n, "tcf: expected one IAB TCF vendor id (1 to 65535)")
		}
		v.TCF = id
	case "retention":
		if len(args) != 1 || !validRetention(args[0].text) {
			return p.errf(n, "retention: expected one value like 90d, 4w or 2y")
		}
		v.Retention = args[0].text
	default:
		return p.errf(n, "unknown directive %q%s", dir, didYouMean(dir, vendorDirectives))
	}
	return nil
}

// vendorCategory reads the open vendor's category line.
func (p *ruleParser) vendorCategory(n int, args []token) error {
	if len(args) != 1 {
		return p.errf(n, "category: expected one value")
	}
	if p.hasCat {
		return p.errf(n, "duplicate category")
	}
	c := slices.IndexFunc(p.cats, func(c CategoryInfo) bool { return c.ID == args[0].text })
	if c < 0 {
		ids := make([]string, len(p.cats))
		for i, c := range p.cats {
			ids[i] = c.ID
		}
		return p.errf(n, "unknown category %q%s", args[0].text, didYouMean(args[0].text, ids))
	}
	p.cur.Category, p.hasCat = Category(c), true
	return nil
}

// addValue adds one value of a host, path, script, cookie or param line
// to v.
func addValue(v *Vendor, dir, s string) error {
	switch dir {
	case "host":
		h, err := normHostRule(s)
		if err != nil {
			return fmt.Errorf("invalid host %q: %v", s, err)
		}
		if !slices.Contains(v.Hosts, h) {
			v.Hosts = append(v.Hosts, h)
		}
	case "path":
		pr, err := normPathRule(s)
		if err != nil {
			return fmt.Errorf("invalid path %q: %v", s, err)
		}
		if !slices.Contains(v.Paths, pr) {
			v.Paths = append(v.Paths, pr)
		}
	case "script":
		if len(normalizeScript(nil, []byte(s))) < minSignature {
			return fmt.Errorf("script signature %q too short (at least %d bytes after normalisation)", s, minSignature)
		}
		v.Scripts = append(v.Scripts, s)
	case "cookie":
		if !validCookieName(s) {
			return fmt.Errorf("invalid cookie name %q", s)
		}
		v.Cookies = append(v.Cookies, s)
	case "param":
		if !validParamName(s) {
			return fmt.Errorf("invalid query parameter name %q", s)
		}
		v.Params = append(v.Params, s)
	}
	return nil
}

// args0 is the first argument's text, "" if none.
func args0(args []token) string {
	if len(args) == 0 {
		return ""
	}
	return args[0].text
}

// validParamName reports whether s can name a query parameter in a rule:
// printable ASCII without the bytes that delimit a query's pairs or would
// need escaping to be one, at most 64 bytes; a trailing '*' makes a prefix.
func validParamName(s string) bool {
	s = strings.TrimSuffix(s, "*")
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`&=#;+%*"`, c) >= 0 {
			return false
		}
	}
	return true
}

// minSignature keeps script signatures specific enough not to match ordinary code.
const minSignature = 4

// hostProfile maps hostnames as the WHATWG URL parser's domain-to-ASCII does
// (UTS #46 with CheckHyphens=false, nontransitional), so that a rule written
// as "ＥＸＡＭＰＬＥ.com" or "bücher.example" is stored as browsers will see it.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.StrictDomainName(true),
	idna.ValidateLabels(true),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.Transitional(false),
)

// normHostRule validates a host rule and returns it as stored: hostname
// lowercased, IDNA-to-ASCII, without a trailing dot; path lowercased.
func normHostRule(s string) (string, error) {
	host, path, _ := strings.Cut(s, "/")
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", fmt.Errorf("empty hostname")
	}
	a, err := hostProfile.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("not a hostname")
	}
	if b, err := hostProfile.ToASCII(a); err != nil || b != a {
		// Some mappings yield punycode that does not validate on its own;
		// such a name cannot be written in a URL either way.
		return "", fmt.Errorf("not a hostname")
	}
	labels := strings.Split(a, ".")
	for _, l := range labels {
		if l == "" {
			return "", fmt.Errorf("empty label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", fmt.Errorf("not a hostname")
			}
		}
	}
	if last := labels[len(labels)-1]; last[0] >= '0' && last[0] <= '9' {
		// WHATWG host parsing reads a host that ends in a number as IPv4 and
		// serialises it dotted-decimal: only that form can ever match.
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Is4() || ip.String() != a {
			return "", fmt.Errorf("numeric host must be a dotted-decimal IPv4 address")
		}
	}
	if path == "" && !strings.Contains(s, "/") {
		return a, nil
	}
	path = "/" + path
	for i := 0; i < len(path); i++ {
		if c := path[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return "", fmt.Errorf("path holds a space, control, '#' or non-ASCII byte")
		}
	}
	return a + strings.ToLower(path), nil
}

// validCookieName: an RFC 6265 token (RFC 9110 tchar), optionally ending in '*'.
func validCookieName(s string) bool {
	s = strings.TrimSuffix(s, "*")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}*", c) >= 0 {
			return false
		}
	}
	return true
}

func validRetention(s string) bool {
	if len(s) < 2 || strings.IndexByte("dwy", s[len(s)-1]) < 0 {
		return false
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 16)
	return err == nil && n > 0
}

// compile builds the lookup structures. cats and vendors are owned by the result.
func compile(cats []CategoryInfo, vendors []*Vendor) *Rules {
	r := &Rules{
		cats:      cats,
		catIdx:    make(map[string]Category, len(cats)),
		vendors:   vendors,
		vendorIdx: make(map[string]int, len(vendors)),
		hosts:     make(map[string][]hostRule),
	}
	for i, c := range cats {
		r.catIdx[c.ID] = Category(i)
	}
	pats := r.indexHosts()
	for i := len(vendors) - 1; i >= 0; i-- {
		for _, pr := range vendors[i].Paths {
			r.addPathRule(pr, int32(i))
		}
	}
	for _, rs := range r.paths {
		slices.SortStableFunc(rs, func(a, b pathRule) int { return len(b.path) + len(b.param) - len(a.path) - len(a.param) })
	}
	for i, v := range vendors {
		for _, s := range v.Scripts {
			pats = append(pats, string(normalizeScript(nil, []byte(s))))
			r.acVendor = append(r.acVendor, int32(i))
		}
	}
	r.ac = newMatcher(pats)
	r.indexCookies()
	// Every response names its visitor's set (metrics, access log): with
	// up to 8 categories, the names of all 256 sets are made once.
	if len(cats) <= 8 {
		r.setNames = make([]string, 1<<len(cats))
		for s := range r.setNames {
			r.setNames[s] = r.formatSet(Set(s))
		}
	}
	return r
}

// indexHosts indexes the vendors' host rules, most specific path first,
// and returns the hosts as the matcher's first patterns (r.acVendor -1:
// a host pattern).
func (r *Rules) indexHosts() (pats []string) {
	seenHost := map[string]bool{}
	// Later vendors first, so that among equally specific rules the later
	// definition (an operator's) wins; the sort below is stable.
	for i := len(r.vendors) - 1; i >= 0; i-- {
		v := r.vendors[i]
		r.vendorIdx[v.ID] = i
		for _, h := range v.Hosts {
			host, path, ok := strings.Cut(h, "/")
			if ok {
				path = "/" + path
			}
			r.hosts[host] = append(r.hosts[host], hostRule{path: path, vendor: int32(i)})
			if !seenHost[host] {
				seenHost[host] = true
				pats = append(pats, host)
				r.acVendor = append(r.acVendor, -1)
			}
		}
	}
	for host, rs := range r.hosts {
		slices.SortStableFunc(rs, func(a, b hostRule) int { return len(b.path) - len(a.path) })
		r.hosts[host] = rs
	}
	return pats
}

// Vendors lists the vendors, in definition order. The result is a copy.
func (r *Rules) Vendors() []*Vendor {
	out := make([]*Vendor, len(r.vendors))
	for i, v := range r.vendors {
		out[i] = v.clone()
	}
	return out
}

// VendorByID returns a copy of the vendor with that id.
func (r *Rules) VendorByID(id string) (*Vendor, bool) {
	i, ok := r.vendorIdx[id]
	if !ok {
		return nil, false
	}
	return r.vendors[i].clone(), true
}
