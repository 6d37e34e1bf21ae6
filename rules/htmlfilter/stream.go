package htmlfilter

// Long inline scripts. A script is judged whole when it fits in MaxBuffer.
// One that outgrows it (a framework's hydration payload of a few hundred KB)
// is streamed instead, window by window: each window of its text, with an
// overlap into the next so that no signature or hostname is cut in two, is
// judged as script text, and its bytes leave once it is found clean. At the
// first window that loads something denied the text is cut there: the
// browser receives the start tag, the clean text before the window and the
// end tag, so it runs at most text in which nothing denied was found (cut
// mid-statement, usually nothing at all). Memory stays within MaxBuffer:
// a window and its overlap. Windows are fixed offsets of the text, so the
// output does not depend on how the document arrives.

// maxWindowOverlap is how far a window reads into the next: more than any
// signature or hostname, written with escapes, is long.
const maxWindowOverlap = 4 << 10

// windowSizes returns the bytes a window emits and how far it reads beyond.
func (f *Filter) windowSizes() (step, overlap int) {
	return max(f.opt.MaxBuffer/2, 1), min(maxWindowOverlap, f.opt.MaxBuffer/4)
}

// canStream reports whether the held element is a script that may be
// streamed window by window: executable text read one way only (in text
// that could be markup, or when its start tag alone decides nothing, it
// stays held and an oversized one goes whole).
func (f *Filter) canStream() bool {
	return (f.st == sRaw || f.st == sRawEnd) && f.raw == kScript && f.rawHold && !f.rawDrop &&
		f.rawExec && !f.rawDual && !f.rawData && !f.rawParked && !f.guarded() && !f.check && !f.opt.XML
}

// streamWindows judges every window whose bytes have all arrived. The first
// call starts the stream: the start tag's own watched attributes (an onload
// handler) are decided before any of it leaves.
func (f *Filter) streamWindows() {
	if !f.rawWin {
		f.rawWin, f.winCut, f.winSent = true, false, false
		f.winAt = f.tok + f.rawTag
		f.dropWatched(kScript)
	}
	avail := f.pos
	if f.st == sRawEnd {
		avail = f.rawEnd
	}
	step, overlap := f.windowSizes()
	for !f.winCut && f.winAt+step+overlap <= avail {
		f.judgeWindow(f.winAt+step+overlap, step)
	}
	if f.winCut {
		f.dropTo(avail)
	}
}

// finishWindows judges the rest of a streamed script once its end tag has
// been read, and keeps the end tag: a cut script must still end where the
// page says it does. A script cut before any of it left goes whole.
func (f *Filter) finishWindows() {
	f.rawWin = false
	step, overlap := f.windowSizes()
	for !f.winCut && f.winAt < f.rawEnd {
		if end := f.winAt + step + overlap; end <= f.rawEnd {
			f.judgeWindow(end, step)
		} else {
			f.judgeWindow(f.rawEnd, f.rawEnd-f.winAt)
		}
	}
	switch {
	case f.winCut && !f.winSent:
		f.dropTo(f.pos) // nothing of it left: the element goes whole
	case f.winCut:
		f.dropTo(f.rawEnd)
		f.advance(f.pos)
	default:
		f.advance(f.pos)
	}
}

// judgeWindow judges d[winAt:end] and lets its first n bytes go if nothing
// in it is denied. A window that would let go of a "<!--" is a cut too: in
// the script escape states the end tag written after a cut might not end
// the script (HTML §13.2.5.20-31), so no text from there on is streamed.
func (f *Filter) judgeWindow(end, n int) {
	if f.rawEsc && f.rawEscAt < f.winAt+n {
		f.count(Verdict{Block: true, Vendor: VendorOversize})
		f.winCut = true
		return
	}
	if v := f.policy.Script(f.d[f.winAt:end]); v.Block {
		f.count(v)
		f.winCut = true
		return
	}
	f.advance(f.winAt + n)
	f.winAt += n
	f.winSent = true
}
