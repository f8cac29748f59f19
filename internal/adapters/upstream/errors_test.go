package upstream

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// standard declares User and Group with nothing native, so that New does no
// discovery.
var standard = adapters.Capabilities{ResourceTypes: []*scim.ResourceType{scim.UserType, scim.GroupType}}

// answer is one canned upstream answer.
type answer struct {
	status int
	header map[string]string
	body   string
}

// cannedAdapter returns an Adapter whose upstream gives ans to every
// request. It uses the outbound client's own transport, which follows no
// redirect, as in production.
func cannedAdapter(t *testing.T, ans answer) *Adapter {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range ans.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ans.status)
		_, _ = w.Write([]byte(ans.body))
	}))
	t.Cleanup(srv.Close)
	a, err := New(t.Context(), srv.URL+"/scim/v2", outbound.StaticToken(testToken), WithCapabilities(standard),
		WithOutboundOptions(outbound.WithRetry(outbound.RetryPolicy{Base: 1, Max: 2}),
			outbound.WithBreaker(outbound.BreakerPolicy{Failures: -1})))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func scimError(status, scimType, detail string) string {
	s := `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "` + status + `"`
	if scimType != "" {
		s += `, "scimType": "` + scimType + `"`
	}
	return s + `, "detail": "` + detail + `"}`
}

var (
	scimJSON = map[string]string{"Content-Type": "application/scim+json"}
	html     = map[string]string{"Content-Type": "text/html; charset=utf-8"}
)

// TestErrorMapping checks what each upstream answer becomes, for a Get (a
// resource id is known) and a List (none is).
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		ans        answer
		list       bool
		status     int
		scimType   scim.ScimType
		detail     string // substring
		retryAfter int
	}{
		{"not found", answer{404, scimJSON, scimError("404", "", "Resource u1 not found")}, false, 404, "", `User "u1" not found`, 0},
		{"not found empty", answer{404, nil, ""}, false, 404, "", `User "u1" not found`, 0},
		{"list not served", answer{404, html, "<h1>no</h1>"}, true, 502, "", "the upstream does not serve /Users (404)", 0},
		{"bad request", answer{400, scimJSON, scimError("400", "invalidFilter", "bad filter")}, true, 400, scim.InvalidFilter, "bad filter", 0},
		{"numeric status", answer{400, nil, `{"status": 400, "detail": "numeric"}`}, false, 400, "", "numeric", 0},
		{"unknown scimType dropped", answer{400, scimJSON, scimError("400", "madeUp", "x")}, false, 400, "", "x", 0},
		{"conflict", answer{409, scimJSON, scimError("409", "uniqueness", "userName taken")}, false, 409, scim.Uniqueness, "userName taken", 0},
		{"conflict bare", answer{409, nil, ""}, false, 409, scim.Uniqueness, "conflicts with an existing resource", 0},
		{"precondition", answer{412, scimJSON, scimError("412", "", "version mismatch")}, false, 412, "", `User "u1" was modified`, 0},
		{"rate limited", answer{429, map[string]string{"Retry-After": "120"}, ""}, false, 429, "", "rate limit", 120},
		{"rate limited scim", answer{429, map[string]string{"Retry-After": "90", "Content-Type": "application/scim+json"},
			scimError("429", "", "slow down")}, true, 429, "", "slow down", 90},
		{"unavailable", answer{503, map[string]string{"Retry-After": "300"}, "<html>down</html>"}, false, 503, "", "unavailable", 300},
		{"unauthorized", answer{401, scimJSON, scimError("401", "", "bad token")}, false, 502, "", "refused the gateway's credentials (401)", 0},
		{"forbidden html", answer{403, html, "<html>WAF</html>"}, false, 502, "", "refused the gateway's credentials (403)", 0},
		{"forbidden scim", answer{403, scimJSON, scimError("403", "", "read only org")}, false, 403, "", "read only org", 0},
		{"not implemented", answer{501, scimJSON, scimError("501", "", "no sorting")}, true, 501, "", "no sorting", 0},
		{"server error", answer{500, scimJSON, scimError("500", "", "boom")}, false, 502, "", "the upstream failed (500): boom", 0},
		{"server error html", answer{500, html, "<html>trace</html>"}, false, 502, "", "the upstream failed (500)", 0},
		{"gateway timeout", answer{504, nil, ""}, false, 504, "", "timed out", 0},
		{"html 400", answer{400, html, "<html>bad</html>"}, false, 502, "", "answered 400 with a body that is not a SCIM error (text/html)", 0},
		{"json not scim 400", answer{400, map[string]string{"Content-Type": "application/json"}, `{"error": "x"}`}, false, 502, "",
			"not a SCIM error (application/json)", 0},
		{"redirect", answer{302, map[string]string{"Location": "https://elsewhere.example.com/"}, ""}, false, 502, "", "unexpected status 302", 0},
		{"ok html", answer{200, html, "<html>login</html>"}, false, 502, "", "with a body that is not a SCIM resource", 0},
		{"ok without id", answer{200, scimJSON, `{"userName": "x"}`}, false, 502, "", "a resource without an id", 0},
		{"ok list not a list", answer{200, scimJSON, `[1, 2]`}, true, 502, "", "not a SCIM ListResponse", 0},
		{"ok list bad member", answer{200, scimJSON, `{"totalResults": 1, "Resources": [{"userName": "x"}]}`}, true, 502, "",
			"a ListResponse with a resource without an id", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := cannedAdapter(t, tt.ans)
			var err error
			if tt.list {
				_, err = a.List(t.Context(), scim.UserType, adapters.Query{StartIndex: 1, Count: 10})
			} else {
				_, err = a.Get(t.Context(), scim.UserType, "u1")
			}
			var se *scim.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *scim.Error", err, err)
			}
			if se.Status != tt.status || se.ScimType != tt.scimType || !strings.Contains(se.Detail, tt.detail) || se.RetryAfter != tt.retryAfter {
				t.Errorf("error = %d %q %q retryAfter %d, want %d %q %q retryAfter %d",
					se.Status, se.ScimType, se.Detail, se.RetryAfter, tt.status, tt.scimType, tt.detail, tt.retryAfter)
			}
			if tt.status == 404 && !errors.Is(err, scim.ErrNotFound) {
				t.Errorf("errors.Is(%v, scim.ErrNotFound) = false", err)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(se.Detail, "<html>") {
				t.Errorf("error %q echoes the token or the upstream's page", err)
			}
		})
	}
}

