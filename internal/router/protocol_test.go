package router_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func userJSON(userName string) string {
	return `{"schemas":["` + scim.UserSchema + `"],"userName":"` + userName + `"}`
}

// TestRequestBodies checks content types, size limits and malformed bodies
// on every route that reads a body.
func TestRequestBodies(t *testing.T) {
	f := newFixture(t) // MaxBodyBytes 4096
	uid, _ := f.createUser(t, memoryRoot, "bjensen")
	big := userJSON(strings.Repeat("x", 5000))
	patchBody := `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"replace","path":"displayName","value":"B"}]}`

	tests := []struct {
		name         string
		method, path string
		body         string
		contentType  string // "-" sends none
		chunked      bool   // hide the length, so the limit applies while reading
		want         int
		scimType     string
	}{
		{"scim+json", "POST", "/Users", userJSON("a1"), "application/scim+json", false, 201, ""},
		{"json", "POST", "/Users", userJSON("a2"), "application/json", false, 201, ""},
		{"json with charset", "POST", "/Users", userJSON("a3"), "application/json; charset=UTF-8", false, 201, ""},
		{"scim+json with charset", "POST", "/Users", userJSON("a4"), "application/scim+json;charset=utf-8", false, 201, ""},
		{"no content type", "POST", "/Users", userJSON("a5"), "-", false, 201, ""},
		{"text", "POST", "/Users", userJSON("a6"), "text/plain", false, 415, ""},
		{"form", "POST", "/Users", "userName=x", "application/x-www-form-urlencoded", false, 415, ""},
		{"latin-1", "POST", "/Users", userJSON("a7"), "application/json; charset=iso-8859-1", false, 415, ""},
		{"malformed media type", "POST", "/Users", userJSON("a8"), "application/", false, 415, ""},
		{"text on put", "PUT", "/Users/" + uid, userJSON("bjensen"), "text/plain", false, 415, ""},
		{"text on patch", "PATCH", "/Users/" + uid, patchBody, "text/xml", false, 415, ""},
		{"text on search", "POST", "/Users/.search", `{}`, "text/plain", false, 415, ""},
		{"text on bulk", "POST", "/Bulk", `{}`, "text/plain", false, 415, ""},

		{"too large", "POST", "/Users", big, "", false, 413, ""},
		{"too large chunked", "POST", "/Users", big, "", true, 413, ""},
		{"too large put", "PUT", "/Users/" + uid, big, "", true, 413, ""},
		{"too large search", "POST", "/.search", big, "", false, 413, ""},

		{"malformed", "POST", "/Users", `{"userName": `, "", false, 400, "invalidSyntax"},
		{"not an object", "POST", "/Users", `["userName"]`, "", false, 400, "invalidSyntax"},
		{"a string", "POST", "/Users", `"bjensen"`, "", false, 400, "invalidSyntax"},
		{"null", "POST", "/Users", `null`, "", false, 400, "invalidSyntax"},
		{"trailing data", "POST", "/Users", userJSON("a9") + `{}`, "", false, 400, "invalidSyntax"},
		{"empty", "POST", "/Users", ` `, "", false, 400, "invalidSyntax"},
		{"malformed put", "PUT", "/Users/" + uid, `{`, "", false, 400, "invalidSyntax"},
		{"malformed patch", "PATCH", "/Users/" + uid, `{"Operations": [`, "", false, 400, "invalidSyntax"},
		{"malformed search", "POST", "/.search", `{"schemas": }`, "", false, 400, "invalidSyntax"},
		{"search count not a number", "POST", "/Users/.search",
			`{"schemas":["` + scim.SearchRequestSchema + `"],"count":"ten"}`, "", false, 400, "invalidValue"},
		{"search attributes not strings", "POST", "/Users/.search",
			`{"schemas":["` + scim.SearchRequestSchema + `"],"attributes":[1]}`, "", false, 400, "invalidValue"},
		{"malformed bulk", "POST", "/Bulk", `{"Operations": [}`, "", false, 400, "invalidSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				body = struct{ io.Reader }{body} // unknown length: sent chunked
			}
			hr, err := http.NewRequestWithContext(t.Context(), tt.method, f.url+memoryRoot+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			hr.Header.Set("Authorization", "Bearer "+adminToken)
			switch tt.contentType {
			case "":
				hr.Header.Set("Content-Type", "application/scim+json")
			case "-":
			default:
				hr.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := f.client.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			r := response{status: resp.StatusCode, header: resp.Header, body: b}
			if tt.want < 400 {
				if r.status != tt.want {
					t.Fatalf("status = %d, want %d\n%s", r.status, tt.want, r.body)
				}
				return
			}
			checkError(t, r, tt.want, tt.scimType)
		})
	}
}

