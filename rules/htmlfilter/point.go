package htmlfilter

// Point is the state of a filter between two bytes of a document where
// that state is small and whole: the scanner in text, nothing held,
// gathered or being removed, no foreign content, guarded element or select
// open. What the filter writes from such a place on depends only on the
// Point and the bytes that follow (and on its policy's own state), so a
// cache may skip the bytes between two Points of a document it has seen.
// Points compare with ==.
type Point struct {
	headPrelude bool // HeadPrelude is still to be written
	bodyPrelude bool // BodyPrelude is still to be written
	sticky      bool // foreign content can no longer be ruled out
	baseSeen    bool // the first <base href> has been seen
	last        byte // the last byte written
}

// At reports the filter's Point after the bytes written so far, and false
// where its state is more than a Point. XML documents have none: their
// names are read by a state of their own.
func (f *Filter) At() (Point, bool) {
	if f.err != nil || f.pass || f.check || f.opt.XML || f.st != sData ||
		len(f.buf) > 0 || len(f.out) > 0 || f.skip != kOther || f.foreign > 0 ||
		f.ipDepth > 0 || f.nguards > 0 || f.inSelect || f.inHead {
		return Point{}, false
	}
	return Point{
		headPrelude: f.prelude != nil, bodyPrelude: f.body != nil,
		sticky: f.sticky, baseSeen: f.baseSeen, last: f.last,
	}, true
}

// Resume puts f, which is at a Point of its document (At reports true), in
// the state of p, a Point of the same document further on: as a fresh
// filter would be there, with what it removed so far kept.
func (f *Filter) Resume(p Point) {
	removed := f.removed
	f.Reset(f.w, f.policy, f.opt)
	f.removed = removed
	if !p.headPrelude {
		f.prelude = nil
	}
	if !p.bodyPrelude {
		f.body = nil
	}
	f.sticky, f.baseSeen, f.last = p.sticky, p.baseSeen, p.last
}

// CountRemoved adds n removals of vendor's category to Removed, as if the
// filter had removed them: a cache that replays part of a document counts
// what that part removed.
func (f *Filter) CountRemoved(vendor, category string, n int) {
	f.countRemoved(vendor, category, n)
}

// countRemoved adds n to the count of vendor's category and returns its
// index in removed.
func (f *Filter) countRemoved(vendor, category string, n int) int {
	for i := range f.removed {
		if f.removed[i].Vendor == vendor && f.removed[i].Category == category {
			f.removed[i].Count += n
			return i
		}
	}
	f.removed = append(f.removed, Removal{Vendor: vendor, Category: category, Count: n})
	return len(f.removed) - 1
}

// Journal makes f append to *j, for each element it removes from now on,
// the index in Removed of its count: the order of removals, which a cache
// needs to count part of a document as the filter would. Reset ends it.
func (f *Filter) Journal(j *[]int32) { f.journal = j }
