package webex_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/contract")

// TestContract pins the exact vendor requests (method, path, query, body)
// the adapter sends for each kind of operation, as golden files in
// testdata/contract. Ids the simulator assigns are replaced by names
// ({user1}, {group1}) so the files are stable. Run with -update after a
// deliberate change, and read the diff.
func TestContract(t *testing.T) {
	a, v := open(t, nil)
	e := engine.New(a, engine.Options{})
	ctx := t.Context()
	ids := map[string]string{v.OrgID(): "{org}"}
	name := func(id, as string) { ids[id] = as }
	must := func(r scim.Resource, err error) scim.Resource {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	search := func(rt *scim.ResourceType, f string) {
		t.Helper()
		if _, err := e.Search(ctx, rt, engine.Query{Filter: f, Count: 10}); err != nil {
			t.Fatal(err)
		}
	}
	patchOps := func(body string) []scim.PatchOp {
		t.Helper()
		ops, err := patch.Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ops
	}

	var user, boss, group scim.Resource
	steps := []struct {
		name string
		run  func()
	}{
		{"create-user", func() {
			user = must(a.Create(ctx, webex.UserType, scim.Resource{
				"schemas":  []any{scim.UserSchema, scim.EnterpriseUserSchema, webex.UserExtension},
				"userName": "bjensen@example.com", "externalId": "okta-1", "active": true,
				"name":                    map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
				"emails":                  []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}},
				scim.EnterpriseUserSchema: map[string]any{"department": "Tours"},
				webex.UserExtension:       map[string]any{"accountStatus": []any{"active"}},
			}))
			name(user.ID(), "{user1}")
		}},
		{"create-user-defaults", func() {
			boss = must(a.Create(ctx, webex.UserType, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "boss@example.com"}))
			name(boss.ID(), "{user2}")
		}},
		{"get-user", func() { must(a.Get(ctx, webex.UserType, user.ID())) }},
		{"list-users-pushdown", func() {
			search(webex.UserType, `userName sw "bj" and name.familyName eq "Jensen"`)
		}},
		{"list-users-residual", func() {
			search(webex.UserType, `title co "guide" and userName eq "bjensen@example.com"`)
		}},
		{"replace-user", func() {
			must(a.Replace(ctx, webex.UserType, user.ID(), scim.Resource{
				"schemas": []any{scim.UserSchema}, "userName": "bjensen@example.com", "title": "Tour Guide",
			}, ""))
		}},
		{"patch-user", func() {
			must(a.Patch(ctx, webex.UserType, user.ID(), patchOps(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:title","value":"Dr."},
				{"op":"add","path":"phoneNumbers","value":[{"value":"+14085550100","type":"work"}]}]}`), ""))
		}},
		{"create-group", func() {
			group = must(a.Create(ctx, webex.GroupType, scim.Resource{
				"schemas": []any{scim.GroupSchema}, "displayName": "Tour Guides",
				"members": []any{map[string]any{"value": user.ID(), "type": "User"}},
			}))
			name(group.ID(), "{group1}")
		}},
		{"get-group", func() { must(a.Get(ctx, webex.GroupType, group.ID())) }},
		{"patch-group-members", func() {
			must(a.Patch(ctx, webex.GroupType, group.ID(), patchOps(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"add","path":"members","value":[{"value":"`+boss.ID()+`"}]},
				{"op":"remove","path":"members","value":[{"value":"`+user.ID()+`"}]}]}`), ""))
		}},
		{"list-groups", func() {
			search(webex.GroupType, `displayName eq "Tour Guides"`)
		}},
		{"bulk", func() {
			resp, err := e.Bulk(ctx, scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, Operations: []scim.BulkOperation{
				{Method: "POST", Path: "/Users", BulkID: "new", Data: map[string]any{"schemas": []any{scim.UserSchema}, "userName": "new@example.com"}},
				{Method: "PATCH", Path: "/Groups/" + group.ID(), Data: map[string]any{"schemas": []any{scim.PatchOpSchema},
					"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "bulkId:new"}}}}}},
				{Method: "DELETE", Path: "/Users/" + boss.ID()},
			}})
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range resp.Operations {
				if op.Status[0] != '2' {
					t.Fatalf("bulk %s %s: %s %v", op.Method, op.Path, op.Status, op.Response)
				}
				if op.Method == "POST" {
					name(strings.TrimPrefix(op.Location, "/Users/"), "{user3}")
				}
			}
		}},
		{"delete-group", func() {
			if err := a.Delete(ctx, webex.GroupType, group.ID(), ""); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, st := range steps {
		v.reset()
		st.run()
		got := render(t, v.exchanges(), ids)
		file := filepath.Join("testdata", "contract", st.name+".json")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v (run go test -update to create it)", st.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: vendor requests changed\ngot:\n%s\nwant:\n%s", st.name, got, want)
		}
	}
}

// render writes the exchanges as stable JSON: ids named, query keys
// sorted, bodies decoded (their keys sorted by encoding/json).
func render(t *testing.T, xs []exchange, ids map[string]string) []byte {
	t.Helper()
	rename := func(s string) string {
		for id, as := range ids {
			s = strings.ReplaceAll(s, id, as)
		}
		return s
	}
	type call struct {
		Method string         `json:"method"`
		Path   string         `json:"path"`
		Query  map[string]any `json:"query,omitempty"`
		Body   any            `json:"body,omitempty"`
		Status int            `json:"status"`
	}
	out := []call{}
	for _, x := range xs {
		c := call{Method: x.Method, Path: rename(x.Path), Status: x.Status}
		if len(x.Query) > 0 {
			c.Query = map[string]any{}
			keys := make([]string, 0, len(x.Query))
			for k := range x.Query {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				c.Query[k] = rename(strings.Join(x.Query[k], ","))
			}
		}
		if len(x.Body) > 0 {
			if err := json.Unmarshal([]byte(rename(string(x.Body))), &c.Body); err != nil {
				t.Fatalf("%s %s: body is not JSON: %s", x.Method, x.Path, x.Body)
			}
		}
		out = append(out, c)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
