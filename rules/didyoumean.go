package rules

import (
	"fmt"
	"strings"
)

// didYouMean suggests the option closest to word, as ` (did you mean
// "host"?)`, when one is an edit away from it (two for words of five bytes
// or more), or, failing that, starts it or is started by it
// ("functionality" for "functional"); "" otherwise.
func didYouMean(word string, options []string) string {
	limit := 1
	if len(word) >= 5 {
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, o := range options {
		if d := editDistance(word, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	for _, o := range options {
		if best == "" && min(len(o), len(word)) >= 4 && (strings.HasPrefix(word, o) || strings.HasPrefix(o, word)) {
			best = o
		}
	}
	if best == "" || best == word {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of neighbours that turn a into b, in bytes (optimal string alignment: a
// swap, the commonest typo, is one edit).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
