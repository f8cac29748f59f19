package webex_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router/routertest"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// BenchmarkGetUser measures what the gateway adds to a GET by id against
// the simulator, all over loopback HTTP:
//   - vendor: the caller asks the simulator directly (the baseline);
//   - gateway: the caller asks the gateway, which asks the simulator once
//     (userGroups off);
//   - gateway+groups: the default, where a second vendor call fills groups.
//
// The gateway's added latency is gateway minus vendor.
func BenchmarkGetUser(b *testing.B) {
	for _, bc := range []struct {
		name    string
		gateway bool
		opts    []webex.Option
	}{
		{"vendor", false, nil},
		{"gateway", true, []webex.Option{webex.WithoutUserGroups()}},
		{"gateway+groups", true, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, v := open(b, nil, bc.opts...)
			u, err := a.Create(b.Context(), webex.UserType, scim.Resource{
				"schemas": []any{scim.UserSchema}, "userName": "bench@example.com",
				"name": map[string]any{"givenName": "Ben", "familyName": "Ch"},
			})
			if err != nil {
				b.Fatal(err)
			}
			url, token := v.URL+"/identity/scim/"+v.OrgID()+"/v2/Users/"+u.ID(), v.IssueToken()
			if bc.gateway {
				url = routertest.Serve(b, map[string]*engine.Engine{"webex": engine.New(a, engine.Options{})}) +
					"/targets/webex/scim/v2/Users/" + u.ID()
				token = routertest.Token
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