// TestErrorDetailCleaned checks that an upstream detail reaches a caller
// without control characters and bounded in size.
func TestErrorDetailCleaned(t *testing.T) {
	long := strings.Repeat("é", 400) // 800 bytes
	a := cannedAdapter(t, answer{400, scimJSON, scimError("400", "invalidValue", `line1\nline2\u0000 `+long)})
	_, err := a.Get(t.Context(), scim.UserType, "u1")
	se := scim.AsError(err)
	if strings.ContainsAny(se.Detail, "\n\x00") || len(se.Detail) > maxDetail+len("…") || !strings.HasPrefix(se.Detail, "line1 line2") {
		t.Errorf("detail %q (%d bytes), want it cleaned and cut to %d bytes", se.Detail, len(se.Detail), maxDetail)
	}
}

// recorder keeps what the upstream received.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Clone(r.Context()))
		rec.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// last returns the last request with method.
func (rec *recorder) last(method string) *http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.reqs) - 1; i >= 0; i-- {
		if rec.reqs[i].Method == method {
			return rec.reqs[i]
		}
	}
	return nil
}

// TestRealUpstreamErrors maps the errors of a real SCIM server: the
// gateway's own, over loopback.
func TestRealUpstreamErrors(t *testing.T) {
	u := newUpstream(t, nil)
	a := u.adapter(t)
	ctx := t.Context()
	users := a.Capabilities().ResourceTypes[0]

	_, err := a.Get(ctx, users, "does-not-exist")
	if !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get missing: %v, want a 404", err)
	}
	if err := a.Delete(ctx, users, "does-not-exist", ""); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Delete missing: %v, want a 404", err)
	}
	// Ids that could name another path stay ids.
	for _, id := range []string{"", ".", "..", "../Groups", "a/b", "x?filter=y", "%2e%2e", "#", "ü"} {
		if _, err := a.Get(ctx, users, id); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("Get %q: %v, want a 404", id, err)
		}
		if err := a.Delete(ctx, users, id, ""); !errors.Is(err, scim.ErrNotFound) {
			t.Errorf("Delete %q: %v, want a 404", id, err)
		}
	}
	bj, err := a.Create(ctx, users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Create(ctx, users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "BJensen"})
	if se := scim.AsError(err); se.Status != http.StatusConflict || se.ScimType != scim.Uniqueness {
		t.Errorf("Create duplicate: %v, want 409 uniqueness", err)
	}
	_, err = a.Replace(ctx, users, bj.ID(), bj, `W/"stale"`)
	if !errors.Is(err, scim.ErrPreconditionFailed) {
		t.Errorf("Replace stale: %v, want 412", err)
	}
	if err := a.Delete(ctx, users, bj.ID(), `W/"stale"`); !errors.Is(err, scim.ErrPreconditionFailed) {
		t.Errorf("Delete stale: %v, want 412", err)
	}
	_, err = a.Patch(ctx, users, bj.ID(), []scim.PatchOp{{Op: "add", Path: "nickName", Value: "b"}}, `W/"stale"`)
	if !errors.Is(err, scim.ErrPreconditionFailed) {
		t.Errorf("Patch stale: %v, want 412", err)
	}

	// The wrong credential: the gateway's problem, not the caller's.
	wrong, err := New(ctx, u.base, outbound.StaticToken("wrong-token"), u.client(), WithCapabilities(standard))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Get(ctx, users, bj.ID())
	if se := scim.AsError(err); se.Status != http.StatusBadGateway || !strings.Contains(se.Detail, "credentials (401)") ||
		strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("Get with a wrong token: %v, want a 502 naming the refused credentials", err)
	}
}

