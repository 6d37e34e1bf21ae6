package caddymodule

import (
	"testing"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestResponseCountsSum: counts added in different stripes come out
// summed, and the duration histogram reads as Prometheus's own would for
// the same observations, bound for bound.
func TestResponseCountsSum(t *testing.T) {
	c := newResponseCounts()
	want := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "want", Buckets: durationBounds[:]})
	durations := []time.Duration{
		0, time.Microsecond, 10 * time.Microsecond, 10*time.Microsecond + 1, 160 * time.Microsecond,
		3 * time.Millisecond, 655360 * time.Microsecond, time.Second, time.Minute,
	}
	var in, out int64
	for i, d := range durations {
		c.add(uint8(i*7), int64(1000*i), int64(900*i), d)
		want.Observe(d.Seconds())
		in, out = in+int64(1000*i), out+int64(900*i)
	}
	c.add(countStripes+3, 1, 2, time.Millisecond) // any index is some stripe
	want.Observe(time.Millisecond.Seconds())
	in, out = in+1, out+2

	got := map[string]*dto.Metric{}
	ch := make(chan prometheus.Metric, 8)
	c.Collect(ch)
	close(ch)
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		name := m.Desc().String()
		if len(d.GetLabel()) > 0 {
			name = d.GetLabel()[0].GetValue()
		}
		got[name] = &d
	}
	if len(got) != 4 {
		t.Fatalf("collected %d metrics, want 4: %v", len(got), got)
	}
	if v := got["in"].GetCounter().GetValue(); v != float64(in) {
		t.Errorf("bytes in = %v, want %d", v, in)
	}
	if v := got["out"].GetCounter().GetValue(); v != float64(out) {
		t.Errorf("bytes out = %v, want %d", v, out)
	}
	var hist, filtered *dto.Metric
	for _, m := range got {
		if m.GetHistogram() != nil {
			hist = m
		} else if m.GetCounter() != nil && len(m.GetLabel()) == 0 {
			filtered = m
		}
	}
	if v := filtered.GetCounter().GetValue(); v != float64(len(durations)+1) {
		t.Errorf("filtered = %v, want %d", v, len(durations)+1)
	}
	var w dto.Metric
	if err := want.Write(&w); err != nil {
		t.Fatal(err)
	}
	h, wh := hist.GetHistogram(), w.GetHistogram()
	if h.GetSampleCount() != wh.GetSampleCount() || h.GetSampleSum() != wh.GetSampleSum() {
		t.Errorf("histogram count, sum = %d, %v; want %d, %v", h.GetSampleCount(), h.GetSampleSum(), wh.GetSampleCount(), wh.GetSampleSum())
	}
	if len(h.GetBucket()) != len(wh.GetBucket()) {
		t.Fatalf("%d buckets, want %d", len(h.GetBucket()), len(wh.GetBucket()))
	}
	for i, b := range h.GetBucket() {
		wb := wh.GetBucket()[i]
		if b.GetUpperBound() != wb.GetUpperBound() || b.GetCumulativeCount() != wb.GetCumulativeCount() {
			t.Errorf("bucket %d: le %v count %d; want le %v count %d", i, b.GetUpperBound(), b.GetCumulativeCount(), wb.GetUpperBound(), wb.GetCumulativeCount())
		}
	}
}

// TestCountStripeSize: a stripe fills two cache lines exactly, and the
// stripes start at a line's start, so that no two share a line.
func TestCountStripeSize(t *testing.T) {
	if n := unsafe.Sizeof(countStripe{}); n != 128 {
		t.Fatalf("a stripe is %d bytes, want 128", n)
	}
	c := newResponseCounts()
	if n := unsafe.Sizeof(*c.stripes); n != 4096 {
		t.Fatalf("the stripes are %d bytes, want 4096", n)
	}
	if a := uintptr(unsafe.Pointer(c.stripes)); a%64 != 0 {
		t.Fatalf("the stripes start at %#x, within a cache line", a)
	}
}
