// Package routertest serves targets through the gateway's real HTTP
// handler on loopback, for tests of what stands behind it (an adapter
// against a vendor simulator, an upstream served by the gateway itself).
package routertest

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
)

// Token is the bearer token the handler accepts, for every target.
const Token = "test-token"

// Handler returns the gateway's handler serving engines by target name
// (/targets/{name}/scim/v2), accepting Token.
func Handler(tb testing.TB, engines map[string]*engine.Engine) http.Handler {
	tb.Helper()
	authn, err := auth.New(auth.Config{Tokens: []auth.StaticToken{{
		Name: "test", SHA256: sha256.Sum256([]byte(Token)), Targets: []string{"*"},
	}}})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := router.New(router.Config{Targets: router.NewTargets(engines), Authenticator: authn})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// Serve serves Handler(engines) on loopback until the test ends and
// returns the server's URL.
func Serve(tb testing.TB, engines map[string]*engine.Engine) string {
	tb.Helper()
	srv := httptest.NewServer(Handler(tb, engines))
	tb.Cleanup(srv.Close)
	return srv.URL
}
