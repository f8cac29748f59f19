package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTelemetry serves with the stdout span exporter: /metrics counts the
// requests, and the spans reach the output once serve has shut down.
func TestTelemetry(t *testing.T) {
	cfg, _ := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "")+"telemetry:\n  exporter: stdout\n")
	g := startGateway(t, cfg, nil)
	if status, doc := call(t, "GET", g.base+"/targets/alpha/scim/v2/Users", "tok", ""); status != http.StatusOK {
		t.Fatalf("GET Users = %d %v", status, doc)
	}
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `operation="users.list"`) ||
		!strings.Contains(string(b), `target="alpha"`) {
		t.Errorf("GET /metrics = %d, want the request counted:\n%s", resp.StatusCode, b)
	}
	g.cancel()
	if err := g.wait(t); err != nil {
		t.Fatal(err)
	}
	out := g.out.String()
	if !strings.Contains(out, `"Name":"GET /targets/{target}/scim/v2/Users"`) || !strings.Contains(out, `"traces":"stdout"`) {
		t.Errorf("the output lacks the request's span:\n%s", out)
	}
}

// TestMetricsOff: with telemetry.metrics false there is no /metrics.
func TestMetricsOff(t *testing.T) {
	cfg, _ := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "")+"telemetry:\n  metrics: false\n")
	g := startGateway(t, cfg, nil)
	if status, _ := call(t, "GET", g.base+"/metrics", "", ""); status != http.StatusNotFound {
		t.Errorf("GET /metrics = %d, want 404 with metrics off", status)
	}
}
