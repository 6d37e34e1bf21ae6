package e2e

// The consentedge command, as an operator runs it: the README demo and the
// Caddyfile sites of the tool tests run in a process of their own (the
// in-process Caddy of the suite is a singleton with its own config).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// command returns the consentedge binary, built from cmd/consentedge on first
// use and shared by every test of the run (a link costs more than most of the
// tests that use it). A built binary rather than `go run`: go run leaves its
// child running when it is killed.
func (e *browserEnv) command(t *testing.T) string {
	t.Helper()
	e.binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "consentedge-e2e-bin-")
		if err != nil {
			e.binErr = err
			return
		}
		e.binDir = dir
		bin := filepath.Join(dir, "consentedge")
		build := exec.Command("go", "build", "-o", bin, "./cmd/consentedge")
		build.Dir = e.root
		if out, err := build.CombinedOutput(); err != nil {
			e.binErr = fmt.Errorf("building cmd/consentedge: %v\n%s", err, out)
			return
		}
		e.bin = bin
	})
	if e.binErr != nil {
		t.Fatal(e.binErr)
	}
	return e.bin
}

// startServing starts cmd (a consentedge run) and waits until Caddy serves
// its configuration; when the test ends it stops the process: SIGINT, which
// Caddy takes gracefully, then its whole group by force after ten seconds.
// It returns what the process wrote, for failure messages.
func startServing(t *testing.T, cmd *exec.Cmd, wait time.Duration) (*watchWriter, error) {
	logs := &watchWriter{want: []byte("serving initial configuration"), found: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return logs, fmt.Errorf("starting it: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	select {
	case <-logs.found:
		return logs, nil
	case <-exited:
		return logs, errors.New("it exited")
	case <-time.After(wait):
		return logs, fmt.Errorf("it did not start within %v", wait)
	}
}

// watchWriter keeps what a process writes and closes found when want shows up.
type watchWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  []byte
	found chan struct{}
	seen  bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 1<<20 {
		w.buf.Write(p)
	}
	if !w.seen && bytes.Contains(w.buf.Bytes(), w.want) {
		w.seen = true
		close(w.found)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
