package rules

// ghosteryCategories maps the categories of Ghostery's TrackerDB
// (github.com/ghostery/trackerdb, docs/categories.md; the keys of the
// export's "categories" object) onto ours. notTracker: not imported.
var ghosteryCategories = map[string]Category{
	"advertising":          Advertising,
	"pornvertising":        Advertising, // "Adult Advertising"
	"site_analytics":       Analytics,
	"social_media":         Advertising, // as OneTrust's social media group (C0005)
	"customer_interaction": Functional,  // chat widgets, customer support
	"audio_video_player":   Functional,
	"misc":                 unknownCategory, // "different types of unclassified trackers"
	"consent":              notTracker,      // consent managers: they ask for consent
	"hosting":              notTracker,
	"utilities":            notTracker, // "may be critical to website functionality"
	"essential":            notTracker, // the same category, as docs/categories.md names it
	"extensions":           notTracker, // browser extensions: no page loads them
}

// ghosteryPattern is one entry of the export's "patterns" object
// (dist/trackerdb.json of the npm package @ghostery/trackerdb): a tracker
// of one organization and one category.
type ghosteryPattern struct {
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Domains  []string `json:"domains"`
}

// readGhostery reads a TrackerDB export: one vendor per pattern (the unit
// that carries a category: an organization such as Google has patterns of
// several), its domains as hosts. Filters are adblock syntax with options
// our host rules cannot express: a pattern with filters only is Ignored.
func readGhostery(src jsonValue, st *ListStats) ([]listEntry, error) {
	var patterns jsonValue
	err := members(src, "trackerdb", func(key string, v jsonValue) error {
		if key == "patterns" {
			patterns = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if patterns.raw == nil {
		return nil, errorAt(0, `no "patterns" object: not a Ghostery TrackerDB export`)
	}
	var out []listEntry
	err = members(patterns, "patterns", func(key string, v jsonValue) error {
		var p ghosteryPattern
		if err := decodeAt(v, "patterns."+key, &p); err != nil {
			return err
		}
		if len(p.Domains) == 0 {
			st.Ignored++
			return nil
		}
		cat, ok := ghosteryCategories[p.Category]
		if !ok {
			cat = unknownCategory
		}
		name := p.Name
		if name == "" {
			name = key
		}
		out = append(out, listEntry{org: key, name: name, cat: cat, hosts: p.Domains})
		return nil
	})
	return out, err
}
