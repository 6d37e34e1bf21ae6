//go:build race

package rules

// raceEnabled: the race detector is on, and sync.Pool drops what it is
// given at random, so allocation counts are not the program's.
const raceEnabled = true
