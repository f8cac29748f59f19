package upstream_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/upstream"
	"github.com/scim-gateway/scim-gateway/internal/config"
)

const credentials = `
credentials:
  tokens:
    - name: admin
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      targets: ["*"]
`

// TestYAML loads a target's settings as the gateway does (strict decoding,
// secrets from the environment, validation) and opens it.
func TestYAML(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/scim+json")
		_, _ = w.Write([]byte(`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}`))
	}))
	t.Cleanup(srv.Close)
	doc := `
targets:
  - name: up
    adapter: upstream
    settings:
      baseURL: ` + srv.URL + `/scim/v2
      tokenEnv: UP_TOKEN
      client:
        timeout: 5s
        maxAttempts: 2
      capabilities:
        filter: any
        maxPageSize: 50
        resourceTypes: [User, Group]
` + credentials
	cfg, err := config.Parse([]byte(doc), t.TempDir(), func(k string) string {
		if k == "UP_TOKEN" {
			return "yaml-token"
		}
		return ""
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if _, ok := cfg.Targets[0].Settings.(*upstream.Config); !ok {
		t.Fatalf("Settings is %T, want *upstream.Config", cfg.Targets[0].Settings)
	}
	a, err := cfg.Targets[0].Settings.Open(t.Context())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	caps := a.Capabilities()
	if caps.MaxPageSize != 50 || len(caps.ResourceTypes) != 2 || !caps.Filter["User"].Any {
		t.Errorf("Capabilities() = %+v, want the declared block", caps)
	}
	if _, err := a.List(t.Context(), caps.ResourceTypes[0], adapters.Query{StartIndex: 1, Count: 10}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := auth.Load(); got != "Bearer yaml-token" {
		t.Errorf("Authorization = %q, want the token from UP_TOKEN", got)
	}
}

// TestYAMLProblems checks that problems are reported at their keys, all at
// once, and that a secret that cannot be read is one of them.
func TestYAMLProblems(t *testing.T) {
	tests := []struct {
		name, settings string
		want           []string
	}{
		{"unknown key", "baseURL: https://h/scim\n      tokenEnv: T\n      token: inline", []string{
			"targets[0].settings.token", // strict decoding: no inline secrets
		}},
		{"unset secret", "baseURL: https://h/scim\n      tokenEnv: UNSET", []string{
			"targets[0].settings.tokenEnv: environment variable UNSET is unset or empty",
		}},
		{"every problem", "baseURL: ftp://h\n      client:\n        maxAttempts: 99\n      capabilities:\n        filter: maybe", []string{
			"targets[0].settings.baseURL: want an http or https URL",
			"targets[0].settings.tokenEnv, tokenFile or oauth: required",
			"targets[0].settings.client.maxAttempts",
			"targets[0].settings.capabilities.filter: want any or none",
			"targets[0].settings.capabilities.resourceTypes: required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "targets:\n  - name: up\n    adapter: upstream\n    settings:\n      " + tt.settings + "\n" + credentials
			_, err := config.Parse([]byte(doc), t.TempDir(), func(string) string { return "" })
			if err == nil {
				t.Fatal("Parse succeeded, want problems")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() = %v\nwant a problem containing %q", err, w)
				}
			}
		})
	}
}
