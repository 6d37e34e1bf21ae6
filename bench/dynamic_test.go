package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestSplitPage(t *testing.T) {
	p := splitPage([]byte(`<meta content="{{csrf}}">{{x}}<script nonce="{{nonce}}"></script>{{cart}}{{`))
	v := pageValues{slotCSRF: []byte("T"), slotNonce: []byte("N"), slotCart: []byte("3")}
	got := string(rendered(p, v))
	want := `<meta content="T">{{x}}<script nonce="N"></script>3{{`
	if got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
	if p.length(v) != len(want) {
		t.Errorf("length %d, want %d", p.length(v), len(want))
	}
	if len(p.slots) != 3 || len(p.pieces) != 4 {
		t.Errorf("%d slots, %d pieces; want 3 and 4", len(p.slots), len(p.pieces))
	}
}

// The dynamic origin's responses differ from each other, and each is the
// page's bytes with its own values in the slots.
func TestDynamicOrigin(t *testing.T) {
	pages := testPages(t)
	srv := httptest.NewServer(dynamicOrigin(pages))
	defer srv.Close()
	csrf := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	nonce := regexp.MustCompile(`<script nonce="([^"]+)"`)
	cart := regexp.MustCompile(`<span class="cart-count">([0-9]+)</span>`)
	for _, name := range measuredPages {
		var bodies [][]byte
		for range 2 {
			resp, err := http.Get(srv.URL + "/" + name)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d, %v", name, resp.StatusCode, err)
			}
			if etag := resp.Header.Get("ETag"); etag != "" {
				t.Errorf("%s: ETag %q on a page that changes every time", name, etag)
			}
			if resp.ContentLength != int64(len(body)) {
				t.Errorf("%s: Content-Length %d, body %d bytes", name, resp.ContentLength, len(body))
			}
			bodies = append(bodies, body)
			var v pageValues
			for s, re := range map[slot]*regexp.Regexp{slotCSRF: csrf, slotNonce: nonce, slotCart: cart} {
				m := re.FindSubmatch(body)
				if m == nil {
					t.Fatalf("%s: no %s", name, slotMarkers[s])
				}
				v[s] = m[1]
			}
			if !bytes.Equal(body, rendered(pages[name], v)) {
				t.Errorf("%s: the response is not the page with its values", name)
			}
		}
		if bytes.Equal(bodies[0], bodies[1]) {
			t.Errorf("%s: two responses are the same", name)
		}
		if bytes.Equal(bodies[0], rendered(pages[name], staticValues())) {
			t.Errorf("%s: the dynamic response is the static page", name)
		}
	}
}