// TestETags covers ETag on every single-resource response and the
// conditional requests of RFC 7644 §3.14 / RFC 7232, on a store that checks
// versions itself and on one whose checks the engine emulates.
func TestETags(t *testing.T) {
	for _, root := range []string{memoryRoot, "/targets/emulated/scim/v2"} {
		t.Run(strings.Split(root, "/")[2], func(t *testing.T) { testETags(t, root) })
	}
}

func testETags(t *testing.T, memoryRoot string) {
	f := newFixture(t)
	uid, v1 := f.createUser(t, memoryRoot, "bjensen")
	if !strings.HasPrefix(v1, `W/"`) {
		t.Fatalf("ETag on create = %q, want a weak tag", v1)
	}
	path := memoryRoot + "/Users/" + uid
	strong := strings.TrimPrefix(v1, "W/")
	get := func(h map[string]string) response {
		return f.do(t, req{method: "GET", path: path, token: adminToken, header: h})
	}

	r := f.mustDo(t, req{method: "GET", path: path, token: adminToken}, 200)
	if got, want := r.header.Get("ETag"), str(r.json(t), "meta.version"); got != want || got != v1 {
		t.Fatalf("GET ETag = %q, meta.version = %q, want both %q", got, want, v1)
	}

	for _, tt := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"if-none-match same", map[string]string{"If-None-Match": v1}, 304},
		{"if-none-match strong form", map[string]string{"If-None-Match": strong}, 304},
		{"if-none-match star", map[string]string{"If-None-Match": "*"}, 304},
		{"if-none-match list", map[string]string{"If-None-Match": `W/"zz", ` + v1}, 304},
		{"if-none-match other", map[string]string{"If-None-Match": `W/"zz"`}, 200},
		{"if-match same", map[string]string{"If-Match": v1}, 200},
		{"if-match other", map[string]string{"If-Match": `W/"zz"`}, 412},
		{"if-match star", map[string]string{"If-Match": "*"}, 200},
		{"if-match fails before if-none-match", map[string]string{"If-Match": `W/"zz"`, "If-None-Match": v1}, 412},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(tt.header)
			if r.status != tt.want {
				t.Fatalf("status = %d, want %d\n%s", r.status, tt.want, r.body)
			}
			switch tt.want {
			case 304:
				if len(r.body) != 0 || r.header.Get("ETag") != v1 {
					t.Errorf("304: body %q, ETag %q; want no body and ETag %q", r.body, r.header.Get("ETag"), v1)
				}
			case 412:
				checkError(t, r, 412, "")
				if r.header.Get("ETag") != "" {
					t.Errorf("412 carries ETag %q", r.header.Get("ETag"))
				}
			}
		})
	}

	t.Run("writes", func(t *testing.T) {
		// A stale If-Match fails every write and changes nothing.
		stale := `W/"stale"`
		put := req{method: "PUT", path: path, token: adminToken, body: `{"schemas":["` + scim.UserSchema + `"],"userName":"bjensen","displayName":"B"}`,
			header: map[string]string{"If-Match": stale}}
		checkError(t, f.do(t, put), 412, "")
		patchOp := req{method: "PATCH", path: path, token: adminToken,
			body:   `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"replace","path":"displayName","value":"P"}]}`,
			header: map[string]string{"If-Match": stale}}
		checkError(t, f.do(t, patchOp), 412, "")
		del := req{method: "DELETE", path: path, token: adminToken, header: map[string]string{"If-Match": stale}}
		checkError(t, f.do(t, del), 412, "")
		checkError(t, f.do(t, req{method: "DELETE", path: path, token: adminToken,
			header: map[string]string{"If-Match": `W/"a", W/"b"`}}), 412, "")

		// The current version, weak or strong, lets a PUT through; the new
		// ETag is the new meta.version.
		put.header["If-Match"] = strong
		r := f.mustDo(t, put, 200)
		v2 := r.header.Get("ETag")
		if v2 == "" || v2 == v1 || v2 != str(r.json(t), "meta.version") {
			t.Fatalf("PUT ETag = %q (was %q), meta.version %q", v2, v1, str(r.json(t), "meta.version"))
		}
		// A list of tags that holds the current one lets a PATCH through.
		patchOp.header["If-Match"] = `W/"old", ` + v2
		r = f.mustDo(t, patchOp, 200)
		v3 := r.header.Get("ETag")
		if v3 == "" || v3 == v2 {
			t.Fatalf("PATCH ETag = %q, want a new version after %q", v3, v2)
		}
		// The version that PUT replaced no longer matches.
		del.header["If-Match"] = v2
		checkError(t, f.do(t, del), 412, "")
		del.header["If-Match"] = v3
		f.mustDo(t, del, 204)
		// If-Match: * on a resource that is gone is a 404 (RFC 7232 §5: the
		// precondition is ignored when the request fails anyway).
		del.header["If-Match"] = "*"
		checkError(t, f.do(t, del), 404, "")
	})

	t.Run("projected", func(t *testing.T) {
		id, v := f.createUser(t, memoryRoot, "projected")
		for _, q := range []string{"attributes=userName", "excludedAttributes=meta", "excludedAttributes=meta.version"} {
			r := f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users/" + id + "?" + q, token: adminToken}, 200)
			if got := r.header.Get("ETag"); got != v {
				t.Errorf("?%s: ETag = %q, want %q although the body leaves out meta.version", q, got, v)
			}
			if str(r.json(t), "meta.version") != "" {
				t.Errorf("?%s: meta.version returned: %s", q, r.body)
			}
			r = f.do(t, req{method: "GET", path: memoryRoot + "/Users/" + id + "?" + q, token: adminToken,
				header: map[string]string{"If-None-Match": v}})
			if r.status != 304 {
				t.Errorf("?%s with If-None-Match = %d, want 304", q, r.status)
			}
		}
	})
}

