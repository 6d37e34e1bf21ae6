package rules

import (
	"fmt"
	"iter"
)

// VendorSet is a set of vendors of one rule set.
type VendorSet []uint64

func (vs VendorSet) has(v int32) bool {
	i := int(v) / 64
	return i < len(vs) && vs[i]&(1<<(uint(v)%64)) != 0
}

// VendorSet returns the set of the vendors with these ids; unknown ids are
// reported.
func (r *Rules) VendorSet(ids ...string) (VendorSet, error) {
	vs := make(VendorSet, (len(r.vendors)+63)/64)
	for _, id := range ids {
		v, ok := r.vendorIdx[id]
		if !ok {
			return nil, fmt.Errorf("unknown vendor %q", id)
		}
		vs[v/64] |= 1 << (uint(v) % 64)
	}
	return vs, nil
}

// With returns vs with vendor v of a rule set of n vendors added, copying: a VendorSet may be shared
// (the source cache keeps readings).
func (vs VendorSet) With(v int32, n int) VendorSet {
	out := make(VendorSet, max(len(vs), (n+63)/64))
	copy(out, vs)
	out[v/64] |= 1 << (uint(v) % 64)
	return out
}

// Union returns the vendors of a or b; it returns one of them unchanged
// when the other is empty.
func (vs VendorSet) Union(o VendorSet) VendorSet {
	switch {
	case o.Empty():
		return vs
	case vs.Empty():
		return o
	}
	out := make(VendorSet, max(len(vs), len(o)))
	copy(out, vs)
	for i, w := range o {
		out[i] |= w
	}
	return out
}

// Minus returns the vendors of vs not in o.
func (vs VendorSet) Minus(o VendorSet) VendorSet {
	if vs.Empty() || o.Empty() {
		return vs
	}
	out := make(VendorSet, len(vs))
	for i, w := range vs {
		if i < len(o) {
			w &^= o[i]
		}
		out[i] = w
	}
	return out
}

// Empty reports whether vs holds no vendor.
func (vs VendorSet) Empty() bool {
	for _, w := range vs {
		if w != 0 {
			return false
		}
	}
	return true
}

// Key is vs as bytes, for a map key: equal sets give equal keys, and the
// empty set "".
func (vs VendorSet) Key() string {
	if vs.Empty() {
		return ""
	}
	return string(appendVendors(nil, vs))
}

// VendorIDs lists the ids of the vendors in vs, in definition order.
func (r *Rules) VendorIDs(vs VendorSet) []string {
	var out []string
	for i, v := range r.vendors {
		if vs.has(int32(i)) {
			out = append(out, v.ID)
		}
	}
	return out
}

// Has reports whether vendor index v is in vs.
func (vs VendorSet) Has(v int32) bool { return vs.has(v) }

// VendorIndex is the index of the vendor id names, for VendorSet.Has.
func (r *Rules) VendorIndex(id string) (int32, bool) {
	v, ok := r.vendorIdx[id]
	return int32(v), ok
}

// VendorCount is the number of vendors of the rule set; vendor indexes run
// from 0 to VendorCount()-1.
func (r *Rules) VendorCount() int { return len(r.vendors) }

// VendorCategory is the category of the vendor of index v.
func (r *Rules) VendorCategory(v int32) Category { return r.vendors[v].Category }

// VendorsIn is the set of the vendors whose category is in cats.
func (r *Rules) VendorsIn(cats Set) VendorSet {
	vs := make(VendorSet, (len(r.vendors)+63)/64)
	for i, v := range r.vendors {
		if cats.Has(v.Category) {
			vs[i/64] |= 1 << (uint(i) % 64)
		}
	}
	return vs
}

// TCFVendors yields the index and IAB TCF vendor id of every vendor that
// has one, but the strictly necessary ones (not the visitor's to refuse).
func (r *Rules) TCFVendors() iter.Seq2[int32, int] {
	return func(yield func(int32, int) bool) {
		for i, v := range r.vendors {
			if v.TCF != 0 && v.Category != Necessary && !yield(int32(i), v.TCF) {
				return
			}
		}
	}
}
