package webex_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// open returns an adapter for a fresh simulator over loopback HTTP, with a
// static token, and the log of what the vendor received and answered.
func open(t testing.TB, simOpts []webextest.Option, opts ...webex.Option) (*webex.Adapter, *vendor) {
	t.Helper()
	v := newVendor(t, simOpts...)
	a, err := webex.New(v.URL, v.OrgID(), outbound.StaticToken(v.IssueToken()),
		[]outbound.Option{outbound.WithHTTPClient(v.Client())}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, v
}

// vendor is the simulator behind a loopback server that logs each
// exchange, so tests see the status the adapter got too.
type vendor struct {
	*webextest.Sim
	*httptest.Server
	mu  sync.Mutex
	log []*exchange
}

// exchange is one request the vendor got, logged as it arrives; Status is
// set when the answer is written, and stays 0 for a dropped connection.
type exchange struct {
	Method, Path string
	Query        url.Values
	Body         []byte
	Status       int
}

func newVendor(t testing.TB, opts ...webextest.Option) *vendor {
	v := &vendor{Sim: webextest.New(opts...)}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		sw := &statusWriter{ResponseWriter: w, v: v, x: &exchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body}}
		if strings.HasPrefix(r.URL.Path, "/identity/") {
			v.mu.Lock()
			v.log = append(v.log, sw.x)
			v.mu.Unlock()
		}
		v.Sim.ServeHTTP(sw, r)
	}))
	t.Cleanup(v.Server.Close)
	return v
}

func (v *vendor) exchanges() []exchange {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]exchange, len(v.log))
	for i, x := range v.log {
		out[i] = *x
	}
	return out
}

func (v *vendor) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.log = nil
}

// statusWriter sets its exchange's status when the answer is written.
type statusWriter struct {
	http.ResponseWriter
	v *vendor
	x *exchange
}

func (w *statusWriter) WriteHeader(code int) {
	w.v.mu.Lock()
	w.x.Status = code
	w.v.mu.Unlock()
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.v.mu.Lock()
	if w.x.Status == 0 {
		w.x.Status = http.StatusOK
	}
	w.v.mu.Unlock()
	return w.ResponseWriter.Write(b)
}

// Hijack lets the simulator drop connections through the wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func TestConformance(t *testing.T) {
	adaptertest.RunWith(t, adaptertest.Options{UserNameDomain: "example.com"}, func(t *testing.T) adapters.Adapter {
		a, _ := open(t, nil)
		return a
	})
}

func newUser(userName string) scim.Resource {
	return scim.Resource{"schemas": []any{scim.UserSchema}, "userName": userName}
}