// TestLocations checks Location, meta.location and Bulk locations: absolute,
// canonical, built on the configured public URL.
func TestLocations(t *testing.T) {
	f := newFixture(t)
	r := f.mustDo(t, req{method: "POST", path: memoryRoot + "/Users", token: adminToken, body: userJSON("bjensen")}, 201)
	id := str(r.json(t), "id")
	want := publicURL + memoryRoot + "/Users/" + id
	if got := r.header.Get("Location"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := str(r.json(t), "meta.location"); got != want {
		t.Errorf("meta.location = %q, want %q", got, want)
	}
	if got := r.header.Get("ETag"); got == "" || got != str(r.json(t), "meta.version") {
		t.Errorf("create ETag = %q, meta.version %q", got, str(r.json(t), "meta.version"))
	}

	// Through /scim/v2 the location is still the canonical one.
	r = f.mustDo(t, req{method: "POST", path: "/scim/v2/Users", token: adminToken, body: userJSON("viadefault")}, 201)
	id2 := str(r.json(t), "id")
	if got, want := r.header.Get("Location"), publicURL+memoryRoot+"/Users/"+id2; got != want {
		t.Errorf("Location via /scim/v2 = %q, want %q", got, want)
	}
	r = f.mustDo(t, req{method: "GET", path: "/scim/v2/Users/" + id, token: adminToken}, 200)
	if got := str(r.json(t), "meta.location"); got != want {
		t.Errorf("GET via /scim/v2 meta.location = %q, want %q", got, want)
	}

	// Every resource of a list, also across resource types.
	gid, _ := f.createGroup(t, memoryRoot, "Admins", id)
	for _, path := range []string{"/Users", "/Groups", "/"} {
		r = f.mustDo(t, req{method: "GET", path: memoryRoot + path, token: adminToken}, 200)
		var list struct{ Resources []map[string]any }
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Resources) == 0 {
			t.Fatalf("GET %s: no resources", path)
		}
		for _, res := range list.Resources {
			endpoint := "/Users/"
			if str(res, "meta.resourceType") == "Group" {
				endpoint = "/Groups/"
			}
			if got, want := str(res, "meta.location"), publicURL+memoryRoot+endpoint+str(res, "id"); got != want {
				t.Errorf("GET %s: meta.location = %q, want %q", path, got, want)
			}
		}
	}

	// Projection: meta.location only when asked for.
	r = f.mustDo(t, req{method: "GET", path: memoryRoot + "/Groups/" + gid + "?attributes=meta.created", token: adminToken}, 200)
	if meta, _ := r.json(t)["meta"].(map[string]any); len(meta) != 1 || meta["created"] == nil {
		t.Errorf("attributes=meta.created: meta = %v, want only created", meta)
	}
	r = f.mustDo(t, req{method: "GET", path: memoryRoot + "/Groups/" + gid + "?attributes=displayName", token: adminToken}, 200)
	if _, has := r.json(t)["meta"]; has {
		t.Errorf("attributes=displayName returned meta: %s", r.body)
	}

	// Without a configured public URL the request's own host is used.
	local := newFixture(t, func(c *router.Config) { c.PublicURL = "" })
	r = local.mustDo(t, req{method: "POST", path: memoryRoot + "/Users", token: adminToken, body: userJSON("local")}, 201)
	if got, want := r.header.Get("Location"), local.url+memoryRoot+"/Users/"+str(r.json(t), "id"); got != want {
		t.Errorf("derived Location = %q, want %q", got, want)
	}
}

