package main

import (
	"slices"
	"testing"
)

// Rounds take the targets as given, then backwards, so that each is first
// as often as last.
func TestRoundOrder(t *testing.T) {
	for round, want := range [][]int{{0, 1, 2}, {2, 1, 0}, {0, 1, 2}, {2, 1, 0}} {
		if got := roundOrder(round, 3); !slices.Equal(got, want) {
			t.Errorf("round %d: %v, want %v", round, got, want)
		}
	}
}
