package webextest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// usable checks that an access token reads users.
func usable(t *testing.T, srv *Server, token string) {
	t.Helper()
	(&client{t: t, srv: srv, token: token}).do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
}

func TestRefreshGrantAgainstTheGatewayClient(t *testing.T) {
	for _, style := range []outbound.AuthStyle{outbound.AuthStyleParams, outbound.AuthStyleHeader, outbound.AuthStyleAuto} {
		srv := NewServer(t)
		srv.RegisterClient("client-1", "s3cret")
		refresh := srv.IssueRefreshToken("client-1")
		var rotated []string
		fetch := outbound.RefreshGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "client-1",
			ClientSecret: "s3cret", RefreshToken: refresh, AuthStyle: style,
			OnRotate: func(rt string) { rotated = append(rotated, rt) }}.Fetch()
		tok, err := fetch(t.Context())
		if err != nil {
			t.Fatalf("auth style %v: %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(DefaultTokenTTL-time.Minute)) {
			t.Errorf("token %+v", tok)
		}
		usable(t, srv, tok.AccessToken)
		if len(rotated) != 0 {
			t.Errorf("the refresh token rotated by default: %v", rotated)
		}
		// The same refresh token works again.
		if _, err := fetch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRotatingRefreshTokens(t *testing.T) {
	srv := NewServer(t, WithRotatingRefreshTokens())
	srv.RegisterClient("c", "s")
	first := srv.IssueRefreshToken("c")
	var rotated []string
	fetch := outbound.RefreshGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "c", ClientSecret: "s",
		RefreshToken: first, AuthStyle: outbound.AuthStyleParams, OnRotate: func(rt string) { rotated = append(rotated, rt) }}.Fetch()
	for range 2 {
		if _, err := fetch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if len(rotated) != 2 || rotated[0] == first || rotated[1] == rotated[0] {
		t.Errorf("rotations %v", rotated)
	}
	r := postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {first}})
	r.wantPlatformError(t, http.StatusBadRequest)
}

func TestServiceAppGrantAgainstTheGatewayClient(t *testing.T) {
	srv := NewServer(t)
	srv.RegisterClient("app-client", "app-secret")
	for _, org := range []string{srv.OrgID(), base64.StdEncoding.EncodeToString([]byte("ciscospark://us/ORGANIZATION/" + srv.OrgID()))} {
		var rotated []string
		fetch := outbound.ServiceAppGrant{
			HTTPClient:  srv.Client(),
			AppTokenURL: srv.AppTokenURL("Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL2FwcA"),
			Authorizer:  outbound.StaticToken(srv.IssueToken(ScopeApplicationsToken)),
			TokenURL:    srv.TokenURL(), ClientID: "app-client", ClientSecret: "app-secret", TargetOrgID: org,
			OnRotate: func(rt string) { rotated = append(rotated, rt) },
		}.Fetch()
		tok, err := fetch(t.Context())
		if err != nil {
			t.Fatalf("org %s: first token pair: %v", org, err)
		}
		usable(t, srv, tok.AccessToken)
		if len(rotated) != 1 {
			t.Fatalf("the application endpoint gave no refresh token: %v", rotated)
		}
		srv.ExpireTokens()
		tok2, err := fetch(t.Context()) // the refresh_token grant now
		if err != nil {
			t.Fatal(err)
		}
		usable(t, srv, tok2.AccessToken)
	}
}

func postForm(t *testing.T, srv *Server, form url.Values) reply {
	t.Helper()
	c := &client{t: t, srv: srv}
	return c.doHeader(http.MethodPost, "/v1/access_token", form.Encode(),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

func TestTokenEndpointErrors(t *testing.T) {
	srv := NewServer(t)
	srv.RegisterClient("c", "s")
	refresh := srv.IssueRefreshToken("c")
	srv.RegisterClient("other", "o")
	for _, tt := range []struct {
		name   string
		form   url.Values
		status int
	}{
		{"wrong secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"x"}, "refresh_token": {refresh}}, 401},
		{"unknown client", url.Values{"grant_type": {"refresh_token"}, "client_id": {"z"}, "client_secret": {"s"}, "refresh_token": {refresh}}, 401},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {"nope"}}, 400},
		{"another client's refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"other"}, "client_secret": {"o"}, "refresh_token": {refresh}}, 400},
		{"no grant type", url.Values{"client_id": {"c"}, "client_secret": {"s"}}, 400},
		{"authorization code", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			postForm(t, srv, tt.form).wantPlatformError(t, tt.status)
		})
	}
	r := postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {refresh}}).want(t, 200)
	if num(r.body["expires_in"]) != int(DefaultTokenTTL/time.Second) || r.body["token_type"] != "Bearer" || r.body["refresh_token"] != refresh ||
		num(r.body["refresh_token_expires_in"]) <= 0 {
		t.Errorf("token answer %s", r.raw)
	}
	(&client{t: t, srv: srv}).do(http.MethodGet, "/v1/access_token", nil).wantPlatformError(t, http.StatusMethodNotAllowed)
}

func TestAppTokenEndpointErrors(t *testing.T) {
	srv := NewServer(t)
	srv.RegisterClient("c", "s")
	auth := srv.IssueToken(ScopeApplicationsToken)
	body := func(id, secret, org string) string {
		return `{"clientId":"` + id + `","clientSecret":"` + secret + `","targetOrgId":"` + org + `"}`
	}
	for _, tt := range []struct {
		name, token, body string
		status            int
	}{
		{"no bearer", "", body("c", "s", srv.OrgID()), 401},
		{"without spark:applications_token", srv.IssueToken(), body("c", "s", srv.OrgID()), 403},
		{"wrong secret", auth, body("c", "x", srv.OrgID()), 400},
		{"missing org", auth, body("c", "s", ""), 400},
		{"another org", auth, body("c", "s", "0ae87ade-8c8a-4952-af08-318798958d0c"), 403},
		{"not JSON", auth, "{", 400},
		{"ok", auth, body("c", "s", strings.ToUpper(srv.OrgID())), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, srv: srv, token: tt.token}
			r := c.doHeader(http.MethodPost, "/v1/applications/app1/token", tt.body, http.Header{"Content-Type": {"application/json"}})
			if tt.status == 200 {
				r.want(t, 200)
				if num(r.body["refresh_token_expires_in"]) != int(DefaultRefreshTTL/time.Second) || r.body["access_token"] == "" {
					t.Errorf("answer %s", r.raw)
				}
				return
			}
			r.wantPlatformError(t, tt.status)
		})
	}
}

func TestTokensExpire(t *testing.T) {
	var clock fakeClock
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	clock.set(start)
	srv := NewServer(t, WithClock(clock.now), WithTokenTTL(time.Hour), WithRefreshTokenTTL(2*time.Hour))
	srv.RegisterClient("c", "s")
	tok := srv.IssueToken()
	refresh := srv.IssueRefreshToken("c")
	usable(t, srv, tok)
	clock.set(start.Add(time.Hour))
	(&client{t: t, srv: srv, token: tok}).do(http.MethodGet, "/Users", nil).wantPlatformError(t, http.StatusUnauthorized)
	r := postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {refresh}}).want(t, 200)
	if num(r.body["expires_in"]) != 3600 || num(r.body["refresh_token_expires_in"]) != 3600 {
		t.Errorf("answer %s", r.raw)
	}
	usable(t, srv, r.body["access_token"].(string))
	clock.set(start.Add(2 * time.Hour))
	postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "client_id": {"c"}, "client_secret": {"s"}, "refresh_token": {refresh}}).
		wantPlatformError(t, http.StatusBadRequest)
}
