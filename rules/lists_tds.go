package rules

import (
	"cmp"
	"strings"
)

// tdsCategories maps the categories of DuckDuckGo's Tracker Radar
// (github.com/duckduckgo/tracker-radar, docs/CATEGORIES.md), which the
// Tracker Data Set's trackers carry, onto ours. notTracker: not imported.
var tdsCategories = map[string]Category{
	"Ad Motivated Tracking":           Advertising,
	"Advertising":                     Advertising,
	"Ad Fraud":                        Advertising, // ad networks' own fraud checks
	"Action Pixels":                   Advertising,
	"Social Network":                  Advertising, // as OneTrust's social media group (C0005)
	"Social - Share":                  Advertising,
	"Malware":                         Advertising,
	"Obscure Ownership":               Advertising,
	"Unknown High Risk Behavior":      Advertising,
	"Analytics":                       Analytics,
	"Audience Measurement":            Analytics,
	"Third-Party Analytics Marketing": Analytics,
	"Session Replay":                  Analytics,
	"Embedded Content":                Functional,
	"Social - Comment":                Functional,
	"Support Chat Widget":             Functional,
	"CDN":                             notTracker,
	"Content Delivery":                notTracker,
	"Badge":                           notTracker,
	"Federated Login":                 notTracker,
	"SSO":                             notTracker,
	"Online Payment":                  notTracker,
	"Non-Tracking":                    notTracker,
	"Consent Management Platform":     notTracker,
	"Fraud Prevention":                notTracker,
	"Tag Manager":                     notTracker, // what it loads is matched by its own hosts
}

// tdsTracker is one entry of a Tracker Data Set's "trackers" object, keyed
// by domain (github.com/duckduckgo/tracker-blocklists, web/README.md).
type tdsTracker struct {
	Domain string `json:"domain"`
	Owner  struct {
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	} `json:"owner"`
	Categories []string `json:"categories"`
	Default    string   `json:"default"`
	Rules      []struct {
		Rule   string `json:"rule"`
		Action string `json:"action"`
	} `json:"rules"`
}

// readTDS reads a Tracker Data Set: one vendor per entity (owner) and
// category. A tracker whose default is "block" is blocked whole, as
// DuckDuckGo's apps do (its rules only refine that: "ignore" rules let
// some paths through, which without consent we do not); one whose default
// is "ignore" is blocked only where a rule matches whose action is not
// "ignore" (none is blocking; others, such as click-to-load ones, block
// too), which we follow where the rule's regex is a literal host/path.
func readTDS(src jsonValue, st *ListStats) ([]listEntry, error) {
	var trackers jsonValue
	err := members(src, "tds", func(key string, v jsonValue) error {
		if key == "trackers" {
			trackers = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if trackers.raw == nil {
		return nil, errorAt(0, `no "trackers" object: not a Tracker Data Set`)
	}
	var out []listEntry
	err = members(trackers, "trackers", func(key string, v jsonValue) error {
		var t tdsTracker
		if err := decodeAt(v, "trackers."+key, &t); err != nil {
			return err
		}
		domain := t.Domain
		if domain == "" {
			domain = key
		}
		var hosts []string
		switch t.Default {
		case "block":
			hosts = []string{domain}
		case "ignore":
			for _, r := range t.Rules {
				if h, ok := literalRule(r.Rule, domain); ok && r.Action != "ignore" {
					hosts = append(hosts, h)
				}
			}
		default:
			return errorAt(v.at, "trackers.%s.default: want \"block\" or \"ignore\", got %q", key, t.Default)
		}
		if len(hosts) == 0 {
			st.Ignored++
			return nil
		}
		name := cmp.Or(t.Owner.DisplayName, t.Owner.Name, domain)
		out = append(out, listEntry{org: name, name: name, cat: tdsCategory(t.Categories), hosts: hosts})
		return nil
	})
	return out, err
}

// tdsCategory is ours for a tracker's categories: the most restrictive of
// those that name a tracker; notTracker when all are benign; unknownCategory
// when none is known.
func tdsCategory(names []string) Category {
	cat, found, benign := Necessary, false, false
	for _, n := range names {
		c, ok := tdsCategories[n]
		switch {
		case !ok:
		case c == notTracker:
			benign = true
		case !found || c > cat:
			cat, found = c, true
		}
	}
	switch {
	case found:
		return cat
	case benign:
		return notTracker
	}
	return unknownCategory
}

// literalRule reads a tds rule, a regex matched anywhere in the URL, as a
// host rule when it matches a fixed text (punctuation escaped, no
// operators) that starts with domain or a subdomain of it.
func literalRule(re, domain string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch {
		case c == '\\':
			if i+1 == len(re) || isAlnum(re[i+1]) { // \d, \w, \b: no text
				return "", false
			}
			i++
			b.WriteByte(re[i])
		case strings.IndexByte(".*+?()[]{}|^$", c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	lit := b.String()
	host, _, hasPath := strings.Cut(lit, "/")
	host, domain = strings.ToLower(host), strings.ToLower(domain)
	if host != domain && !strings.HasSuffix(host, "."+domain) {
		return "", false
	}
	if hasPath {
		lit += "*" // text anywhere: "/pixel" takes "/pixel.gif" (pathform.go)
	}
	return lit, true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
