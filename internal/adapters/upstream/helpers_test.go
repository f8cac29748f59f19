package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/router/routertest"
)

// testToken is the bearer token the loopback upstream accepts.
const testToken = routertest.Token // what the gateway serving the upstream accepts

// upstream is the project's own gateway serving a memory target "m" on
// loopback: a real RFC 7644 server for the adapter to talk to.
type upstream struct {
	srv  *httptest.Server
	mem  *memory.Adapter
	base string // the SCIM service root of target m
}

// newUpstream starts the upstream; wrap, when not nil, wraps its handler
// (to observe or break requests). The engine's page limit is 20: small
// enough that the conformance suite's paging cases stay within the engine's
// default page of 100 (they create 2×MaxPageSize+3 users and read them
// without a count), and that native paging shows.
func newUpstream(t testing.TB, wrap func(http.Handler) http.Handler, opts ...memory.Option) *upstream {
	t.Helper()
	mem := memory.New(opts...)
	e := engine.New(mem, engine.Options{MaxPageSize: 20})
	h := routertest.Handler(t, map[string]*engine.Engine{"m": e})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &upstream{srv: srv, mem: mem, base: srv.URL + "/targets/m/scim/v2"}
}

// adapter opens an Adapter on u with the test token.
func (u *upstream) adapter(t testing.TB, opts ...Option) *Adapter {
	t.Helper()
	a, err := New(t.Context(), u.base, outbound.StaticToken(testToken), append([]Option{u.client()}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// client is the outbound client's own transport (as in production) with
// quick retries.
func (u *upstream) client() Option {
	return WithOutboundOptions(outbound.WithRetry(outbound.RetryPolicy{Base: 1, Max: 2}))
}