func TestUserNameMustBeThePrimaryWorkEmail(t *testing.T) {
	a, srv := open(t, nil)
	ctx := t.Context()
	for _, r := range []scim.Resource{
		newUser("bjensen"),
		newUser("Babs <bjensen@example.com>"),
		{"schemas": []any{scim.UserSchema}, "userName": "bjensen@example.com",
			"emails": []any{map[string]any{"value": "babs@example.com", "type": "work", "primary": true}}},
	} {
		_, err := a.Create(ctx, webex.UserType, r)
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidValue {
			t.Errorf("Create(%v) error = %v, want 400 invalidValue", r, err)
		}
	}
	if n := len(srv.exchanges()); n != 0 {
		t.Errorf("the vendor got %d requests for users the gateway must refuse itself", n)
	}
	u, err := a.Create(ctx, webex.UserType, newUser("bjensen@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	// userType defaults to "user"; Webex adds the work email (VENDORS.md 1.6).
	if u["userType"] != "user" {
		t.Errorf("userType = %v, want the default user", u["userType"])
	}
	if got := fmt.Sprint(u["emails"]); !strings.Contains(got, "bjensen@example.com") {
		t.Errorf("emails = %s, want the work email Webex adds", got)
	}
}

// TestNoDuplicateCreate: the simulator applies the POST and drops the
// connection; the adapter must find the user rather than create it again.
func TestNoDuplicateCreate(t *testing.T) {
	for _, rt := range []*scim.ResourceType{webex.UserType, webex.GroupType} {
		t.Run(rt.ID, func(t *testing.T) {
			var dropped atomic.Int32
			a, srv := open(t, []webextest.Option{webextest.WithFault(func(r *http.Request) webextest.Fault {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, rt.Endpoint) && dropped.Add(1) == 1 {
					return webextest.Fault{Drop: true, AfterApply: true}
				}
				return webextest.Fault{}
			})})
			r := newUser("once@example.com")
			if rt == webex.GroupType {
				r = scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": "Once", "externalId": "g-1"}
			}
			got, err := a.Create(t.Context(), rt, r)
			if err != nil {
				t.Fatalf("Create after a dropped connection: %v", err)
			}
			if got.ID() == "" {
				t.Error("the found resource has no id")
			}
			if n := srv.Count(rt.ID); n != 1 {
				t.Errorf("%d %ss stored, want exactly 1", n, rt.ID)
			}
			// The log is written when the handler returns, so the dropped
			// POST may come after the lookup it caused.
			if !slices.ContainsFunc(srv.exchanges(), func(x exchange) bool { return x.Method == http.MethodPost && x.Status == 0 }) {
				t.Errorf("no POST had its connection dropped: %+v", srv.exchanges())
			}
		})
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	// One request a second, and a 429 says to wait one second.
	a, srv := open(t, []webextest.Option{webextest.WithRateLimit(1, time.Second, time.Second)})
	ctx := t.Context()
	u, err := a.Create(ctx, webex.UserType, newUser("busy@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.Get(ctx, webex.UserType, u.ID()); err != nil {
			t.Fatalf("Get under the rate limit: %v (the client should wait out Retry-After)", err)
		}
	}
	limited := 0
	for _, r := range srv.exchanges() {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("the simulator never answered 429: the test did not exercise Retry-After")
	}

	// A caller whose deadline cannot wait gets the 429 with Retry-After,
	// and the vendor's trackingId in the detail.
	b, srv2 := open(t, []webextest.Option{webextest.WithRateLimit(1, time.Minute, 30*time.Second)})
	_, _ = b.List(ctx, webex.UserType, adapters.Query{StartIndex: 1, Count: 1})
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = b.List(short, webex.UserType, adapters.Query{StartIndex: 1, Count: 1})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != http.StatusTooManyRequests || se.RetryAfter < 1 {
		t.Fatalf("List past the limit = %v, want 429 with Retry-After", err)
	}
	if !strings.Contains(se.Detail, "trackingId") {
		t.Errorf("detail %q does not keep the vendor's trackingId", se.Detail)
	}
	_ = srv2
}

func TestTokenRefreshOn401(t *testing.T) {
	srv := newVendor(t)
	srv.RegisterClient("client-1", "s3cret")
	refresh := srv.IssueRefreshToken("client-1")
	cfg := &webex.Config{OrgID: srv.OrgID(), BaseURL: srv.URL, Auth: webex.Auth{
		ClientID: "client-1", ClientSecretEnv: "SECRET", RefreshTokenEnv: "REFRESH",
	}}
	env := map[string]string{"SECRET": "s3cret", "REFRESH": refresh}
	if err := cfg.ResolveSecrets(adapters.Secrets{Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Fatal(err)
	}
	a, err := cfg.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Create(t.Context(), webex.UserType, newUser("tok@example.com"))
	if err != nil {
		t.Fatalf("Create with a refreshed token: %v", err)
	}
	srv.ExpireTokens() // every access token is refused from now on
	if _, err := a.Get(t.Context(), webex.UserType, u.ID()); err != nil {
		t.Fatalf("Get after the token was revoked: %v (want a refresh and a second try)", err)
	}
	saw401 := false
	for _, r := range srv.exchanges() {
		saw401 = saw401 || r.Status == http.StatusUnauthorized
	}
	if !saw401 {
		t.Error("the vendor never answered 401: the refresh path was not exercised")
	}
}

// TestBulkPast100 sends 250 creates and a group whose members are created
// in other chunks: the vendor gets requests of at most 100 operations and
// every reference resolves.
func TestBulkPast100(t *testing.T) {
	a, srv := open(t, nil)
	e := engine.New(a, engine.Options{})
	var ops []scim.BulkOperation
	for i := range 250 {
		ops = append(ops, scim.BulkOperation{Method: "POST", Path: "/Users", BulkID: fmt.Sprint("u", i),
			Data: map[string]any{"schemas": []any{scim.UserSchema}, "userName": fmt.Sprintf("user%03d@example.com", i)}})
	}
	ops = append(ops, scim.BulkOperation{Method: "POST", Path: "/Groups", BulkID: "g",
		Data: map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Everyone", "members": []any{
			map[string]any{"value": "bulkId:u0"}, map[string]any{"value": "bulkId:u150"}, map[string]any{"value": "bulkId:u249"},
		}}})
	resp, err := e.Bulk(t.Context(), scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, Operations: ops})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range resp.Operations {
		if op.Status != "201" {
			t.Fatalf("%s %s: status %s %v", op.Method, op.BulkID, op.Status, op.Response)
		}
	}
	if len(resp.Operations) != 251 {
		t.Fatalf("%d results, want 251", len(resp.Operations))
	}
	calls := 0
	for _, r := range srv.exchanges() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/Bulk") {
			calls++
			if n := strings.Count(string(r.Body), `"method"`); n > 100 {
				t.Errorf("a Bulk request with %d operations; Webex takes at most 100", n)
			}
			if !strings.Contains(string(r.Body), `"operations"`) {
				t.Errorf("Bulk body without lower-case operations: %.200s", r.Body)
			}
		}
	}
	if calls < 3 {
		t.Errorf("%d Bulk calls for 251 operations, want at least 3", calls)
	}
	if n := srv.Count("User"); n != 250 {
		t.Errorf("%d users stored, want 250", n)
	}
	g := resp.Operations[250]
	id := strings.TrimPrefix(g.Location, "/Groups/")
	group, err := a.Get(t.Context(), webex.GroupType, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(scim.AsList(group["members"])); n != 3 {
		t.Errorf("group has %d members, want the 3 referenced across chunks", n)
	}
}

