package rules

// disconnectCategories maps the categories of Disconnect's services.json
// (github.com/disconnectme/disconnect-tracking-protection; how Firefox
// reads them: mozilla-services/shavar-prod-lists README and Firefox's
// toolkit/components/antitracking/docs/tracking-lists) onto ours.
// notTracker: not imported.
var disconnectCategories = map[string]Category{
	"Advertising": Advertising,
	"Analytics":   Analytics,
	"Social":      Advertising, // as OneTrust's social media group (C0005)
	"Content":     Functional,  // embedded content that tracks (Firefox's strict level)
	// Facebook, Google and Twitter domains that Firefox remaps into Social,
	// Advertising or Analytics by a mapping file of its own.
	"Disconnect":             Advertising,
	"Cryptomining":           Advertising, // no consent makes it benign: the most asked
	"FingerprintingInvasive": Advertising,
	"FingerprintingGeneral":  notTracker, // may serve fraud prevention; Firefox does not block it
	"Email":                  notTracker, // trackers in e-mail, not in pages
	"EmailAggressive":        notTracker,
	"Anti-fraud":             notTracker,
	"ConsentManagers":        notTracker,
}

// readDisconnect reads services.json: "categories" maps a category to a
// list of one-member objects, {"<org>": {"<homepage url>": ["<domain>",
// ...]}}, where a member whose value is a string is a flag ("performance":
// "true", "dnt": "eff"), not a resource list. One vendor per org and
// category.
func readDisconnect(src jsonValue, _ *ListStats) ([]listEntry, error) {
	var categories jsonValue
	err := members(src, "services", func(key string, v jsonValue) error {
		if key == "categories" {
			categories = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if categories.raw == nil {
		return nil, errorAt(0, `no "categories" object: not a Disconnect services.json`)
	}
	var out []listEntry
	err = members(categories, "categories", func(catName string, list jsonValue) error {
		cat, ok := disconnectCategories[catName]
		if !ok {
			cat = unknownCategory
		}
		return elements(list, "categories."+catName, func(item jsonValue) error {
			return members(item, "categories."+catName+"[]", func(org string, v jsonValue) error {
				hosts, err := disconnectHosts(v, "categories."+catName+"[]."+org)
				out = append(out, listEntry{org: org, name: org, cat: cat, hosts: hosts})
				return err
			})
		})
	})
	return out, err
}

// disconnectHosts reads an org's resource lists, skipping its flags.
func disconnectHosts(org jsonValue, what string) ([]string, error) {
	var hosts []string
	err := members(org, what, func(key string, v jsonValue) error {
		if len(v.raw) > 0 && v.raw[0] == '"' {
			return nil // a flag
		}
		var domains []string
		if err := decodeAt(v, what+"."+key, &domains); err != nil {
			return err
		}
		hosts = append(hosts, domains...)
		return nil
	})
	return hosts, err
}
