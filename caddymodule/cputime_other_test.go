//go:build !unix

package caddymodule

// cpuTime is not measured here: BenchmarkDynamic's cpu-ns/op reads 0.
func cpuTime() int64 { return 0 }
