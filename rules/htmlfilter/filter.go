package htmlfilter

import "io"

// Filter is the streaming filter. Not safe for concurrent use.
type Filter struct {
	w       io.Writer
	policy  Policy
	opt     Options
	removed []Removal
}

// New returns a Filter writing to w.
func New(w io.Writer, p Policy, o Options) *Filter {
	f := &Filter{}
	f.Reset(w, p, o)
	return f
}

// Reset prepares f for a new document, keeping its buffers.
func (f *Filter) Reset(w io.Writer, p Policy, o Options) {
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = DefaultMaxBuffer
	}
	f.w, f.policy, f.opt = w, p, o
	f.removed = f.removed[:0]
}

// Write filters b. Decided output is written on before Write returns.
func (f *Filter) Write(b []byte) (int, error) {
	// TODO(core): scanner
	return f.w.Write(b)
}

// Close ends the document: what is still held is decided and written.
func (f *Filter) Close() error { return nil }

// Removed reports the blocked elements per vendor, in first-seen order.
func (f *Filter) Removed() []Removal { return f.removed }
