package htmlfilter

// styleVerdict decides CSS text (a decoded style attribute): blocked when
// any URL it loads is.
func (f *Filter) styleVerdict(css []byte) Verdict {
	var v Verdict
	cssURLs(css, func(_, _ int, u []byte) bool {
		v = f.policy.URL(u)
		return !v.Block
	})
	return v
}

// keepStyle writes out a <style> element whose body is body (at d[from:]):
// every load of something blocked is replaced by an empty one (url(""),
// ""), which loads nothing (CSS Values 4 §4.5.2), the rest byte for byte.
// A stylesheet is not removed whole for one tracker pixel in it.
func (f *Filter) keepStyle(body []byte, from int) {
	cssURLs(body, func(s, e int, u []byte) bool {
		v := f.policy.URL(u)
		if !v.Block {
			return true
		}
		f.count(v)
		f.advance(from + s)
		f.insert([]byte(cssReplacement(body, s, e)))
		f.keep, f.hold = from+e, from+e
		return true
	})
	f.advance(f.pos)
}
