package consent

import (
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// Dialects: how `mode defer` marks a blocked element so that the site's own
// consent tool revives it on consent, without a reload.

// DeferTools lists the tools `mode defer <tool>` can write for.
var DeferTools = []string{SourceCookieConsent, SourceKlaro, SourceCookiebot, SourceOneTrust, SourceCookieYes}

// toolLabels are each tool's names for our categories, the reverse of the
// reading defaults.
var toolLabels = map[string]map[rules.Category]string{
	SourceCookiebot: {rules.Functional: "preferences", rules.Analytics: "statistics", rules.Advertising: "marketing"},
	SourceOneTrust:  {rules.Necessary: "C0001", rules.Analytics: "C0002", rules.Functional: "C0003", rules.Advertising: "C0004"},
	SourceCookieYes: {rules.Necessary: "necessary", rules.Functional: "functional", rules.Analytics: "analytics", rules.Advertising: "advertisement"},
}

// categoryLabel is tool's name for our category cat: the operator's `map`
// entries first (the alphabetically first name mapped to the category, so
// that the choice is stable), then the tool's defaults, then our id.
func (r *Reader) categoryLabel(tool string, m *NameMap, cat string) string {
	c, ok := r.rules.CategoryByID(cat)
	if !ok {
		return cat
	}
	if m != nil {
		var names []string
		for n, oc := range m.operator {
			if oc == c {
				names = append(names, m.written[n])
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			return names[0]
		}
	}
	if l, ok := toolLabels[tool][c]; ok {
		return l
	}
	return cat
}

// DeferDialect returns the dialect of tool ("" is cookieconsent), labelling
// categories with categoryLabel. Klaro names services, not categories: a
// deferred element carries data-name="<vendor id>" (or the name a `map`
// line gives the vendor), so Klaro services are named after consentedge's
// vendor ids (which is also how the Klaro reader resolves them).
func (r *Reader) DeferDialect(tool string, m *NameMap) (*htmlfilter.Dialect, error) {
	label := func(cat string) string { return r.categoryLabel(tool, m, cat) }
	switch tool {
	case SourceCookieConsent, "":
		// cookieconsent v3 revives script[data-category] only (iframes need
		// its separate iframemanager): other elements are stripped, since
		// deferred they would stay inert after consent.
		return &htmlfilter.Dialect{Attrs: func(v htmlfilter.Verdict, script, _ bool) string {
			return textPlain(script) + attr("data-category", label(v.Category))
		}, Revives: htmlfilter.ReviveScripts}, nil
	case SourceKlaro:
		// <script type="text/plain" data-type="text/javascript"
		// data-name="<service>" data-src="…">; Klaro restores the type
		// from data-type.
		return &htmlfilter.Dialect{Attrs: func(v htmlfilter.Verdict, script, typed bool) string {
			s := textPlain(script)
			if script && !typed {
				s += ` data-type="text/javascript"`
			}
			return s + attr("data-name", m.serviceName(v.Vendor))
		}, Revives: htmlfilter.ReviveScripts | htmlfilter.ReviveFrames | htmlfilter.ReviveMedia}, nil
	case SourceCookiebot:
		// Scripts: type="text/plain" data-cookieconsent="statistics";
		// iframes and other elements: data-cookieblock-src. An element of
		// several categories lists them all, comma-separated, and Cookiebot
		// runs it once every one is accepted
		// (https://support.cookiebot.com/hc/en-us/articles/360021304979-Blocking-cookies).
		return &htmlfilter.Dialect{Attrs: func(v htmlfilter.Verdict, script, _ bool) string {
			labels := label(v.Category)
			if v.Mixed {
				labels = joinLabels(v.All, label)
			}
			return textPlain(script) + attr("data-cookieconsent", labels)
		}, SrcPrefix: "data-cookieblock-", Revives: htmlfilter.ReviveScripts | htmlfilter.ReviveFrames | htmlfilter.ReviveMedia,
			AllOf: true}, nil
	case SourceOneTrust:
		// type="text/plain" class="optanon-category-C0002". The class
		// goes first, so it wins over the element's own (a deferred
		// element loses its classes until revived).
		return &htmlfilter.Dialect{Attrs: func(v htmlfilter.Verdict, script, _ bool) string {
			return textPlain(script) + attr("class", "optanon-category-"+label(v.Category))
		}, Revives: htmlfilter.ReviveScripts | htmlfilter.ReviveFrames}, nil
	case SourceCookieYes:
		return &htmlfilter.Dialect{Attrs: func(v htmlfilter.Verdict, script, _ bool) string {
			return textPlain(script) + attr("data-cookieyes", "cookieyes-"+label(v.Category))
		}, Revives: htmlfilter.ReviveScripts}, nil
	}
	return nil, fmt.Errorf("no defer dialect for %q (one of %s)", tool, strings.Join(DeferTools, ", "))
}

// attr is one attribute of a deferred element, its value escaped.
func attr(name, value string) string {
	return " " + name + `="` + html.EscapeString(value) + `"`
}

// textPlain is the type that keeps a deferred script from running.
func textPlain(script bool) string {
	if script {
		return ` type="text/plain"`
	}
	return ""
}

// joinLabels is the tool's labels of the categories all ("a.b"), as
// Cookiebot lists them: comma-separated.
func joinLabels(all string, label func(string) string) string {
	var out []string
	for c := range strings.SplitSeq(all, ".") {
		out = append(out, label(c))
	}
	return strings.Join(out, ", ")
}
