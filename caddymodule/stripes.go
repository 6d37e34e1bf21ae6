package caddymodule

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// responseCounts are the counts every filtered response adds to: filtered
// responses, bytes in and out, and the filter duration's histogram. A
// Prometheus counter is one word that both cores write, and passing its
// cache line between them cost more than the rest of the metrics. So the
// counts are kept in stripes, each two lines of its own that one pooled
// response writer adds to (nextStripe), and a scrape sums them.
type responseCounts struct {
	stripes                          *[countStripes]countStripe
	filtered, bytes, durationSeconds *prometheus.Desc
}

// countStripes: enough that the pooled writers of a few cores seldom
// share one.
const countStripes = 32

// countStripe is one stripe of responseCounts, 128 bytes: in an array of
// 32, a 4 KiB object of its own, which Go's allocator aligns to 4 KiB, no
// two stripes share a cache line.
type countStripe struct {
	filtered, bytesIn, bytesOut atomic.Uint64
	durationNanos               atomic.Uint64
	// buckets counts durations by the first bound at or above them; the
	// last, those above every bound.
	buckets [len(durationBounds) + 1]atomic.Uint64
	_       [128 - 8*(4+len(durationBounds)+1)]byte
}

// durationBounds are the duration histogram's upper bounds, in seconds:
// 10µs to 0.65s; a 100 KB page takes ~100µs at 1 GB/s.
var durationBounds = [...]float64{10e-6, 40e-6, 160e-6, 640e-6, 2.56e-3, 10.24e-3, 40.96e-3, 163.84e-3, 655.36e-3}

func newResponseCounts() *responseCounts {
	return &responseCounts{
		stripes: new([countStripes]countStripe),
		filtered: prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "responses_filtered_total"),
			"HTML responses the consent filter read to the end.", nil, nil),
		bytes: prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "filtered_bytes_total"),
			"Bytes of filtered HTML: in, decoded from upstream; out, written to the client.", []string{"direction"}, nil),
		durationSeconds: prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "filter_duration_seconds"),
			"Time spent decoding and filtering one response, without the time spent writing to the client.", nil, nil),
	}
}

// stripeCounter deals out stripes to new response writers in turn.
var stripeCounter atomic.Uint32

// nextStripe is a new response writer's stripe.
func nextStripe() uint8 { return uint8(stripeCounter.Add(1) % countStripes) }

// add counts one filtered response in stripe i.
func (c *responseCounts) add(i uint8, in, out int64, spent time.Duration) {
	s := &c.stripes[i%countStripes]
	s.filtered.Add(1)
	s.bytesIn.Add(uint64(in))
	s.bytesOut.Add(uint64(out))
	s.durationNanos.Add(uint64(spent))
	b, seconds := 0, spent.Seconds()
	for b < len(durationBounds) && seconds > durationBounds[b] {
		b++
	}
	s.buckets[b].Add(1)
}

func (c *responseCounts) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.filtered
	ch <- c.bytes
	ch <- c.durationSeconds
}

// Collect sums the stripes. The histogram's count is its buckets' sum, so
// that the two agree however responses are counted meanwhile.
func (c *responseCounts) Collect(ch chan<- prometheus.Metric) {
	var filtered, in, out, nanos uint64
	var buckets [len(durationBounds) + 1]uint64
	for i := range c.stripes {
		s := &c.stripes[i]
		filtered += s.filtered.Load()
		in += s.bytesIn.Load()
		out += s.bytesOut.Load()
		nanos += s.durationNanos.Load()
		for b := range buckets {
			buckets[b] += s.buckets[b].Load()
		}
	}
	cumulative := make(map[float64]uint64, len(durationBounds))
	var count uint64
	for b, bound := range durationBounds {
		count += buckets[b]
		cumulative[bound] = count
	}
	count += buckets[len(durationBounds)]
	ch <- prometheus.MustNewConstMetric(c.filtered, prometheus.CounterValue, float64(filtered))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(in), "in")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(out), "out")
	ch <- prometheus.MustNewConstHistogram(c.durationSeconds, count, time.Duration(nanos).Seconds(), cumulative)
}
