package caddymodule

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// configurationDoc is the reference page of every option.
const configurationDoc = "../docs/configuration.md"

// TestConfigurationNamesEveryOption: every Caddyfile option the parsers
// accept and every JSON field of the handler and the log encoder is
// documented in docs/configuration.md, so that an option added to the code
// cannot stay unknown to operators.
func TestConfigurationNamesEveryOption(t *testing.T) {
	doc, err := os.ReadFile(configurationDoc)
	if err != nil {
		t.Fatal(err)
	}
	for file, recv := range map[string]string{"caddyfile.go": "Handler", "logencoder.go": "PrivacyEncoder"} {
		opts := caddyfileOptions(t, file, recv)
		if recv == "Handler" {
			opts = slices.Sorted(maps.Keys(consentOptions)) // the parser's own table
		}
		if len(opts) < 6 {
			t.Fatalf("%s: found only %q in (*%s).UnmarshalCaddyfile's switch", file, opts, recv)
		}
		for _, opt := range opts {
			syntax := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(opt) + `(\s|$)`)
			if !syntax.Match(doc) || !bytes.Contains(doc, []byte("`"+opt+" ")) && !bytes.Contains(doc, []byte("`"+opt+"`")) {
				t.Errorf("%s: Caddyfile option %q is not in the syntax block and a table of docs/configuration.md", file, opt)
			}
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[Handler](), reflect.TypeFor[PrivacyEncoder]()} {
		for _, field := range jsonFields(typ, map[reflect.Type]bool{}) {
			if !bytes.Contains(doc, []byte("`"+field+"`")) && !bytes.Contains(doc, []byte(`"`+field+`"`)) {
				t.Errorf("%s: JSON field %q is not named in docs/configuration.md", typ.Name(), field)
			}
		}
	}
}

// caddyfileOptions reads the option names of the string cases of the
// switch in (*recv).UnmarshalCaddyfile of file: the parser's own list, so
// that the test needs no copy of it.
func caddyfileOptions(t *testing.T, file, recv string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var opts []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "UnmarshalCaddyfile" || fn.Recv == nil {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if ident, isIdent := star.X.(*ast.Ident); !ok || !isIdent || ident.Name != recv {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					opts = append(opts, s)
				}
			}
			return true
		})
	}
	return opts
}

// jsonFields names the JSON fields of typ and of the structs of this
// module it holds, through pointers, slices and maps.
func jsonFields(typ reflect.Type, seen map[reflect.Type]bool) []string {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || seen[typ] || !strings.HasPrefix(typ.PkgPath(), "github.com/consentedge/consentedge") {
		return nil
	}
	seen[typ] = true
	var names []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		names = append(names, jsonFields(f.Type, seen)...)
	}
	return names
}

// markdownLink is an inline link or image: its target, up to a space or
// the closing parenthesis.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinksResolve: every relative link of the README and docs/*.md
// names a file of the repository, and a #fragment a heading of it.
func TestDocsLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../README.md")
	for _, page := range pages {
		for _, line := range proseLines(t, page) {
			for _, m := range markdownLink.FindAllStringSubmatch(line, -1) {
				if problem := linkProblem(t, page, m[1]); problem != "" {
					t.Errorf("%s: link %s: %s", page, m[1], problem)
				}
			}
		}
	}
}

// linkProblem says what is wrong with the relative link target of page, or
// "" when it resolves. Absolute URLs are not fetched.
func linkProblem(t *testing.T, page, target string) string {
	t.Helper()
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	path, fragment, _ := strings.Cut(target, "#")
	file := page
	if path != "" {
		file = filepath.Join(filepath.Dir(page), path)
	}
	if _, err := os.Stat(file); err != nil {
		return "no such file"
	}
	if fragment == "" {
		return ""
	}
	if !strings.HasSuffix(file, ".md") {
		return "a fragment of a file that is not markdown"
	}
	for _, a := range headingAnchors(t, file) {
		if a == fragment {
			return ""
		}
	}
	return "no heading with that anchor"
}

// proseLines reads the lines of a markdown file outside fenced code
// blocks, where a "# comment" is no heading and "](x)" no link.
func proseLines(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	fenced := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// headingAnchors gives the anchors GitHub makes for the headings of a
// markdown file: lower case, punctuation dropped, spaces as hyphens, and
// "-1", "-2" after repeats.
func headingAnchors(t *testing.T, file string) []string {
	t.Helper()
	var anchors []string
	count := map[string]int{}
	for _, line := range proseLines(t, file) {
		text, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		a := b.String()
		if n := count[a]; n > 0 {
			anchors = append(anchors, a+"-"+strconv.Itoa(n))
		} else {
			anchors = append(anchors, a)
		}
		count[a]++
	}
	return anchors
}
