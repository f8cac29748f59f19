package router_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestDiscovery compares the discovery documents of each kind of target with
// golden files (go test ./internal/router -run TestDiscovery -update rewrites
// them), and checks the facts they must hold independently of the files.
func TestDiscovery(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, path string
		check      func(t *testing.T, m map[string]any)
	}{
		{"memory_service_provider_config", memoryRoot + "/ServiceProviderConfig", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "patch", `{"supported":true}`)
			wantJSON(t, m, "bulk", `{"supported":true,"maxOperations":1000,"maxPayloadSize":1048576}`)
			wantJSON(t, m, "filter", `{"supported":true,"maxResults":1000}`)
			wantJSON(t, m, "changePassword", `{"supported":false}`)
			wantJSON(t, m, "sort", `{"supported":true}`)
			wantJSON(t, m, "etag", `{"supported":true}`)
			if str(m, "meta.location") != publicURL+memoryRoot+"/ServiceProviderConfig" {
				t.Errorf("meta.location = %q", str(m, "meta.location"))
			}
			schemes, _ := m["authenticationSchemes"].([]any)
			if len(schemes) != 1 || str(schemes[0].(map[string]any), "type") != "oauthbearertoken" {
				t.Errorf("authenticationSchemes = %v", m["authenticationSchemes"])
			}
		}},
		{"small_service_provider_config", "/targets/small/scim/v2/ServiceProviderConfig", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "bulk", `{"supported":true,"maxOperations":2,"maxPayloadSize":2048}`)
			wantJSON(t, m, "filter", `{"supported":true,"maxResults":5}`)
		}},
		{"memory_resource_types", memoryRoot + "/ResourceTypes", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "totalResults", `2`)
		}},
		{"usersonly_resource_types", usersRoot + "/ResourceTypes", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "totalResults", `1`)
		}},
		{"memory_resource_type_user", memoryRoot + "/ResourceTypes/User", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "schemaExtensions", `[{"schema":"`+scim.EnterpriseUserSchema+`","required":false}]`)
			wantJSON(t, m, "endpoint", `"/Users"`)
			if str(m, "meta.location") != publicURL+memoryRoot+"/ResourceTypes/User" {
				t.Errorf("meta.location = %q", str(m, "meta.location"))
			}
		}},
		{"memory_schemas", memoryRoot + "/Schemas", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "totalResults", `3`)
		}},
		{"usersonly_schemas", usersRoot + "/Schemas", func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "totalResults", `2`)
		}},
		{"memory_schema_group", memoryRoot + "/Schemas/" + scim.GroupSchema, func(t *testing.T, m map[string]any) {
			wantJSON(t, m, "id", `"`+scim.GroupSchema+`"`)
			wantJSON(t, m, "schemas", `["`+scim.SchemaSchema+`"]`)
			if str(m, "meta.location") != publicURL+memoryRoot+"/Schemas/"+scim.GroupSchema {
				t.Errorf("meta.location = %q", str(m, "meta.location"))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.mustDo(t, req{method: "GET", path: tt.path, token: adminToken}, 200)
			tt.check(t, r.json(t))
			golden(t, filepath.Join("testdata", "discovery", tt.name+".golden.json"), r.body)
		})
	}

	// RFC 7644 §4: a filter on discovery is a 403.
	for _, path := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/Schemas/" + scim.UserSchema} {
		checkError(t, f.do(t, req{method: "GET", path: memoryRoot + path + `?filter=id%20eq%20%22User%22`, token: adminToken}), 403, "")
	}
	// Other query parameters are ignored.
	r := f.mustDo(t, req{method: "GET", path: memoryRoot + "/ResourceTypes?count=1&startIndex=2", token: adminToken}, 200)
	wantJSON(t, r.json(t), "totalResults", `2`)
	// Usersonly does not serve Groups, nor describe them.
	checkError(t, f.do(t, req{method: "GET", path: usersRoot + "/ResourceTypes/Group", token: adminToken}), 404, "")
	checkError(t, f.do(t, req{method: "GET", path: usersRoot + "/Schemas/" + scim.GroupSchema, token: adminToken}), 404, "")
}

// wantJSON checks that m[key] encodes to the JSON want.
func wantJSON(t *testing.T, m map[string]any, key, want string) {
	t.Helper()
	got, err := json.Marshal(m[key])
	if err != nil {
		t.Fatal(err)
	}
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	wb, _ := json.Marshal(w)
	if !bytes.Equal(got, wb) {
		t.Errorf("%s = %s, want %s", key, got, wb)
	}
}

// golden compares body, indented, with the file at path, or rewrites it
// with -update.
func golden(t *testing.T, path string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	got := buf.Bytes()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", path, got)
	}
}
