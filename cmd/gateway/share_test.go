package main

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/engine"
)

// TestReplicasShareOneToken opens a Webex target twice, as two replicas
// with one Redis would, and makes requests through both: Webex's token
// endpoint is called once.
func TestReplicasShareOneToken(t *testing.T) {
	r := redistest.Start(t)
	sim := webextest.New()
	sim.RegisterClient("app", "s3cret")
	var tokenCalls atomic.Int32
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v1/access_token" {
			tokenCalls.Add(1)
		}
		sim.ServeHTTP(w, req)
	}))
	defer vendor.Close()
	env := map[string]string{"SECRET": "s3cret", "REFRESH": sim.IssueRefreshToken("app"), "TOKEN_SHA256": fmt.Sprintf("%x", sha256.Sum256([]byte("t")))}
	doc := fmt.Sprintf(`
cache:
  replicas: 2
  redis:
    addrs: [%q]
targets:
  - name: webex
    adapter: webex
    settings:
      orgID: %s
      baseURL: %s
      auth: {clientID: app, clientSecretEnv: SECRET, refreshTokenEnv: REFRESH}
      client: {rateLimit: 50}
credentials:
  tokens: [{name: t, sha256Env: TOKEN_SHA256, targets: ["*"]}]
`, r.Addr, sim.OrgID(), vendor.URL)
	var engines []*engine.Engine
	for range 2 {
		cfg, err := config.Parse([]byte(doc), t.TempDir(), func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		store, err := cfg.Cache.Open(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.(*cache.Redis).Close() })
		set, err := openTargets(t.Context(), cfg, nil, store)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, set.engines["webex"])
	}
	for i, e := range engines {
		rt := e.ResourceType("User")
		if _, err := e.Search(t.Context(), rt, engine.Query{Count: 1}); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if n := tokenCalls.Load(); n != 1 {
		t.Errorf("the token endpoint was called %d times by two replicas, want 1", n)
	}
}
