package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// provisionIn provisions a handler in ctx, as Caddy does for each consent
// directive of a config.
func provisionIn(t *testing.T, ctx caddy.Context) *Handler {
	t.Helper()
	h := new(Handler)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	return h
}

// metricValue reads one series of the registry: the counter's value, or
// the histogram's sample count; -1 when the series is missing.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			return metricOf(m)
		}
	}
	return -1
}

func metricOf(m *dto.Metric) float64 {
	if h := m.GetHistogram(); h != nil {
		return float64(h.GetSampleCount())
	}
	return m.GetCounter().GetValue()
}

// freshMetrics gives the test process metrics of its own, counting from
// zero: other tests' handlers count in the process's.
func freshMetrics(t *testing.T) {
	old := processMetrics
	processMetrics = newCollectors()
	t.Cleanup(func() { processMetrics = old })
}

func TestMetricsCountFilteredResponses(t *testing.T) {
	freshMetrics(t)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h := provisionIn(t, ctx)
	// A second consent handler of the same config (another site) shares
	// the metrics instead of panicking on a duplicate registration.
	h2 := provisionIn(t, ctx)
	if h.metrics == nil || h2.metrics == nil || h.metrics.counts != h2.metrics.counts {
		t.Fatalf("handlers of one config do not share metrics: %p %p", h.metrics, h2.metrics)
	}
	reg := ctx.GetMetricsRegistry()

	// Before any request every vendor's series reads 0, CSP reports too
	// (nothing feeds them yet).
	for _, tt := range []struct {
		name   string
		labels map[string]string
	}{
		{"consentedge_csp_reports_total", map[string]string{"vendor": "facebook"}},
		{"consentedge_elements_removed_total", map[string]string{"vendor": "facebook", "category": "advertising"}},
		{"consentedge_responses_filtered_total", nil},
		{"consentedge_filtered_bytes_total", map[string]string{"direction": "in"}},
	} {
		if v := metricValue(t, reg, tt.name, tt.labels); v != 0 {
			t.Errorf("%s%v = %v before any request, want 0", tt.name, tt.labels, v)
		}
	}

	for _, cookie := range []string{"", "consent=analytics", ""} {
		req := httptest.NewRequest("GET", "http://shop.example/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		handler := h
		if cookie != "" {
			handler = h2
		}
		rec, err := serve(handler, req, htmlOrigin(trackedDoc))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rec.Body.String(), pixelHost) {
			t.Fatal("tracker kept")
		}
	}
	// A response that is not HTML is no filtered response.
	if _, err := serve(h, httptest.NewRequest("GET", "http://shop.example/a.js", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/javascript")
		_, err := w.Write([]byte("x"))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	out := float64(len(trackedDoc) - len(pixelTag))
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"consentedge_responses_filtered_total", nil, 3},
		{"consentedge_elements_removed_total", map[string]string{"vendor": "facebook", "category": "advertising"}, 3},
		{"consentedge_consent_states_total", map[string]string{"granted": "necessary"}, 2},
		{"consentedge_consent_states_total", map[string]string{"granted": "necessary.analytics"}, 1},
		{"consentedge_filtered_bytes_total", map[string]string{"direction": "in"}, 3 * float64(len(trackedDoc))},
		{"consentedge_filtered_bytes_total", map[string]string{"direction": "out"}, 3 * out},
		{"consentedge_filter_duration_seconds", nil, 3},
		{"consentedge_csp_reports_total", map[string]string{"vendor": "facebook"}, 0},
	} {
		if v := metricValue(t, reg, tt.name, tt.labels); v != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, v, tt.want)
		}
	}

	// CSP reports reach the counter through the handler's hook.
	h.cspCount("facebook")
	h2.cspCount(cspUnknownVendor)
	if v := metricValue(t, reg, "consentedge_csp_reports_total", map[string]string{"vendor": "facebook"}); v != 1 {
		t.Errorf("csp_reports_total{facebook} = %v, want 1", v)
	}
	if v := metricValue(t, reg, "consentedge_csp_reports_total", map[string]string{"vendor": "unknown"}); v != 1 {
		t.Errorf("csp_reports_total{unknown} = %v, want 1", v)
	}

	// A reload is a new context with a new registry: the handlers of the
	// new config register the same collectors there, without a duplicate
	// registration.
	ctx2, cancel2 := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel2()
	h3 := provisionIn(t, ctx2)
	// The counters go on from where the old config left them: a drop to
	// zero reads as a restart on a dashboard.
	if v := metricValue(t, ctx2.GetMetricsRegistry(), "consentedge_responses_filtered_total", nil); v != 3 {
		t.Errorf("the new config starts at %v filtered responses, want the old config's 3", v)
	}
	if _, err := serve(h3, httptest.NewRequest("GET", "http://shop.example/", nil), htmlOrigin(trackedDoc)); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, ctx2.GetMetricsRegistry(), "consentedge_responses_filtered_total", nil); v != 4 {
		t.Errorf("after a response of the new config: %v filtered responses, want 4", v)
	}
}

