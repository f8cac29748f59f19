package api_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
)

// The SCIM roots the router mounts, which the document's servers must name.
var scimRoots = []string{"/targets/{target}/scim/v2", "/scim/v2"}

// TestEveryRouteDocumented walks the routes the router registers and checks
// that the document describes each method and path, so that an endpoint
// cannot be added without its description. (The opposite direction, that
// the document describes nothing the gateway does not serve, is
// TestSession/EveryOperationExercised.) This test alone looks at the
// router's chi tree: enumerating routes is what chi.Walk is for, and a
// router that stops exposing it fails here first.
func TestEveryRouteDocumented(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	g := newGateway(t, doc, nil)

	var servers []string
	for _, s := range doc.Servers {
		servers = append(servers, s.URL)
	}
	if !slices.Equal(servers, scimRoots) {
		t.Errorf("document servers = %q, want the router's SCIM roots %q", servers, scimRoots)
	}

	routes, ok := g.handler.(chi.Routes)
	if !ok {
		t.Fatalf("router.New returned a %T, whose routes cannot be walked", g.handler)
	}
	// {endpoint} stands for the endpoint of each resource type the store
	// serves, which the document describes on its own, and for any other,
	// which its /{endpoint} templates describe.
	endpoints := []string{"/{endpoint}"}
	for _, rt := range memory.New().Capabilities().ResourceTypes {
		endpoints = append(endpoints, rt.Endpoint)
	}
	documented := documentedRoutes(doc)
	seen := 0
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		for _, r := range expand(route, endpoints) {
			seen++
			if !documented[method+" "+r] {
				t.Errorf("%s %s (route %s) is not in the document", method, r, route)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 30 {
		t.Errorf("walked %d routes; the router registers more than that", seen)
	}
}

// expand returns the paths a chi route pattern serves, as the document
// writes them: its SCIM root dropped (the document's servers hold it) and
// {endpoint} replaced by each endpoint.
func expand(route string, endpoints []string) []string {
	for _, root := range scimRoots {
		if rest, ok := strings.CutPrefix(route, root); ok {
			route = root + " " + rest
			break
		}
	}
	if !strings.Contains(route, "{endpoint}") {
		return []string{normalizeParams(route)}
	}
	var out []string
	for _, ep := range endpoints {
		out = append(out, normalizeParams(strings.Replace(route, "/{endpoint}", ep, 1)))
	}
	return out
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

// normalizeParams writes every path parameter as {}: names may differ.
func normalizeParams(p string) string { return paramRE.ReplaceAllString(p, "{}") }

// documentedRoutes returns the document's operations as "METHOD root path"
// for each server root that applies to the path, the way expand writes a
// route: a SCIM path under both SCIM roots, an operational path (whose
// server is "/") at the top.
func documentedRoutes(doc *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		roots := scimRoots
		if len(item.Servers) > 0 {
			roots = nil
			for _, s := range item.Servers {
				roots = append(roots, strings.TrimSuffix(s.URL, "/"))
			}
		}
		for method := range item.Operations() {
			for _, root := range roots {
				key := root + path
				if slices.Contains(scimRoots, root) {
					key = root + " " + path
				}
				out[method+" "+normalizeParams(key)] = true
			}
		}
	}
	return out
}
