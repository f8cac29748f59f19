package cache_test

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// TestConformanceWebex runs the suite over the decorator in front of the
// Webex adapter and its simulator: a vendor with native Bulk, native PATCH,
// a health check and eventual consistency, unlike the reference store.
func TestConformanceWebex(t *testing.T) {
	s := cache.NewMemory(0, nil)
	adaptertest.RunWith(t, adaptertest.Options{UserNameDomain: "example.com"}, func(t *testing.T) adapters.Adapter {
		sim := webextest.NewServer(t)
		a, err := webex.New(sim.URL, sim.OrgID(), outbound.StaticToken(sim.IssueToken()),
			[]outbound.Option{outbound.WithHTTPClient(sim.Client())})
		if err != nil {
			t.Fatal(err)
		}
		w := cache.Wrap(a, s, cache.Options{Target: t.Name()})
		if _, ok := w.(adapters.HealthChecker); !ok {
			t.Fatal("Wrap(webex) lost its health check")
		}
		return w
	})
}
