package e2e

// Tests of the suite's own machinery that need no browser: they run
// wherever go test runs.

import (
	"context"
	"crypto/tls"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestRecorderOnePort: plain HTTP and TLS arrive on the recorder's one port
// (as Chromium sends them under recorderRule) and each is recorded by the
// host it names, the Host of a request and the server name of a ClientHello.
// It needs no browser.
func TestRecorderOnePort(t *testing.T) {
	rec, err := startRecorder()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.close()
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, rec.addr())
	}

	plain := &http.Client{Transport: &http.Transport{DialContext: dial}}
	resp, err := plain.Get("http://Plain.Example:8888/pixel.gif")
	if err != nil {
		t.Fatalf("plain request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("plain request: status %d; want 204", resp.StatusCode)
	}

	c, err := dial(context.Background(), "tcp", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tls.Client(c, &tls.Config{ServerName: "secure.example."}).Handshake(); err == nil {
		t.Error("the recorder completed a TLS handshake; want it failed")
	}
	c.Close()

	got, err := rec.take()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"plain.example": "http", "secure.example": "tls"}
	if !maps.Equal(got, want) {
		t.Errorf("recorded %v; want %v", got, want)
	}
	if again, err := rec.take(); err != nil || len(again) != 0 {
		t.Errorf("second take: %v, %v; want nothing", again, err)
	}
}

// TestChromiumPathNamed: a browser named by CONSENTEDGE_CHROMIUM is the one
// used, and when it does not exist the suite has none (it skips, or fails
// under CONSENTEDGE_E2E=require) rather than running another.
func TestChromiumPathNamed(t *testing.T) {
	t.Setenv("CONSENTEDGE_CHROMIUM", "/nonexistent")
	if p := chromiumPath(); p != "" {
		t.Errorf("CONSENTEDGE_CHROMIUM=/nonexistent: chromiumPath() = %q; want none", p)
	}
	named := filepath.Join(t.TempDir(), "my-chromium")
	if err := os.WriteFile(named, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONSENTEDGE_CHROMIUM", named)
	if p := chromiumPath(); p != named {
		t.Errorf("CONSENTEDGE_CHROMIUM=%s: chromiumPath() = %q", named, p)
	}
}