// TestRequests checks what the adapter sends: the bearer token, SCIM media
// types, If-Match, and list parameters with core attributes unqualified.
func TestRequests(t *testing.T) {
	var rec recorder
	u := newUpstream(t, rec.wrap)
	a := u.adapter(t)
	ctx := t.Context()
	users := a.Capabilities().ResourceTypes[0]
	bj, err := a.Create(ctx, users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	if bj, err = a.Replace(ctx, users, bj.ID(), bj, bj.Version()); err != nil {
		t.Fatal(err)
	}
	if bj, err = a.Patch(ctx, users, bj.ID(), []scim.PatchOp{{Op: "add", Path: "nickName", Value: "b"}}, bj.Version()); err != nil {
		t.Fatal(err)
	}
	e := mustFilter(t, users, `userName eq "bjensen" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr`)
	sortBy, _, _, _ := users.Resolve(scim.ParsePath("name.familyName"))
	p, err := a.List(ctx, users, adapters.Query{Filter: e, SortBy: sortBy, Descending: true, StartIndex: 3, Count: 500})
	if err != nil || p.TotalResults != 0 {
		t.Fatalf("List: %+v, %v", p, err)
	}
	if err := a.Delete(ctx, users, bj.ID(), bj.Version()); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	for _, r := range rec.reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("%s %s: Authorization %q, want the bearer token", r.Method, r.URL.Path, got)
		}
		if got := r.Header.Get("Accept"); !strings.HasPrefix(got, "application/scim+json") {
			t.Errorf("%s %s: Accept %q, want application/scim+json first", r.Method, r.URL.Path, got)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodDelete && r.Header.Get("Content-Type") != "application/scim+json" {
			t.Errorf("%s %s: Content-Type %q, want application/scim+json", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
	}
	rec.mu.Unlock()
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if r := rec.last(m); r == nil || r.Header.Get("If-Match") == "" || r.URL.Path != "/targets/m/scim/v2/Users/"+bj.ID() {
			t.Errorf("%s: %v, want one to /Users/{id} with If-Match", m, r)
		}
	}
	// An upstream without ETags is sent no If-Match: the engine checks.
	noETag, err := New(ctx, u.base, outbound.StaticToken(testToken), u.client(), WithCapabilities(standard))
	if err != nil {
		t.Fatal(err)
	}
	bj, err = noETag.Create(ctx, users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = noETag.Replace(ctx, users, bj.ID(), bj, bj.Version()); err != nil {
		t.Fatal(err)
	}
	if r := rec.last(http.MethodPut); r == nil || r.Header.Get("If-Match") != "" {
		t.Errorf("PUT without ETag support: %v, want no If-Match", r)
	}
	if r := rec.last(http.MethodPost); r == nil || r.Header.Get("If-Match") != "" || r.URL.Path != "/targets/m/scim/v2/Users" {
		t.Errorf("POST: %v, want one to /Users without If-Match", r)
	}
	q := rec.last(http.MethodGet).URL.Query()
	want := map[string]string{
		"filter":     `userName eq "bjensen" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr`,
		"sortBy":     "name.familyName",
		"sortOrder":  "descending",
		"startIndex": "3",
		"count":      "20", // the discovered page limit
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("list query %s = %q, want %q", k, q.Get(k), v)
		}
	}
}

// TestTokenNotEchoed checks that an upstream that quotes the credential it
// was sent does not get it to a caller, nor into Open's error.
func TestTokenNotEchoed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusBadRequest
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			status = http.StatusUnauthorized
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(scimError("400", "invalidValue", "refused "+r.Header.Get("Authorization"))))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("UPSTREAM_TEST_TOKEN", testToken)
	c := &Config{BaseURL: srv.URL, TokenEnv: "UPSTREAM_TEST_TOKEN"}
	_, err := c.Open(t.Context())
	if err == nil || strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "refused Bearer [redacted]") {
		t.Errorf("Open() error %v, want the upstream's detail with the token redacted", err)
	}
	c = &Config{BaseURL: srv.URL, TokenEnv: "UPSTREAM_TEST_TOKEN", Capabilities: &CapabilitiesConfig{ResourceTypes: []string{"User"}}}
	a, err := c.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Get(t.Context(), scim.UserType, "u1")
	if se := scim.AsError(err); se.Status != http.StatusBadRequest || se.Detail != "refused Bearer [redacted]" {
		t.Errorf("Get error %v, want the 400 with the token redacted", err)
	}
}
