package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func newBulkEngine(t *testing.T, opts engine.Options) *engine.Engine {
	t.Helper()
	return engine.New(memory.New(), opts)
}

func decodeBulk(t *testing.T, body string) scim.BulkRequest {
	t.Helper()
	var req scim.BulkRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	return req
}

// user and group render Bulk POST operations.
func user(bulkID, userName, extra string) string {
	if extra != "" {
		extra = ", " + extra
	}
	return fmt.Sprintf(`{"method": "POST", "path": "/Users", "bulkId": %q,
		"data": {"schemas": [%q], "userName": %q%s}}`, bulkID, scim.UserSchema, userName, extra)
}

func group(bulkID, name string, memberRefs ...string) string {
	ms := make([]string, len(memberRefs))
	for i, m := range memberRefs {
		ms[i] = fmt.Sprintf(`{"value": %q}`, m)
	}
	return fmt.Sprintf(`{"method": "POST", "path": "/Groups", "bulkId": %q,
		"data": {"schemas": [%q], "displayName": %q, "members": [%s]}}`,
		bulkID, scim.GroupSchema, name, strings.Join(ms, ", "))
}

func request(failOnErrors int, ops ...string) string {
	return fmt.Sprintf(`{"schemas": [%q], "failOnErrors": %d, "Operations": [%s]}`,
		scim.BulkRequestSchema, failOnErrors, strings.Join(ops, ", "))
}

// summary renders each response operation as "bulkId:status" (or
// "METHOD:status" without a bulkId).
func summary(resp *scim.BulkResponse) string {
	var parts []string
	for _, op := range resp.Operations {
		key := op.BulkID
		if key == "" {
			key = op.Method
		}
		parts = append(parts, key+":"+op.Status)
	}
	return strings.Join(parts, " ")
}

