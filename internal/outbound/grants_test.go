package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

func TestAssertionGrant(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || !ok || id != "cid" || secret != "csecret" ||
			r.PostForm.Get("grant_type") != JWTBearerGrantType || r.PostForm.Get("assertion") != "eyJ.jwt.cred" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		mu.Lock()
		n++
		tok := fmt.Sprint("jwt-a", n)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":3600,"refresh_token":"r","owner_id":"1"}`, tok)
	}))
	defer srv.Close()
	g := AssertionGrant{HTTPClient: srv.Client(), TokenURL: srv.URL, ClientID: "cid", ClientSecret: "csecret",
		Assertion: "eyJ.jwt.cred", AuthStyle: AuthStyleHeader}
	fetch := g.Fetch()
	for i := 1; i <= 2; i++ {
		tok, err := fetch(t.Context())
		if err != nil || tok.AccessToken != fmt.Sprint("jwt-a", i) || tok.Expiry.IsZero() {
			t.Fatalf("fetch %d = %+v, %v", i, tok, err)
		}
	}
	g.Assertion = "wrong"
	var re *oauth2.RetrieveError
	if _, err := g.Fetch()(t.Context()); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("fetch with a wrong assertion = %v, want invalid_grant", err)
	}
}

// webexTokens is a loopback Webex token service (VENDORS.md 1.2): the
// application token endpoint, called with an integration's bearer token,
// and the refresh_token grant with form parameters.
type webexTokens struct {
	*httptest.Server
	mu         sync.Mutex
	n          int
	refresh    string // the refresh token accepted
	appCalls   int
	refreshes  int
	authorizer string // the integration token accepted
	failNext   int    // answer the next refresh with this status
}

func newWebexTokens(t *testing.T) *webexTokens {
	t.Helper()
	wt := &webexTokens{authorizer: "integ-2"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/applications/app-1/token", func(w http.ResponseWriter, r *http.Request) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.appCalls++
		var body map[string]string
		if r.Header.Get("Authorization") != "Bearer "+wt.authorizer {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"unauthorized","trackingId":"WX_1"}`))
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["clientId"] != "sa-id" ||
			body["clientSecret"] != "sa-secret" || body["targetOrgId"] != "org-1" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"bad request","trackingId":"WX_2"}`))
			return
		}
		wt.issue(w)
	})
	mux.HandleFunc("POST /v1/access_token", func(w http.ResponseWriter, r *http.Request) {
		wt.mu.Lock()
		defer wt.mu.Unlock()
		wt.refreshes++
		if _, _, basic := r.BasicAuth(); basic || r.FormValue("client_id") != "sa-id" || r.FormValue("client_secret") != "sa-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if wt.failNext != 0 {
			w.WriteHeader(wt.failNext)
			_, _ = w.Write([]byte(`{"message":"nope","trackingId":"WX_3"}`))
			wt.failNext = 0
			return
		}
		if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != wt.refresh {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"invalid refresh token","trackingId":"WX_4"}`))
			return
		}
		wt.issue(w)
	})
	wt.Server = httptest.NewServer(mux)
	t.Cleanup(wt.Close)
	return wt
}

func (wt *webexTokens) issue(w http.ResponseWriter) {
	wt.n++
	wt.refresh = fmt.Sprint("wr", wt.n)
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"access_token":"wa%d","expires_in":1209599,"refresh_token":%q,"refresh_token_expires_in":7776000,"token_type":"Bearer"}`, wt.n, wt.refresh)
}

func (wt *webexTokens) counts() (app, refreshes int) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.appCalls, wt.refreshes
}

// rotatingAuthorizer hands out integ-1 first and integ-2 after an
// Invalidate, like a TokenCache whose token the vendor refused.
type rotatingAuthorizer struct {
	mu  sync.Mutex
	tok string
}

func (a *rotatingAuthorizer) Token(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok, nil
}

func (a *rotatingAuthorizer) Invalidate(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if tok == "integ-1" {
		a.tok = "integ-2"
	}
}

func TestServiceAppGrant(t *testing.T) {
	wt := newWebexTokens(t)
	var rotated []string
	g := ServiceAppGrant{HTTPClient: wt.Client(), AppTokenURL: wt.URL + "/v1/applications/app-1/token",
		Authorizer: &rotatingAuthorizer{tok: "integ-1"}, TokenURL: wt.URL + "/v1/access_token",
		ClientID: "sa-id", ClientSecret: "sa-secret", TargetOrgID: "org-1",
		OnRotate: func(rt string) { rotated = append(rotated, rt) }}
	fetch := g.Fetch()
	want := func(step, access string, app, refreshes int) {
		t.Helper()
		tok, err := fetch(t.Context())
		if err != nil || tok.AccessToken != access || tok.Expiry.IsZero() {
			t.Fatalf("%s: fetch = %+v, %v; want %s", step, tok, err, access)
		}
		if a, r := wt.counts(); a != app || r != refreshes {
			t.Fatalf("%s: application endpoint %d, refreshes %d; want %d, %d", step, a, r, app, refreshes)
		}
	}
	// The first pair: the authorizer's first token is refused, a fresh one works.
	want("first", "wa1", 2, 0)
	// Then the refresh grant with the rotated refresh token.
	want("refresh", "wa2", 2, 1)
	want("refresh again", "wa3", 2, 2)
	// A passing outage of the refresh endpoint is returned, not answered with a new pair.
	wt.mu.Lock()
	wt.failNext = http.StatusServiceUnavailable
	wt.mu.Unlock()
	if _, err := fetch(t.Context()); err == nil {
		t.Fatal("fetch during an outage = nil error")
	}
	want("after outage", "wa4", 2, 4)
	// A refused refresh token falls back to a new pair.
	wt.mu.Lock()
	wt.refresh = "revoked"
	wt.mu.Unlock()
	want("revoked", "wa5", 3, 5)
	if got := strings.Join(rotated, " "); got != "wr1 wr2 wr3 wr4 wr5" {
		t.Errorf("OnRotate saw %q", got)
	}
}

func TestServiceAppGrantErrors(t *testing.T) {
	wt := newWebexTokens(t)
	g := ServiceAppGrant{HTTPClient: wt.Client(), AppTokenURL: wt.URL + "/v1/applications/app-1/token",
		Authorizer: StaticToken("integ-x"), TokenURL: wt.URL + "/v1/access_token", ClientID: "sa-id", ClientSecret: "sa-secret"}
	_, err := g.Fetch()(t.Context())
	if err == nil || !strings.Contains(err.Error(), "status 401, trackingId WX_1") {
		t.Fatalf("fetch with a refused authorizer = %v, want the 401 with its trackingId", err)
	}
	g.Authorizer = nil
	if _, err := g.Fetch()(t.Context()); err == nil {
		t.Fatal("fetch without an authorizer = nil error")
	}
	g.Authorizer = StaticToken("integ-2")
	if _, err := g.Fetch()(t.Context()); err == nil || !strings.Contains(err.Error(), "status 400") {
		t.Fatalf("fetch without targetOrgId = %v, want the 400", err)
	}
}