// TestQueries checks that query parameters and .search bodies reach the
// engine, and that bad ones are 400s.
func TestQueries(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		f.createUser(t, memoryRoot, n)
	}
	f.createGroup(t, memoryRoot, "Admins")
	search := func(body string) string {
		return `{"schemas":["` + scim.SearchRequestSchema + `"]` + body + `}`
	}
	tests := []struct {
		name, method, path, body string
		wantTotal                int
		wantNames                []string // userName of the resources, in order; nil: not checked
		wantStatus               int
		wantScimType             string
	}{
		{"all", "GET", "/Users", "", 4, nil, 200, ""},
		{"filter", "GET", `/Users?filter=userName%20eq%20%22bob%22`, "", 1, []string{"bob"}, 200, ""},
		{"sort descending", "GET", "/Users?sortBy=userName&sortOrder=descending", "", 4, []string{"dave", "carol", "bob", "alice"}, 200, ""},
		{"sort order any case", "GET", "/Users?sortBy=userName&sortOrder=Descending", "", 4, []string{"dave", "carol", "bob", "alice"}, 200, ""},
		{"page", "GET", "/Users?sortBy=userName&startIndex=2&count=2", "", 4, []string{"bob", "carol"}, 200, ""},
		{"start below one", "GET", "/Users?sortBy=userName&startIndex=-3&count=1", "", 4, []string{"alice"}, 200, ""},
		{"count zero", "GET", "/Users?count=0", "", 4, []string{}, 200, ""},
		{"negative count", "GET", "/Users?count=-1", "", 4, []string{}, 200, ""},
		{"attributes", "GET", "/Users?filter=userName%20eq%20%22carol%22&attributes=userName", "", 1, []string{"carol"}, 200, ""},
		{"root", "GET", "/", "", 5, nil, 200, ""},
		{"search", "POST", "/Users/.search", search(`,"filter":"userName sw \"c\"","sortBy":"userName"`), 1, []string{"carol"}, 200, ""},
		{"search page", "POST", "/Users/.search", search(`,"sortBy":"userName","sortOrder":"descending","startIndex":1,"count":2`), 4, []string{"dave", "carol"}, 200, ""},
		{"search attributes array", "POST", "/Users/.search", search(`,"filter":"userName eq \"dave\"","attributes":["userName"]`), 1, []string{"dave"}, 200, ""},
		{"search attributes string", "POST", "/Users/.search", search(`,"filter":"userName eq \"dave\"","excludedAttributes":"displayName, emails"`), 1, []string{"dave"}, 200, ""},
		{"root search", "POST", "/.search", search(`,"filter":"displayName eq \"Admins\""`), 1, nil, 200, ""},

		{"bad start", "GET", "/Users?startIndex=one", "", 0, nil, 400, "invalidValue"},
		{"bad count", "GET", "/Users?count=1.5", "", 0, nil, 400, "invalidValue"},
		{"bad sort order", "GET", "/Users?sortOrder=up", "", 0, nil, 400, "invalidValue"},
		{"bad filter", "GET", "/Users?filter=userName%20xx%20%22a%22", "", 0, nil, 400, "invalidFilter"},
		{"search without schemas", "POST", "/Users/.search", `{"filter":"userName eq \"a\""}`, 0, nil, 400, "invalidSyntax"},
		{"search wrong schema", "POST", "/.search", `{"schemas":["` + scim.PatchOpSchema + `"]}`, 0, nil, 400, "invalidSyntax"},
		{"search bad sort order", "POST", "/Users/.search", search(`,"sortOrder":"sideways"`), 0, nil, 400, "invalidValue"},
		{"search bad filter", "POST", "/Users/.search", search(`,"filter":"userName eq"`), 0, nil, 400, "invalidFilter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, req{method: tt.method, path: memoryRoot + tt.path, token: adminToken, body: tt.body})
			if tt.wantStatus != 200 {
				checkError(t, r, tt.wantStatus, tt.wantScimType)
				return
			}
			if r.status != 200 {
				t.Fatalf("status = %d\n%s", r.status, r.body)
			}
			var list struct {
				Schemas      []string
				TotalResults int
				Resources    []map[string]any
			}
			if err := json.Unmarshal(r.body, &list); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(list.Schemas, []string{scim.ListResponseSchema}) {
				t.Errorf("schemas = %v", list.Schemas)
			}
			if list.TotalResults != tt.wantTotal {
				t.Errorf("totalResults = %d, want %d", list.TotalResults, tt.wantTotal)
			}
			if tt.wantNames != nil {
				names := []string{}
				for _, res := range list.Resources {
					names = append(names, str(res, "userName"))
				}
				if !slices.Equal(names, tt.wantNames) {
					t.Errorf("userNames = %v, want %v", names, tt.wantNames)
				}
			}
			if strings.Contains(tt.path, "attributes=userName") || strings.Contains(tt.body, `"attributes":["userName"]`) {
				for _, res := range list.Resources {
					if _, has := res["displayName"]; has {
						t.Errorf("attributes=userName returned displayName: %v", res)
					}
				}
			}
		})
	}
}