func TestBulkOrdering(t *testing.T) {
	tests := []struct {
		name         string
		failOnErrors int
		ops          []string
		want         string
		wantGroups   []string // displayNames that exist afterwards
		circular     string   // bulkIds whose error says they are in a cycle
	}{
		{"in order", 0, []string{user("u", "u", ""), group("g", "G", "bulkId:u")}, "u:201 g:201", []string{"G"}, ""},
		{"forward chain", 0, []string{
			group("top", "Top", "bulkId:mid"), group("mid", "Mid", "bulkId:low"), group("low", "Low", "bulkId:u"), user("u", "u", ""),
		}, "top:201 mid:201 low:201 u:201", []string{"Low", "Mid", "Top"}, ""},
		{"cycle of three", 0, []string{
			group("a", "A", "bulkId:b"), group("b", "B", "bulkId:c"), group("c", "C", "bulkId:a"), group("d", "D"),
		}, "a:409 b:409 c:409 d:201", []string{"D"}, "a b c"},
		{"depends on a cycle", 0, []string{
			group("x", "X", "bulkId:a"), group("a", "A", "bulkId:b"), group("b", "B", "bulkId:a"),
		}, "x:409 a:409 b:409", nil, "a b"},
		{"self reference", 0, []string{group("s", "S", "bulkId:s")}, "s:409", nil, "s"},
		{"bulkId prefix in any case", 0, []string{user("u", "u", ""), group("g", "G", "BULKID:u")}, "u:201 g:201", []string{"G"}, ""},
		{"duplicate bulkId", 0, []string{user("u", "one", ""), user("u", "two", ""), group("g", "G", "bulkId:u")},
			"u:201 u:400 g:201", []string{"G"}, ""},
		// The dependency runs first and fails; that reaches failOnErrors, so
		// the dependent operation does not run at all.
		{"stop inside a dependency", 1, []string{group("g", "G", "bulkId:u"), user("u", "", ""), group("h", "H")},
			"u:400", nil, ""},
		{"stop after the limit", 2, []string{user("a", "", ""), user("b", "b", ""), user("c", "", ""), user("d", "d", "")},
			"a:400 b:201 c:400", nil, ""},
		{"empty", 0, nil, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBulkEngine(t, engine.Options{})
			resp, err := e.Bulk(t.Context(), decodeBulk(t, request(tt.failOnErrors, tt.ops...)))
			if err != nil {
				t.Fatalf("Bulk: %v", err)
			}
			if got := summary(resp); got != tt.want {
				t.Errorf("Bulk = %q, want %q", got, tt.want)
			}
			for _, op := range resp.Operations {
				body, _ := op.Response.(map[string]any)
				detail, _ := body["detail"].(string)
				in := slices.Contains(strings.Fields(tt.circular), op.BulkID)
				if op.Status == "409" && strings.Contains(detail, "circular") != in {
					t.Errorf("%s: detail %q; in a cycle: %v", op.BulkID, detail, in)
				}
			}
			lr, err := e.Search(t.Context(), e.ResourceType("Group"), engine.Query{Count: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range lr.Resources {
				got = append(got, r["displayName"].(string))
			}
			if fmt.Sprint(sortedStrings(got)) != fmt.Sprint(sortedStrings(tt.wantGroups)) {
				t.Errorf("groups afterwards = %v, want %v", got, tt.wantGroups)
			}
		})
	}
}

func sortedStrings(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// TestBulkReferencesInData checks references resolve at any depth of the
// data: here an Enterprise manager, and a PATCH value.
func TestBulkReferencesInData(t *testing.T) {
	e := newBulkEngine(t, engine.Options{})
	ent := scim.EnterpriseUserSchema
	req := request(0,
		user("emp", "emp", fmt.Sprintf(`%q: {"manager": {"value": "bulkId:boss"}}`, ent)),
		user("boss", "boss", ""),
		group("g", "G"),
		fmt.Sprintf(`{"method": "PATCH", "path": "/Groups/bulkId:g", "data": {"schemas": [%q],
			"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:emp"}, {"value": "bulkId:boss"}]}]}}`,
			scim.PatchOpSchema),
	)
	resp, err := e.Bulk(t.Context(), decodeBulk(t, req))
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(resp); got != "emp:201 boss:201 g:201 PATCH:200" {
		t.Fatalf("Bulk = %q", got)
	}
	ids := map[string]string{}
	for _, op := range resp.Operations {
		ids[op.BulkID] = op.Location[strings.LastIndexByte(op.Location, '/')+1:]
	}
	emp, err := e.Get(t.Context(), e.ResourceType("User"), ids["emp"], engine.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := emp.Get(scim.Path{URN: ent, Attr: "manager", Sub: "value"}); got != ids["boss"] {
		t.Errorf("manager.value = %v, want %s", got, ids["boss"])
	}
	g, err := e.Get(t.Context(), e.ResourceType("Group"), ids["g"], engine.Projection{})
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := g["members"].([]any); len(ms) != 2 {
		t.Errorf("members = %v, want emp and boss", g["members"])
	}
	if resp.Operations[3].Location != "/Groups/"+ids["g"] {
		t.Errorf("PATCH location = %q, want /Groups/%s", resp.Operations[3].Location, ids["g"])
	}
}

// TestBulkResponseJSON checks the wire form of RFC 7644 §3.7.3: statuses are
// strings, and a failure carries a SCIM Error whose status is a string too.
func TestBulkResponseJSON(t *testing.T) {
	e := newBulkEngine(t, engine.Options{})
	resp, err := e.Bulk(t.Context(), decodeBulk(t, request(0,
		user("ok", "ok", ""),
		user("dup", "OK", ""),
		`{"method": "DELETE", "path": "/Users/missing", "bulkId": "del"}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schemas    []string
		Operations []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Schemas) != 1 || got.Schemas[0] != scim.BulkResponseSchema || len(got.Operations) != 3 {
		t.Fatalf("response %s", b)
	}
	ok, dup, del := got.Operations[0], got.Operations[1], got.Operations[2]
	if ok["status"] != "201" || ok["method"] != "POST" || ok["bulkId"] != "ok" || ok["response"] != nil ||
		!strings.HasPrefix(fmt.Sprint(ok["location"]), "/Users/") || !strings.HasPrefix(fmt.Sprint(ok["version"]), `W/"`) {
		t.Errorf("success operation = %v", ok)
	}
	if _, has := ok["data"]; has {
		t.Errorf("success operation echoes data: %v", ok)
	}
	want := map[string]any{"schemas": []any{scim.ErrorSchema}, "status": "409", "scimType": "uniqueness"}
	r, _ := dup["response"].(map[string]any)
	if dup["status"] != "409" || dup["location"] != nil || r == nil || r["detail"] == "" ||
		fmt.Sprint(r["schemas"]) != fmt.Sprint(want["schemas"]) || r["status"] != want["status"] || r["scimType"] != want["scimType"] {
		t.Errorf("failed POST = %v, want status 409, no location, response %v", dup, want)
	}
	if del["status"] != "404" || del["location"] != "/Users/missing" {
		t.Errorf("failed DELETE = %v, want 404 with its location", del)
	}
}

func TestBulkRequestErrors(t *testing.T) {
	tooMany := make([]string, 4)
	for i := range tooMany {
		tooMany[i] = user(fmt.Sprint(i), fmt.Sprint("u", i), "")
	}
	tests := []struct {
		name   string
		body   string
		status int
		typ    scim.ScimType
	}{
		{"too many operations", request(0, tooMany...), http.StatusRequestEntityTooLarge, ""},
		{"negative failOnErrors", request(-1, user("u", "u", "")), http.StatusBadRequest, scim.InvalidValue},
		{"wrong schema", fmt.Sprintf(`{"schemas": [%q], "Operations": []}`, scim.PatchOpSchema), http.StatusBadRequest, scim.InvalidSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBulkEngine(t, engine.Options{BulkMaxOperations: 3})
			_, err := e.Bulk(t.Context(), decodeBulk(t, tt.body))
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != tt.status || se.ScimType != tt.typ {
				t.Fatalf("Bulk: %v, want %d %q", err, tt.status, tt.typ)
			}
			lr, err := e.Search(t.Context(), e.ResourceType("User"), engine.Query{Count: -1})
			if err != nil || lr.TotalResults != 0 {
				t.Errorf("a refused request created %d users (%v)", lr.TotalResults, err)
			}
		})
	}
	e := newBulkEngine(t, engine.Options{BulkMaxOperations: 3})
	_, err := e.Bulk(t.Context(), decodeBulk(t, request(0, tooMany...)))
	if se := scim.AsError(err); !strings.Contains(se.Detail, "maxOperations (3)") {
		t.Errorf("413 detail = %q, want it to name maxOperations (3)", se.Detail)
	}
}

func TestBulkOperationErrors(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		status string
		typ    scim.ScimType
	}{
		{"no method", `{"path": "/Users/x"}`, "400", scim.InvalidSyntax},
		{"GET", `{"method": "GET", "path": "/Users/x"}`, "400", scim.InvalidSyntax},
		{"no path", `{"method": "DELETE"}`, "400", scim.InvalidSyntax},
		{"relative path", `{"method": "DELETE", "path": "Users/x"}`, "400", scim.InvalidSyntax},
		{"query in path", `{"method": "DELETE", "path": "/Users/x?attributes=id"}`, "400", scim.InvalidSyntax},
		{"nested path", `{"method": "DELETE", "path": "/Users/x/y"}`, "400", scim.InvalidSyntax},
		{"unknown endpoint", `{"method": "DELETE", "path": "/Widgets/x"}`, "404", ""},
		{"POST with id", fmt.Sprintf(`{"method": "POST", "path": "/Users/x", "bulkId": "b", "data": {"schemas": [%q], "userName": "p"}}`, scim.UserSchema), "400", scim.InvalidSyntax},
		{"POST without bulkId", fmt.Sprintf(`{"method": "POST", "path": "/Users", "data": {"schemas": [%q], "userName": "p"}}`, scim.UserSchema), "400", scim.InvalidSyntax},
		{"POST without data", `{"method": "POST", "path": "/Users", "bulkId": "b"}`, "400", scim.InvalidSyntax},
		{"PUT with array data", `{"method": "PUT", "path": "/Users/x", "data": []}`, "400", scim.InvalidSyntax},
		{"PATCH with bad ops", `{"method": "PATCH", "path": "/Users/x", "data": {"Operations": "nope"}}`, "400", ""},
		{"unknown reference", `{"method": "DELETE", "path": "/Users/bulkId:nobody"}`, "400", scim.InvalidValue},
		{"missing resource", `{"method": "DELETE", "path": "/Users/x"}`, "404", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBulkEngine(t, engine.Options{})
			resp, err := e.Bulk(t.Context(), decodeBulk(t, request(0, tt.op)))
			if err != nil {
				t.Fatalf("Bulk: %v", err)
			}
			if len(resp.Operations) != 1 {
				t.Fatalf("Bulk = %+v, want one operation", resp.Operations)
			}
			op := resp.Operations[0]
			body, _ := op.Response.(map[string]any)
			if op.Status != tt.status || body == nil || body["status"] != tt.status ||
				(tt.typ != "" && body["scimType"] != string(tt.typ)) {
				t.Errorf("operation = %+v, want status %s scimType %q", op, tt.status, tt.typ)
			}
		})
	}
}

func TestBulkContextCanceled(t *testing.T) {
	e := newBulkEngine(t, engine.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.Bulk(ctx, decodeBulk(t, request(0, user("u", "u", ""))))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Bulk with a canceled context: %v, want context.Canceled", err)
	}
}

func BenchmarkBulk(b *testing.B) {
	ops := []string{user("u", "u", ""), group("g", "G", "bulkId:u"),
		fmt.Sprintf(`{"method": "PATCH", "path": "/Users/bulkId:u", "data": {"schemas": [%q],
			"Operations": [{"op": "replace", "path": "displayName", "value": "U"}]}}`, scim.PatchOpSchema),
		`{"method": "DELETE", "path": "/Groups/bulkId:g"}`, `{"method": "DELETE", "path": "/Users/bulkId:u"}`}
	var req scim.BulkRequest
	if err := json.Unmarshal([]byte(request(0, ops...)), &req); err != nil {
		b.Fatal(err)
	}
	e := engine.New(memory.New(), engine.Options{})
	b.ReportAllocs()
	for b.Loop() {
		resp, err := e.Bulk(b.Context(), req)
		if err != nil || summary(resp) != "u:201 g:201 PATCH:200 DELETE:204 DELETE:204" {
			b.Fatalf("Bulk = %v, %v", summary(resp), err)
		}
	}
}

// FuzzBulk checks that no Bulk request makes the engine panic or answer a
// 5xx, for the request or any of its operations, and that every failed
// operation carries its SCIM Error.
func FuzzBulk(f *testing.F) {
	f.Add(request(0, user("u", "u", ""), group("g", "G", "bulkId:u")))
	f.Add(request(1, group("a", "A", "bulkId:b"), group("b", "B", "bulkId:a"), user("c", "", "")))
	f.Add(request(0, `{"method": "PATCH", "path": "/Users/bulkId:u", "data": {"Operations": [{"op": "add", "path": "title", "value": "bulkId:u"}]}}`,
		user("u", "u", `"emails": [{"value": "bulkId:u"}]`), `{"method": "DELETE", "path": "/Groups/bulkId:u", "version": "W/\"1\""}`))
	f.Add(`{"Operations": [{"method": "put", "path": "/users/x/", "data": null}, {"method": "POST", "path": "/", "bulkId": ""}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 8<<10 {
			return
		}
		var req scim.BulkRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return // the router rejects a body that does not decode
		}
		// Native and emulated PATCH, filter and ETags alike.
		for _, a := range []*memory.Adapter{memory.New(), memory.New(memory.WithoutNative(), memory.WithMaxPageSize(3))} {
			e := engine.New(a, engine.Options{BulkMaxOperations: 20})
			resp, err := e.Bulk(t.Context(), req)
			if err != nil {
				if se := scim.AsError(err); se.Status >= 500 {
					t.Fatalf("Bulk(%s): %v", body, err)
				}
				continue
			}
			for _, op := range resp.Operations {
				status, convErr := strconv.Atoi(op.Status)
				if convErr != nil || status < 200 || status >= 500 {
					t.Fatalf("Bulk(%s): operation status %q: %+v", body, op.Status, op)
				}
				if status >= 400 {
					if r, ok := op.Response.(map[string]any); !ok || r["status"] != op.Status {
						t.Fatalf("Bulk(%s): failed operation without its error: %+v", body, op)
					}
				}
			}
		}
	})
}
