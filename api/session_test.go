package api_test

import (
	"net/http"
	"testing"
)

// TestSession drives a realistic session against the real gateway and
// validates every request and response against the document.
func TestSession(t *testing.T) {
	g := newGateway(t, loadDocument(t))
	const root = "/targets/memory/scim/v2"

	t.Run("Discovery", func(t *testing.T) {
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig", token: adminToken, want: http.StatusOK})
		g.do(t, call{method: "GET", path: "/scim/v2/ServiceProviderConfig", token: adminToken, want: http.StatusOK})
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig", want: http.StatusUnauthorized})
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig", token: "wrong", want: http.StatusUnauthorized})
		g.do(t, call{method: "GET", path: "/targets/nope/scim/v2/ServiceProviderConfig", token: adminToken, want: http.StatusNotFound})
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig", token: limitedToken, want: http.StatusForbidden})
		g.do(t, call{method: "GET", path: root + "/ServiceProviderConfig?filter=x", token: adminToken, want: http.StatusForbidden})
	})
}
