package e2e

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// noteSkipped tells whoever runs the tests that the browser suite did not
// run, and how to run it.
func noteSkipped(reason string) {
	w := noteStream()
	fmt.Fprintf(w, "NOTE: the browser suite (./e2e) was skipped: %s.\n"+
		"      Run it with Chromium and npm installed: npm ci --prefix testdata/browser && CONSENTEDGE_E2E=require go test ./e2e\n", reason)
	if c, ok := w.(io.Closer); ok && w != os.Stderr {
		c.Close()
	}
}

// noteStream is where a note for the person running the tests goes. Run by
// `go test ./...` (package list mode), a passing package's output is shown
// only with -v ("go help test": the go command then prints only the final
// 'ok' summary line), so when the go command is this process's parent and
// its standard error is a terminal or a pipe, the note goes there (Linux's
// /proc/<pid>/fd/2). Not into a file: the go command's own writes, at its
// own offset, would overwrite it. Otherwise to this process's standard
// error, which the go command shows with -v (in order there) or on a
// failure.
func noteStream() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	parent := "/proc/" + strconv.Itoa(os.Getppid())
	comm, err := os.ReadFile(parent + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return os.Stderr
	}
	fi, err := os.Stat(parent + "/fd/2")
	if err != nil || fi.Mode()&(os.ModeCharDevice|os.ModeNamedPipe) == 0 {
		return os.Stderr
	}
	f, err := os.OpenFile(parent+"/fd/2", os.O_WRONLY, 0)
	if err != nil {
		return os.Stderr
	}
	return f
}