func TestPushdownFollowsTheTable(t *testing.T) {
	a, srv := open(t, nil)
	e := engine.New(a, engine.Options{})
	ctx := t.Context()
	for _, n := range []string{"ann@example.com", "bob@example.com"} {
		u := newUser(n)
		u["title"] = "Engineer " + n[:3]
		if _, err := a.Create(ctx, webex.UserType, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter     string
		wantVendor string // the filter the vendor got; "" for none
		want       int
	}{
		{`userName eq "ann@example.com"`, `userName eq "ann@example.com"`, 1},
		{`userName sw "a" or userName ew "bob@example.com"`, `userName sw "a" or userName ew "bob@example.com"`, 2},
		{`title co "bob"`, "", 1},                                    // co is not in the table
		{`userName sw "b" and title co "bob"`, `userName sw "b"`, 1}, // the and is split
		{`externalId eq "x"`, "", 0},                                 // externalId is not filterable
		{`emails[type eq "work" and value sw "ann"]`, "", 1},         // brackets stay residual
	} {
		srv.reset()
		f, err := filter.Parse(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		_ = f
		lr, err := e.Search(ctx, webex.UserType, engine.Query{Filter: tc.filter, Count: 10})
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if lr.TotalResults != tc.want {
			t.Errorf("%s: %d results, want %d", tc.filter, lr.TotalResults, tc.want)
		}
		var sent []string
		for _, r := range srv.exchanges() {
			if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/Users") {
				sent = append(sent, r.Query.Get("filter"))
			}
		}
		if len(sent) == 0 || sent[0] != tc.wantVendor {
			t.Errorf("%s: vendor filters %q, want %q first", tc.filter, sent, tc.wantVendor)
		}
	}
}

func TestErrorsKeepTrackingID(t *testing.T) {
	a, _ := open(t, nil)
	_, err := a.Get(t.Context(), webex.UserType, "3426a8e3-d414-4bf0-a493-4f6787632a13")
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != http.StatusNotFound || !errors.Is(err, scim.ErrNotFound) {
		t.Fatalf("Get missing = %v, want 404", err)
	}
	if !strings.Contains(se.Detail, "trackingId") {
		t.Errorf("404 detail %q lost the trackingId", se.Detail)
	}
	if _, err := a.Create(t.Context(), webex.UserType, newUser("dup@example.com")); err != nil {
		t.Fatal(err)
	}
	_, err = a.Create(t.Context(), webex.UserType, newUser("DUP@example.com"))
	if !errors.As(err, &se) || se.Status != http.StatusConflict || se.ScimType != scim.Uniqueness {
		t.Errorf("duplicate userName = %v, want 409 uniqueness", err)
	}
}

func TestHealth(t *testing.T) {
	a, v := open(t, nil)
	if err := a.Health(t.Context()); err != nil {
		t.Fatalf("Health = %v", err)
	}
	v.ExpireTokens()
	var se *scim.Error
	if err := a.Health(t.Context()); !errors.As(err, &se) || se.Status != http.StatusBadGateway {
		t.Errorf("Health with a revoked token = %v, want the 502 of a refused credential", err)
	}
}

// TestGroupMembersPastFiveHundred: GET /Groups/{id} stops at 500 members
// (VENDORS.md 1.7); the adapter reads the rest from the Members endpoint.
func TestGroupMembersPastFiveHundred(t *testing.T) {
	a, v := open(t, nil)
	e := engine.New(a, engine.Options{})
	const n = 620
	var ops []scim.BulkOperation
	var members []any
	for i := range n {
		ops = append(ops, scim.BulkOperation{Method: "POST", Path: "/Users", BulkID: fmt.Sprint("u", i),
			Data: map[string]any{"schemas": []any{scim.UserSchema}, "userName": fmt.Sprintf("m%03d@example.com", i)}})
		members = append(members, map[string]any{"value": fmt.Sprint("bulkId:u", i)})
	}
	ops = append(ops, scim.BulkOperation{Method: "POST", Path: "/Groups", BulkID: "g",
		Data: map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": "Big", "members": members}})
	resp, err := e.Bulk(t.Context(), scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, Operations: ops})
	if err != nil {
		t.Fatal(err)
	}
	g := resp.Operations[n]
	if g.Status != "201" {
		t.Fatalf("group create: %s %v", g.Status, g.Response)
	}
	v.reset()
	group, err := a.Get(t.Context(), webex.GroupType, strings.TrimPrefix(g.Location, "/Groups/"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(scim.AsList(group["members"])); got != n {
		t.Errorf("group has %d members, want %d", got, n)
	}
	pages := 0
	for _, x := range v.exchanges() {
		if strings.HasSuffix(x.Path, "/Members") {
			pages++
			if c := x.Query.Get("count"); c != "500" {
				t.Errorf("Members page with count %s, want 500 (the maximum)", c)
			}
		}
	}
	if pages != 2 {
		t.Errorf("%d Members pages read for %d members, want 2", pages, n)
	}
}
