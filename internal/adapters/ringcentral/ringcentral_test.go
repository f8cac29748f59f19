package ringcentral_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral/rctest"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/router/routertest"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// open returns an adapter for a fresh simulator over loopback HTTP, with a
// static token. Unless opts say otherwise, the adapter paces at a limit far
// above the simulator's: the tests of rate limits set both.
func open(t testing.TB, simOpts []rctest.Option, opts ...ringcentral.Option) (*ringcentral.Adapter, *rctest.Server) {
	t.Helper()
	srv := rctest.NewServer(t, simOpts...)
	opts = append([]ringcentral.Option{ringcentral.WithLimits(unlimited)}, opts...)
	a, err := ringcentral.New(srv.URL, outbound.StaticToken(srv.IssueToken()), nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, srv
}

var unlimited = ringcentral.Limits{Light: 1 << 20, Heavy: 1 << 20, Window: time.Second}

func TestConformance(t *testing.T) {
	adaptertest.RunWith(t, adaptertest.Options{UserNameDomain: "example.com", RequiredName: true}, func(t *testing.T) adapters.Adapter {
		a, _ := open(t, []rctest.Option{rctest.WithoutRateLimits()})
		return a
	})
}

func user(userName string) scim.Resource {
	return scim.Resource{
		"schemas": []any{scim.UserSchema}, "userName": userName,
		"name": map[string]any{"givenName": "Given", "familyName": "Family"},
	}
}

func wantStatus(t *testing.T, what string, err error, status int, scimType scim.ScimType) *scim.Error {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != status || se.ScimType != scimType {
		t.Errorf("%s: error %v, want %d %s", what, err, status, scimType)
		return nil
	}
	return se
}

func TestCreateChecksRingCentralRules(t *testing.T) {
	a, srv := open(t, []rctest.Option{rctest.WithoutRateLimits()})
	ctx := t.Context()
	noName := scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "a@example.com"}
	twoEmails := user("b@example.com")
	twoEmails["emails"] = []any{
		map[string]any{"value": "b@example.com", "type": "work"}, map[string]any{"value": "b2@example.com", "type": "work"}}
	otherEmail := user("c@example.com")
	otherEmail["emails"] = []any{map[string]any{"value": "c.other@example.com", "type": "work"}}
	homeAddress := user("d@example.com")
	homeAddress["addresses"] = []any{map[string]any{"type": "home", "locality": "X"}}
	for name, r := range map[string]scim.Resource{"no name": noName, "two emails": twoEmails, "email not userName": otherEmail, "home address": homeAddress} {
		_, err := a.Create(ctx, ringcentral.UserType, r)
		wantStatus(t, name, err, http.StatusBadRequest, scim.InvalidValue)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the vendor got %d requests for users the gateway must refuse itself", n)
	}
	// The work email is added from userName when the caller sends none.
	u, err := a.Create(ctx, ringcentral.UserType, user("e@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(u["emails"]); !strings.Contains(got, "e@example.com") || u.Version() == "" {
		t.Errorf("created user: emails %s, version %q; want the work email and a version", got, u.Version())
	}
	_, err = a.Create(ctx, ringcentral.UserType, user("E@example.com"))
	wantStatus(t, "duplicate", err, http.StatusConflict, scim.Uniqueness)
}

func TestNoDuplicateCreate(t *testing.T) {
	var n atomic.Int32
	a, srv := open(t, []rctest.Option{rctest.WithoutRateLimits(), rctest.WithFault(func(r *http.Request) rctest.Fault {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Users") && n.Add(1) == 1 {
			return rctest.Fault{Drop: true, AfterApply: true}
		}
		return rctest.Fault{}
	})})
	u, err := a.Create(t.Context(), ringcentral.UserType, user("once@example.com"))
	if err != nil || u.ID() == "" {
		t.Fatalf("Create after a dropped connection = %v, %v", u, err)
	}
	if c := srv.Count(); c != 1 {
		t.Errorf("%d users stored, want exactly 1", c)
	}
}

