// Package e2e is consentedge's browser suite: headless Chromium, driven over
// the DevTools protocol, loads pages through consentedge, and a host recorder
// notes every third-party host the browser tries to reach. It is made of
// tests only (this file gives the package its name and its documentation):
//
//	go test ./e2e                                  # skips without Chromium, and says so
//	CONSENTEDGE_E2E=require go test ./e2e          # fails instead (CI)
//	go test ./e2e -run BrowserDemo -update-screenshots
//
// docs/testing.md, "Browser tests", says what each test proves.
package e2e