// TestBulk checks the Bulk route: absolute locations, bulkId references,
// maxPayloadSize and maxOperations as 413s, and its own body limit.
func TestBulk(t *testing.T) {
	f := newFixture(t) // MaxBodyBytes 4096; memory's Bulk limit is the default 1 MiB
	bulk := func(ops ...string) string {
		return `{"schemas":["` + scim.BulkRequestSchema + `"],"Operations":[` + strings.Join(ops, ",") + `]}`
	}
	postUser := func(bulkID, userName string) string {
		return fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":%q,"data":{"schemas":[%q],"userName":%q}}`, bulkID, scim.UserSchema, userName)
	}
	postGroup := `{"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["` + scim.GroupSchema + `"],"displayName":"Team","members":[{"value":"bulkId:u1"}]}}`

	r := f.mustDo(t, req{method: "POST", path: memoryRoot + "/Bulk", token: adminToken, body: bulk(postGroup, postUser("u1", "bulk1"))}, 200)
	var resp scim.BulkResponse
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resp.Schemas, []string{scim.BulkResponseSchema}) || len(resp.Operations) != 2 {
		t.Fatalf("bulk response: %s", r.body)
	}
	for _, op := range resp.Operations {
		if op.Status != "201" {
			t.Errorf("%s: status %q, want 201\n%s", op.BulkID, op.Status, r.body)
		}
		prefix := publicURL + memoryRoot + "/Users/"
		if op.BulkID == "g1" {
			prefix = publicURL + memoryRoot + "/Groups/"
		}
		if !strings.HasPrefix(op.Location, prefix) || len(op.Location) == len(prefix) {
			t.Errorf("%s: location %q, want %s{id}", op.BulkID, op.Location, prefix)
		}
		// The location answers.
		path := strings.TrimPrefix(op.Location, publicURL)
		f.mustDo(t, req{method: "GET", path: path, token: adminToken}, 200)
	}

	// Bulk bodies are bounded by maxPayloadSize, not MaxBodyBytes.
	long := postUser("u2", strings.Repeat("l", 5000))
	f.mustDo(t, req{method: "POST", path: memoryRoot + "/Bulk", token: adminToken, body: bulk(long)}, 200)

	small := "/targets/small/scim/v2/Bulk"
	tests := []struct {
		name, body string
		want       int
		detail     string
	}{
		{"payload too large", bulk(postUser("a", strings.Repeat("x", 2100))), 413, "maxPayloadSize (2048)"},
		{"too many operations", bulk(postUser("a", "a"), postUser("b", "b"), postUser("c", "c")), 413, "maxOperations (2)"},
		{"within limits", bulk(postUser("a", "a"), postUser("b", "b")), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, req{method: "POST", path: small, token: adminToken, body: tt.body})
			if tt.want == 200 {
				if r.status != 200 {
					t.Fatalf("status = %d\n%s", r.status, r.body)
				}
				return
			}
			checkError(t, r, tt.want, "")
			if d := str(r.json(t), "detail"); !strings.Contains(d, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d, tt.detail)
			}
		})
	}
}