// TestPatchNativeOrEmulated: the forms RingCentral documents go as one
// PATCH; the adapter declines the others, which the engine emulates.
func TestPatchNativeOrEmulated(t *testing.T) {
	a, srv := open(t, []rctest.Option{rctest.WithoutRateLimits()})
	e := engine.New(a, engine.Options{})
	ctx := t.Context()
	u, err := a.Create(ctx, ringcentral.UserType, user("p@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	ops := func(body string) []scim.PatchOp {
		t.Helper()
		o, err := patch.Parse([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + body + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	for _, tc := range []struct {
		name, ops   string
		wantMethods string // the vendor calls made
		check       func(scim.Resource) bool
	}{
		{"scalar replaces go natively", `[{"op":"replace","path":"active","value":"False"},{"op":"replace","path":"name.givenName","value":"Pat"}]`,
			"PATCH", func(r scim.Resource) bool {
				return r["active"] == false && fmt.Sprint(r["name"]) == "map[familyName:Family givenName:Pat]"
			}},
		{"value paths RingCentral documents go natively", `[{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+14155550100"}]`,
			"PATCH", func(r scim.Resource) bool { return strings.Contains(fmt.Sprint(r["phoneNumbers"]), "+14155550100") }},
		{"an array value is emulated", `[{"op":"add","path":"addresses","value":[{"type":"work","locality":"Belmont","region":"CA","country":"US"}]}]`,
			"GET PUT", func(r scim.Resource) bool { return strings.Contains(fmt.Sprint(r["addresses"]), "Belmont") }},
		{"a path-less op is emulated", `[{"op":"replace","value":{"title":"Engineer"}}]`,
			"GET PUT", func(r scim.Resource) bool { return r["title"] == "Engineer" }},
	} {
		srv.ResetRequests()
		got, err := e.Patch(ctx, ringcentral.UserType, u.ID(), ops(tc.ops), "", engine.Projection{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var methods []string
		for _, r := range srv.Requests() {
			methods = append(methods, r.Method)
		}
		if m := strings.Join(methods, " "); m != tc.wantMethods {
			t.Errorf("%s: vendor calls %q, want %q", tc.name, m, tc.wantMethods)
		}
		if !tc.check(got) {
			t.Errorf("%s: result %v", tc.name, got)
		}
	}
}

func TestFilterPushdown(t *testing.T) {
	a, srv := open(t, []rctest.Option{rctest.WithoutRateLimits()})
	e := engine.New(a, engine.Options{})
	ctx := t.Context()
	for i, title := range []string{"Engineer", "Sales", "Senior Engineer"} {
		u := user(fmt.Sprintf("u%d@example.com", i))
		u["title"], u["externalId"] = title, fmt.Sprint("ext-", i)
		if _, err := a.Create(ctx, ringcentral.UserType, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		filter, vendor string
		want           int
	}{
		{`userName eq "u1@example.com"`, `userName eq "u1@example.com"`, 1},
		{`emails.value eq "u2@example.com"`, `emails eq "u2@example.com"`, 1},
		{`emails eq "u2@example.com" and title co "Eng"`, `emails eq "u2@example.com"`, 1},
		{`externalId eq "ext-0"`, "", 1},
		{`title co "Engineer"`, "", 2},
		{`userName eq "u0@example.com" or userName eq "u1@example.com"`, "", 2},
	} {
		srv.ResetRequests()
		lr, err := e.Search(ctx, ringcentral.UserType, engine.Query{Filter: tc.filter, Count: 10})
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if lr.TotalResults != tc.want {
			t.Errorf("%s: %d results, want %d", tc.filter, lr.TotalResults, tc.want)
		}
		reqs := srv.Requests()
		if len(reqs) == 0 {
			t.Fatalf("%s: no vendor request", tc.filter)
		}
		q, _ := url.ParseQuery(reqs[0].RawQuery)
		if got := q.Get("filter"); got != tc.vendor {
			t.Errorf("%s: vendor filter %q, want %q", tc.filter, got, tc.vendor)
		}
	}
}

// TestProvisionUnderRateLimits provisions 1,000 users through the gateway
// as an IdP does (look the userName up, then create), eight at a time,
// against the default limits (50 reads and 10 writes a minute, a 60 second
// penalty) scaled down a thousand times in time. No caller may see a 429,
// and no request may reach the vendor during a penalty.
func TestProvisionUnderRateLimits(t *testing.T) {
	const scale = 0.001
	srv := rctest.NewServer(t, rctest.WithTimeScale(scale))
	window := time.Duration(float64(time.Minute) * scale)
	a, err := ringcentral.New(srv.URL, outbound.StaticToken(srv.IssueToken()), nil,
		ringcentral.WithLimits(ringcentral.Limits{Window: window}))
	if err != nil {
		t.Fatal(err)
	}
	base := gateway(t, a)
	const users, workers = 1000, 8
	var next atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= users; i = int(next.Add(1)) {
				name := fmt.Sprintf("user%04d@example.com", i)
				st, body := call(t, "GET", base+"/Users?filter=userName%20eq%20%22"+name+"%22", "")
				if st != http.StatusOK || !strings.Contains(body, `"totalResults":0`) {
					errs <- fmt.Errorf("lookup %s: %d %s", name, st, body)
					return
				}
				st, body = call(t, "POST", base+"/Users", fmt.Sprintf(
					`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":"G","familyName":"F"}}`, name))
				if st != http.StatusCreated {
					errs <- fmt.Errorf("create %s: %d %s", name, st, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Count(); n != users {
		t.Errorf("%d users stored, want %d", n, users)
	}
	limited := 0
	for _, r := range srv.Requests() {
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if v := srv.PenaltyViolations(); v != 0 || limited != 0 {
		t.Errorf("the vendor answered %d 429s and got %d requests during a penalty; want none", limited, v)
	}
}

// TestPenaltyHoldsTheGroup: after a 429 no request of that group reaches
// RingCentral until the penalty has passed, and a caller that cannot wait
// gets a 429 with Retry-After at once.
func TestPenaltyHoldsTheGroup(t *testing.T) {
	// The adapter believes in a far larger limit than the vendor has, so
	// the vendor's 429 comes.
	a, srv := open(t, []rctest.Option{rctest.WithLimits(2, 2, 5)},
		ringcentral.WithLimits(ringcentral.Limits{Light: 1000, Heavy: 1000, Window: time.Minute}))
	ctx := t.Context()
	var last error
	for range 4 {
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, last = a.List(short, ringcentral.UserType, adapters.Query{StartIndex: 1, Count: 1})
		cancel()
	}
	se := wantStatus(t, "reads past the limit", last, http.StatusTooManyRequests, "")
	if se != nil && se.RetryAfter < 1 {
		t.Errorf("429 without Retry-After: %+v", se)
	}
	if v := srv.PenaltyViolations(); v != 0 {
		t.Errorf("%d requests reached the vendor during its penalty", v)
	}
	// Writes are another group: they still go.
	if _, err := a.Create(ctx, ringcentral.UserType, user("w@example.com")); err != nil {
		t.Errorf("a write during a read penalty: %v", err)
	}
}

func TestJWTAndRotatingRefreshTokens(t *testing.T) {
	srv := rctest.NewServer(t, rctest.WithoutRateLimits())
	srv.RegisterClient("app", "secret")
	t.Run("jwt", func(t *testing.T) {
		env := map[string]string{"SECRET": "secret", "JWT": srv.IssueJWT("app")}
		cfg := &ringcentral.Config{BaseURL: srv.URL, Auth: ringcentral.Auth{ClientID: "app", ClientSecretEnv: "SECRET", JWTEnv: "JWT"}}
		a := openConfig(t, cfg, env)
		if _, err := a.Create(t.Context(), ringcentral.UserType, user("jwt@example.com")); err != nil {
			t.Fatal(err)
		}
		srv.ExpireTokens()
		if _, err := a.List(t.Context(), ringcentral.UserType, adapters.Query{StartIndex: 1, Count: 1}); err != nil {
			t.Errorf("after the access token died: %v", err)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		refresh := refreshToken(t, srv)
		file := filepath.Join(t.TempDir(), "refresh")
		if err := os.WriteFile(file, []byte(refresh+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := &ringcentral.Config{BaseURL: srv.URL, Auth: ringcentral.Auth{ClientID: "app", ClientSecretEnv: "SECRET", RefreshTokenFile: file}}
		a := openConfig(t, cfg, map[string]string{"SECRET": "secret"})
		if _, err := a.List(t.Context(), ringcentral.UserType, adapters.Query{StartIndex: 1, Count: 1}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(file)
		if strings.TrimSpace(string(got)) == refresh || len(got) == 0 {
			t.Errorf("the rotated refresh token was not written back (file holds %q)", got)
		}
	})
}

// refreshToken runs the JWT grant by hand, as an app's first login would,
// and returns the refresh token it answers with.
func refreshToken(t *testing.T, srv *rctest.Server) string {
	t.Helper()
	form := url.Values{"grant_type": {outbound.JWTBearerGrantType}, "assertion": {srv.IssueJWT("app")}}
	req, _ := http.NewRequest(http.MethodPost, srv.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.RefreshToken == "" {
		t.Fatalf("token endpoint: %d, %v, %+v", resp.StatusCode, err, tok)
	}
	return tok.RefreshToken
}

func openConfig(t *testing.T, cfg *ringcentral.Config, env map[string]string) adapters.Adapter {
	t.Helper()
	if err := cfg.ResolveSecrets(adapters.Secrets{Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Fatal(err)
	}
	a, err := cfg.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestGroupsAreNotServed(t *testing.T) {
	a, _ := open(t, []rctest.Option{rctest.WithoutRateLimits()})
	base := gateway(t, a)
	for _, path := range []string{"/Groups", "/ResourceTypes/Group"} {
		if st, body := call(t, "GET", base+path, ""); st != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", path, st, body)
		}
	}
	st, body := call(t, "GET", base+"/ServiceProviderConfig", "")
	if st != http.StatusOK || !strings.Contains(body, `"maxOperations":10`) {
		t.Errorf("ServiceProviderConfig = %d %s, want bulk maxOperations 10 (one write window)", st, body)
	}
}

// gateway serves a as target "rc" on loopback and returns its SCIM base URL.
func gateway(t testing.TB, a adapters.Adapter) string {
	t.Helper()
	return routertest.Serve(t, map[string]*engine.Engine{"rc": engine.New(a, engine.Options{})}) + "/targets/rc/scim/v2"
}

func call(t testing.TB, method, url, body string) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	req.Header.Set("Authorization", "Bearer "+routertest.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealth(t *testing.T) {
	a, _ := open(t, nil)
	if err := a.Health(t.Context()); err != nil {
		t.Fatalf("Health = %v", err)
	}
	// Nothing listens on port 1 of loopback.
	down, err := ringcentral.New("http://127.0.0.1:1", outbound.StaticToken("t"), []outbound.Option{
		outbound.WithRetry(outbound.RetryPolicy{MaxAttempts: 1})})
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Health(t.Context()); err == nil {
		t.Error("Health = nil with RingCentral unreachable")
	}
}
