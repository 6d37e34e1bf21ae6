package htmlfilter

// styleVerdict decides CSS text: blocked when any URL it loads is.
func (f *Filter) styleVerdict(css []byte) Verdict {
	return Verdict{} // TODO(core): CSS url() once cssURLs lands
}