func TestMetricsNilRegistry(t *testing.T) {
	m, err := newMetrics(nil, nil)
	if m != nil || err != nil {
		t.Fatalf("newMetrics(nil) = %v, %v", m, err)
	}
	// A nil *metrics records nothing, without panicking.
	m.observeFiltered(0, rules.Default(), 0, nil, 1, 1, time.Millisecond)
	m.cspReport("facebook")
}

// TestMetricsStates: a granted set is counted under its name, whether its
// series was made on first use or, for a set beyond FormatSet's table
// (bits no category declares), looked up by name each time.
func TestMetricsStates(t *testing.T) {
	reg := prometheus.NewRegistry()
	rs := rules.Default()
	m, err := newMetrics(reg, rs)
	if err != nil {
		t.Fatal(err)
	}
	necessary := rules.Set(0).With(rules.Necessary)
	beyond := necessary | 1<<(rs.NamedSets()+3)
	// The process's counters count across configs and tests: the change.
	labels := map[string]string{"granted": "necessary"}
	before := max(metricValue(t, reg, "consentedge_consent_states_total", labels), 0) // -1: no series yet
	for _, s := range []rules.Set{necessary, necessary, beyond} {
		m.observeFiltered(0, rs, s, nil, 1, 1, time.Millisecond)
	}
	if v := metricValue(t, reg, "consentedge_consent_states_total", labels) - before; v != 3 {
		t.Errorf("states{granted=necessary} grew by %v, want 3", v)
	}
}

func TestMetricsRegisterConflict(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	// Something else holds the name with another shape: an error, not a
	// panic or a silently unregistered metric.
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "consentedge_responses_filtered_total", Help: "x"}))
	h, _ := newTestHandler(t, nil)
	if _, err := newMetrics(reg, h.rules); err == nil || !strings.Contains(err.Error(), "registering consent metrics") {
		t.Errorf("err = %v", err)
	}
}

// TestFilterClock: time inside the filter counts, except the time its
// output spends in downstream writes; downstream writes outside the filter
// (a flush between reads) count for nothing.
func TestFilterClock(t *testing.T) {
	var c filterClock
	c.waited(c.now() - instant(time.Hour)) // outside: ignored
	if c.wait != 0 {
		t.Fatalf("wait outside the filter counted: %v", c.wait)
	}
	start := c.start()
	c.waited(c.now() - instant(time.Second))
	c.stop(start - instant(3*time.Second))
	if c.wait < time.Second || c.work < 3*time.Second {
		t.Fatalf("work %v, wait %v", c.work, c.wait)
	}
	if got := c.spent(); got != c.work-c.wait {
		t.Errorf("spent %v, want %v", got, c.work-c.wait)
	}
	c.wait = c.work + time.Second
	if got := c.spent(); got != 0 {
		t.Errorf("spent %v with more wait than work", got)
	}
}

// TestMetricsImportedVendors: a tracker list's vendors get no series until
// a page holds one of them (thousands of zero series per scrape otherwise),
// while the rule set's own start at zero.
func TestMetricsImportedVendors(t *testing.T) {
	freshMetrics(t)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h := &Handler{Lists: []rules.ListFile{{Format: rules.ListTDS, Path: "../rules/testdata/lists/tds.json"}}}
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	reg := ctx.GetMetricsRegistry()
	removed := func(vendor, category string) float64 {
		return metricValue(t, reg, "consentedge_elements_removed_total", map[string]string{"vendor": vendor, "category": category})
	}
	if v := removed("facebook", "advertising"); v != 0 {
		t.Errorf("a default vendor's series = %v before any request, want 0", v)
	}
	if v := removed("tds-adnet", "advertising"); v != -1 {
		t.Errorf("an imported vendor's series = %v before any request, want none", v)
	}
	doc := `<!DOCTYPE html><html><head><script src="https://cdn.adnet.example/tag.js"></script></head><body></body></html>`
	if _, err := serve(h, httptest.NewRequest("GET", "http://shop.example/", nil), htmlOrigin(doc)); err != nil {
		t.Fatal(err)
	}
	if v := removed("tds-adnet", "advertising"); v != 1 {
		t.Errorf("the imported vendor's series = %v after one page, want 1", v)
	}
}

// BenchmarkObserveFiltered: what counting one filtered response costs in
// the metrics, for a page with three of the rules' vendors removed.
func BenchmarkObserveFiltered(b *testing.B) {
	m, err := newMetrics(prometheus.NewRegistry(), rules.Default())
	if err != nil {
		b.Fatal(err)
	}
	removed := []htmlfilter.Removal{
		{Vendor: "google-analytics", Category: "analytics", Count: 1},
		{Vendor: "hotjar", Category: "analytics", Count: 1},
		{Vendor: "facebook", Category: "advertising", Count: 2},
	}
	rs := rules.Default()
	b.ReportAllocs()
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			m.observeFiltered(0, rs, rules.Set(0).With(rules.Necessary), removed, 5000, 4000, time.Millisecond)
		}
	})
	// Every core counting, each from a writer of its own, as under load.
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			stripe := nextStripe()
			for pb.Next() {
				m.observeFiltered(stripe, rs, rules.Set(0).With(rules.Necessary), removed, 5000, 4000, time.Millisecond)
			}
		})
	})
}
