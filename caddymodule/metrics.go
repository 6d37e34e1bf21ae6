package caddymodule

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// metrics are the handler's Prometheus metrics, in the registry of the Caddy
// config that loaded it (served by the admin endpoint's /metrics and the
// metrics handler). Aggregates only: no label names a visitor, a path or a
// host, so the series stay few and say nothing about anyone.
type metrics struct {
	// counts: filtered responses, bytes and durations, in stripes.
	counts  *responseCounts
	removed *prometheus.CounterVec // vendor, category
	states  *prometheus.CounterVec // granted
	vendors *prometheus.CounterVec // vendor, choice
	csp     *prometheus.CounterVec // vendor
	// removedOf are removed's series of the rules' own vendors, made at
	// load and read only after: a response's removals are counted without
	// the vector's hashing of their labels.
	removedOf map[string]vendorSeries
	// statesOf are states' series by granted set, made when a set is
	// first seen (a scrape shows only the sets that occurred), for rule
	// sets whose sets FormatSet has names for.
	statesOf []atomic.Pointer[prometheus.Counter]
}

// vendorSeries is a vendor's series of removed, and the category it is for.
type vendorSeries struct {
	category string
	c        prometheus.Counter
}

const metricsNamespace = "consentedge"

// processMetrics are the collectors of the process. Caddy makes a new
// registry for each config load; registering the same collectors in each,
// as Caddy does with its own admin and config metrics, keeps the counters
// counting across a reload, where a dashboard would read a drop to zero as
// a restart.
var processMetrics = newCollectors()

// newMetrics registers the process's metrics in reg, or finds them there:
// every consent handler of a config (one per site or route) shares them. A
// nil reg (a context made without one) yields nil, and a nil *metrics
// records nothing.
func newMetrics(reg *prometheus.Registry, rs *rules.Rules) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := *processMetrics
	var err error
	if m.counts, err = register(reg, m.counts); err != nil {
		return nil, err
	}
	if m.removed, err = register(reg, m.removed); err != nil {
		return nil, err
	}
	if m.states, err = register(reg, m.states); err != nil {
		return nil, err
	}
	if m.vendors, err = register(reg, m.vendors); err != nil {
		return nil, err
	}
	if m.csp, err = register(reg, m.csp); err != nil {
		return nil, err
	}
	// Known label values start at 0, so that rate() and "never seen" both
	// read right from the first scrape. A tracker list's thousands of
	// vendors get their series when first seen instead: a scrape carries
	// only what the site's pages hold.
	m.removedOf = make(map[string]vendorSeries)
	for _, v := range rs.Vendors() {
		if v.Imported {
			continue
		}
		category := rs.CategoryID(v.Category)
		m.removedOf[v.ID] = vendorSeries{category, m.removed.WithLabelValues(v.ID, category)}
		m.csp.WithLabelValues(v.ID)
	}
	m.csp.WithLabelValues(cspUnknownVendor)
	m.statesOf = make([]atomic.Pointer[prometheus.Counter], rs.NamedSets())
	return &m, nil
}

// newCollectors makes the consent metrics, registered nowhere yet.
func newCollectors() *metrics {
	return &metrics{
		counts: newResponseCounts(),
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace,
			Name:      "elements_removed_total",
			Help:      "Elements removed or deferred by the consent filter, per vendor and category.",
		}, []string{"vendor", "category"}),
		states: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace,
			Name:      "consent_states_total",
			Help:      "Filtered responses per consent state: the granted categories joined by '.'.",
		}, []string{"granted"}),
		vendors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace,
			Name:      "vendor_choices_total",
			Help:      "Filtered responses for visitors whose consent tools named a vendor, per vendor and choice (granted or refused).",
		}, []string{"vendor", "choice"}),
		csp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metricsNamespace,
			Name:      "csp_reports_total",
			Help:      "Content-Security-Policy violation reports received at the csp_report endpoint, per vendor (\"unknown\": no rule names the blocked URL).",
		}, []string{"vendor"}),
	}
}

// register adds c to reg, or returns the collector of the same description
// that another handler of the config registered first.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("registering consent metrics: %w", err)
}

// observeFiltered records one filtered response; the counts go to the
// response writer's stripe (nextStripe).
func (m *metrics) observeFiltered(stripe uint8, rs *rules.Rules, granted rules.Set, removed []htmlfilter.Removal, in, out int64, spent time.Duration) {
	if m == nil {
		return
	}
	m.counts.add(stripe, in, out, spent)
	m.state(rs, granted).Inc()
	for _, r := range removed {
		if s, ok := m.removedOf[r.Vendor]; ok && s.category == r.Category {
			s.c.Add(float64(r.Count))
		} else {
			m.removed.WithLabelValues(r.Vendor, r.Category).Add(float64(r.Count))
		}
	}
}

// state is the series of states for the granted set.
func (m *metrics) state(rs *rules.Rules, granted rules.Set) prometheus.Counter {
	if uint64(granted) >= uint64(len(m.statesOf)) {
		return m.states.WithLabelValues(rs.FormatSet(granted))
	}
	p := &m.statesOf[granted]
	if c := p.Load(); c != nil {
		return *c
	}
	c := m.states.WithLabelValues(rs.FormatSet(granted))
	p.Store(&c) // a race stores the same series twice
	return c
}

// observeVendors records the vendors a filtered response's visitor granted
// or refused by name.
func (m *metrics) observeVendors(rs *rules.Rules, c consent.VendorChoices) {
	if m == nil || c.Refused == nil && c.Granted == nil {
		return
	}
	for _, id := range rs.VendorIDs(c.Refused) {
		m.vendors.WithLabelValues(id, "refused").Inc()
	}
	for _, id := range rs.VendorIDs(c.Granted) {
		m.vendors.WithLabelValues(id, "granted").Inc()
	}
}

// cspUnknownVendor is the vendor label of a CSP report whose blocked URL
// no rule names (serveCSPReport's).
const cspUnknownVendor = "unknown"

// cspReport counts one CSP violation report. vendor is a vendor id of the
// rules or "unknown", never a URL: the label values stay bounded whatever
// reports anyone sends.
func (m *metrics) cspReport(vendor string) {
	if m == nil {
		return
	}
	m.csp.WithLabelValues(vendor).Inc()
}

// filterClock measures the time a response spends in the decoder and the
// filter, less the time the filter's output spends being written to the
// client: a slow client's TCP backpressure is not filtering time.
type filterClock struct {
	work, wait time.Duration
	in         bool // inside the filter: downstream writes count as wait
}

// instant is a reading of the filter clock: the time since clockBase. A
// response reads it a few times per write; time.Since reads the monotonic
// clock alone, where time.Now also reads the wall clock.
type instant time.Duration

var clockBase = time.Now()

func readClock() instant { return instant(time.Since(clockBase)) }

// start marks the entry into the filter.
func (c *filterClock) start() instant {
	c.in = true
	return readClock()
}

// stop marks the exit from the filter entered at t.
func (c *filterClock) stop(t instant) {
	c.in = false
	c.work += time.Duration(readClock() - t)
}

// now is the clock's reading, for a downstream write about to begin.
func (c *filterClock) now() instant { return readClock() }

// waited records a downstream write begun at t, if it happened inside the
// filter, and returns how long it took.
func (c *filterClock) waited(t instant) time.Duration {
	d := time.Duration(readClock() - t)
	if c.in {
		c.wait += d
	}
	return d
}

// spent is the filtering time.
func (c *filterClock) spent() time.Duration {
	return max(c.work-c.wait, 0)
}