// TestErrorsFromBelow checks how the router renders what the engine and
// adapter fail with: a panic, a 503 with Retry-After, and an error that is
// not a *scim.Error.
func TestErrorsFromBelow(t *testing.T) {
	f := newFixture(t)
	root := "/targets/faulty/scim/v2/Users/"

	r := f.do(t, req{method: "GET", path: root + "panic", token: adminToken})
	checkError(t, r, 500, "")
	if d := str(r.json(t), "detail"); d != "internal error" {
		t.Errorf("panic detail = %q, want the fixed %q", d, "internal error")
	}
	// Still serving after the panic.
	checkError(t, f.do(t, req{method: "GET", path: root + "missing", token: adminToken}), 404, "")

	r = f.do(t, req{method: "GET", path: root + "unavailable", token: adminToken})
	checkError(t, r, 503, "")
	if got := r.header.Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want 7", got)
	}

	r = f.do(t, req{method: "GET", path: root + "vendor", token: adminToken})
	checkError(t, r, 500, "")
	if strings.Contains(string(r.body), "secret") {
		t.Errorf("500 body leaks the cause: %s", r.body)
	}

	// Each request is logged once; the panic with its stack, the 500 with
	// its cause.
	lines := logLines(t, f.logs.String())
	var panics, vendor int
	for _, l := range lines {
		if l["stack"] != nil {
			panics++
			if l["status"] != float64(500) || !strings.Contains(fmt.Sprint(l["error"]), "scripted panic") {
				t.Errorf("panic line: %v", l)
			}
		}
		if strings.Contains(fmt.Sprint(l["error"]), "secret internal detail") {
			vendor++
		}
	}
	if panics != 1 || vendor != 1 || len(lines) != 4 {
		t.Errorf("got %d log lines, %d with a stack, %d with the vendor cause; want 4, 1, 1:\n%s", len(lines), panics, vendor, f.logs)
	}
}

func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLog checks the one line per request and the request id.
func TestAccessLog(t *testing.T) {
	f := newFixture(t)
	uid, _ := f.createUser(t, memoryRoot, "bjensen")
	before := len(logLines(t, f.logs.String()))

	r := f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users/" + uid, token: adminToken,
		header: map[string]string{"X-Request-Id": "req-42"}}, 200)
	if got := r.header.Get("X-Request-Id"); got != "req-42" {
		t.Errorf("X-Request-Id = %q, want the caller's req-42", got)
	}
	lines := logLines(t, f.logs.String())
	if len(lines) != before+1 {
		t.Fatalf("%d new log lines, want 1", len(lines)-before)
	}
	l := lines[len(lines)-1]
	want := map[string]any{
		"msg": "request", "level": "INFO", "method": "GET", "route": "/targets/{target}/scim/v2/{endpoint}/{id}",
		"status": float64(200), "target": "memory", "subject": "admin", "request_id": "req-42",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["duration"].(float64); !ok {
		t.Errorf("log has no duration: %v", l)
	}
	if strings.Contains(f.logs.String(), uid) || strings.Contains(f.logs.String(), "bjensen") {
		t.Errorf("log holds a resource id or attribute: %s", f.logs)
	}

	for _, bad := range []string{"", "has space", strings.Repeat("x", 200), "quote\"d"} {
		r := f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken,
			header: map[string]string{"X-Request-Id": bad}}, 200)
		if got := r.header.Get("X-Request-Id"); len(got) != 32 || got == bad {
			t.Errorf("X-Request-Id %q answered with %q, want a new 32-hex id", bad, got)
		}
	}

	// The error of a 4xx is logged with its scimType, without its detail.
	f.mustDo(t, req{method: "POST", path: memoryRoot + "/Users", token: adminToken, body: `{`}, 400)
	lines = logLines(t, f.logs.String())
	if l := lines[len(lines)-1]; l["scim_type"] != "invalidSyntax" || l["status"] != float64(400) || l["error"] != nil {
		t.Errorf("4xx log line = %v", l)
	}
}
