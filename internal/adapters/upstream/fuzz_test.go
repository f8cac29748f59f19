package upstream

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

const fuzzMax = 1 << 16

// FuzzParseError checks the reading of upstream error bodies: no panic, and
// a detail fit for a client (no control characters, bounded, valid UTF-8)
// with a scimType of RFC 7644 Table 9 or none.
func FuzzParseError(f *testing.F) {
	f.Add([]byte(scimError("409", "uniqueness", "userName taken")))
	f.Add([]byte(`{"status": 400, "detail": "x\u0000y"}`))
	f.Add([]byte(`{"schemas": ["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:ERROR"], "scimType": "INVALIDVALUE"}`))
	f.Add([]byte(`<html>no</html>`))
	f.Add([]byte(`{"status": null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMax {
			return
		}
		st, detail, ok := parseError(body)
		if !ok && (st != "" || detail != "") {
			t.Fatalf("parseError(%q) = %q, %q, false", body, st, detail)
		}
		if st != "" && knownScimType(string(st)) != st {
			t.Fatalf("parseError(%q) scimType %q is not an RFC 7644 keyword", body, st)
		}
		if !utf8.ValidString(detail) || len(detail) > maxDetail+len("…") || strings.IndexFunc(detail, unicode.IsControl) >= 0 {
			t.Fatalf("parseError(%q) detail %q is not fit for a client", body, detail)
		}
	})
}

// FuzzDecodeAnswer checks the reading of resources and list responses: no
// panic; a result carries an id and meta; a failure is a 502.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`{"id": "1", "userName": "a", "meta": {"version": "W/\"1\"", "location": "https://x/Users/1"}}`))
	f.Add([]byte(`{"totalResults": 1, "Resources": [{"id": "1"}]}`))
	f.Add([]byte(`{"totalResults": -1, "resources": null}`))
	f.Add([]byte(`{"id": "", "meta": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > fuzzMax {
			return
		}
		resp := &outbound.Response{Status: http.StatusOK, Header: http.Header{"Etag": {`W/"e"`}}, Body: body}
		check := func(what string, rs []scim.Resource, err error) {
			var se *scim.Error
			if err != nil {
				if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
					t.Fatalf("%s(%q) error %v, want a 502", what, body, err)
				}
				return
			}
			for _, r := range rs {
				meta, ok := r["meta"].(map[string]any)
				if r.ID() == "" || !ok || meta["resourceType"] == nil || meta["location"] != nil {
					t.Fatalf("%s(%q) = %v, want an id and meta with resourceType, without location", what, body, r)
				}
			}
		}
		r, err := decodeResource(scim.UserType, "get", resp)
		check("decodeResource", []scim.Resource{r}, err)
		if err == nil && r.Version() == "" {
			t.Fatalf("decodeResource(%q) = %v, want a version", body, r)
		}
		p, err := decodeList(scim.UserType, adapters.Query{StartIndex: 1}, resp)
		check("decodeList", p.Resources, err)
		if err == nil && p.TotalResults < 0 {
			t.Fatalf("decodeList(%q) totalResults %d", body, p.TotalResults)
		}
	})
}

// FuzzDiscovery checks the reading of discovery documents: no panic, and
// whatever resource types come out are usable: a schema for the core and
// each extension, and an endpoint that stays under the base URL.
func FuzzDiscovery(f *testing.F) {
	f.Add([]byte(spcAll), []byte(userAndGroup), []byte(`[]`))
	f.Add([]byte(`{"filter": {"supported": "true", "maxResults": "7"}}`),
		[]byte(`[{"id": "D", "endpoint": "/D", "schema": "urn:d", "schemaExtensions": [{"schema": "urn:e", "required": true}]}]`),
		[]byte(`[{"id": "urn:d", "attributes": [{"name": "a", "type": "Complex", "subAttributes": [{"name": "b"}]}]},
			{"id": "urn:e", "attributes": []}]`))
	f.Add([]byte(`{}`), []byte(`{"Resources": [{"name": "x", "endpoint": "/a/../b", "schema": "urn:x"}]}`), []byte(`{"Resources": null}`))
	f.Fuzz(func(t *testing.T, spc, rts, schemas []byte) {
		if len(spc)+len(rts)+len(schemas) > fuzzMax {
			return
		}
		_, _ = parseServiceProviderConfig(spc)
		docs, err := parseResourceTypes(rts)
		if err != nil {
			return
		}
		served, err := parseSchemas(schemas)
		if err != nil {
			served = nil
		}
		types, err := buildTypes(docs, served)
		if err != nil {
			return
		}
		for _, rt := range types {
			if rt.ID == "" || rt.Schema == nil || checkEndpoint(rt.Endpoint) != nil || !strings.HasPrefix(rt.Endpoint, "/") {
				t.Fatalf("buildTypes made an unusable %+v", rt)
			}
			for _, ext := range rt.Extensions {
				if ext == nil {
					t.Fatalf("buildTypes made %s with a nil extension", rt.ID)
				}
			}
			for urn := range rt.Required {
				if rt.Extension(urn) == nil {
					t.Fatalf("buildTypes made %s requiring %q, which is not an extension", rt.ID, urn)
				}
			}
			for _, s := range rt.Schemas() {
				for _, at := range s.Attributes {
					if attrTypes[strings.ToLower(string(at.Type))] != at.Type || at.Mutability == "" || at.Returned == "" {
						t.Fatalf("buildTypes left %s.%s unnormalized: %+v", s.ID, at.Name, at)
					}
				}
			}
		}
	})
}
