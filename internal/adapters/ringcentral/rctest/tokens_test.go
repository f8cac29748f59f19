package rctest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// tokenCall posts form to the token endpoint with Basic credentials (none
// when id is empty).
func tokenCall(t *testing.T, srv *Server, id, secret string, form url.Values) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
		t.Fatal(err)
	}
	r.raw, _ = json.Marshal(r.body)
	return r
}

// wantOAuthError checks a token-endpoint error body.
func (r reply) wantOAuthError(t *testing.T, status int, oauthErr, code string) {
	t.Helper()
	r.want(t, status)
	errs, _ := r.body["errors"].([]any)
	if r.str("error") != oauthErr || len(errs) != 1 || errs[0].(map[string]any)["errorCode"] != code || r.str("error_description") == "" {
		t.Errorf("body %s, want error %s with errorCode %s", r.raw, oauthErr, code)
	}
}

func TestJWTBearerGrantWithTheGatewaysClient(t *testing.T) {
	srv := NewServer(t)
	srv.RegisterClient("app", "s3cret/+=")
	for _, style := range []outbound.AuthStyle{outbound.AuthStyleAuto, outbound.AuthStyleHeader} {
		g := outbound.AssertionGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "app",
			ClientSecret: "s3cret/+=", Assertion: srv.IssueJWT("app"), AuthStyle: style}
		tok, err := g.Fetch()(t.Context())
		if err != nil {
			t.Fatalf("AssertionGrant (style %d): %v", style, err)
		}
		if tok.RefreshToken == "" || tok.Expiry.IsZero() || !strings.EqualFold(tok.TokenType, "bearer") {
			t.Errorf("token %+v", tok)
		}
		if tok.Extra("owner_id") != OwnerID || tok.Extra("scope") != "ReadAccounts EditAccounts" ||
			tok.Extra("refresh_token_expires_in") != float64(604800) {
			t.Errorf("owner_id %v scope %v refresh_token_expires_in %v", tok.Extra("owner_id"), tok.Extra("scope"), tok.Extra("refresh_token_expires_in"))
		}
		c := &client{t: t, srv: srv, token: tok.AccessToken}
		c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	}
	// Form parameters are not client authentication at RingCentral.
	g := outbound.AssertionGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "app",
		ClientSecret: "s3cret/+=", Assertion: srv.IssueJWT("app"), AuthStyle: outbound.AuthStyleParams}
	if _, err := g.Fetch()(t.Context()); err == nil {
		t.Error("client credentials as form parameters were accepted")
	}
	reqs := srv.TokenRequests()
	if len(reqs) != 3 || reqs[0].Group != GroupAuth || reqs[0].Status != http.StatusOK || reqs[2].Status != http.StatusUnauthorized {
		t.Errorf("TokenRequests() = %+v", reqs)
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	srv := NewServer(t, WithLimits(0, 0, 100))
	srv.RegisterClient("app", "secret")
	srv.RegisterClient("other", "secret")
	jwt := srv.IssueJWT("app")
	grant := func(a string) url.Values {
		return url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {a}}
	}
	tokenCall(t, srv, "", "", grant(jwt)).wantOAuthError(t, 401, "invalid_client", CodeClientAuthReq)
	tokenCall(t, srv, "app", "wrong", grant(jwt)).wantOAuthError(t, 401, "invalid_client", CodeInvalidClient)
	tokenCall(t, srv, "nobody", "secret", grant(jwt)).wantOAuthError(t, 401, "invalid_client", CodeInvalidClient)
	tokenCall(t, srv, "other", "secret", grant(jwt)).wantOAuthError(t, 400, "invalid_grant", CodeInvalidGrant)
	tokenCall(t, srv, "app", "secret", grant("x.y.z")).wantOAuthError(t, 400, "invalid_grant", CodeInvalidGrant)
	tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {JWTBearerGrantType}}).wantOAuthError(t, 400, "invalid_request", CodeBadTokenParams)
	tokenCall(t, srv, "app", "secret", url.Values{}).wantOAuthError(t, 400, "invalid_request", CodeBadTokenParams)
	tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {"password"}}).wantOAuthError(t, 400, "unsupported_grant_type", CodeUnsupportedGT)
	tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}).
		wantOAuthError(t, 400, "invalid_grant", CodeTokenRevoked)
	r := tokenCall(t, srv, "app", "secret", grant(jwt)).want(t, http.StatusOK)
	if r.str("token_type") != "bearer" || r.body["expires_in"] != float64(3600) || r.str("owner_id") != OwnerID {
		t.Errorf("token answer %s", r.raw)
	}
	// The JWT credential stays valid: it may be used again.
	tokenCall(t, srv, "app", "secret", grant(jwt)).want(t, http.StatusOK)
}

func TestRefreshTokensRotate(t *testing.T) {
	srv := NewServer(t, WithLimits(0, 0, 100))
	srv.RegisterClient("app", "secret")
	first := tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {srv.IssueJWT("app")}}).want(t, http.StatusOK)

	var rotated []string
	g := outbound.RefreshGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "app", ClientSecret: "secret",
		RefreshToken: first.str("refresh_token"), AuthStyle: outbound.AuthStyleHeader,
		OnRotate: func(rt string) { rotated = append(rotated, rt) }}
	fetch := g.Fetch()
	second, err := fetch(t.Context())
	if err != nil {
		t.Fatalf("RefreshGrant: %v", err)
	}
	if len(rotated) != 1 || rotated[0] == first.str("refresh_token") || second.RefreshToken != rotated[0] {
		t.Fatalf("rotations %v, token %+v", rotated, second)
	}
	// The access token issued with the used refresh token died at once.
	c := &client{t: t, srv: srv, token: first.str("access_token")}
	c.do(http.MethodGet, "/Users", nil).wantPlatformError(t, http.StatusUnauthorized, CodeInvalidToken)
	c.token = second.AccessToken
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	// The used refresh token is refused.
	tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}}).
		wantOAuthError(t, 400, "invalid_grant", CodeTokenRevoked)
	// The grant keeps rotating with what it was given last.
	third, err := fetch(t.Context())
	if err != nil || len(rotated) != 2 || third.RefreshToken == second.RefreshToken {
		t.Fatalf("second refresh: %v, rotations %v", err, rotated)
	}
	// A refresh token belongs to its app.
	srv.RegisterClient("other", "secret")
	tokenCall(t, srv, "other", "secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken}}).
		wantOAuthError(t, 400, "invalid_grant", CodeTokenRevoked)
	// ExpireTokens kills access tokens, not refresh tokens.
	srv.ExpireTokens()
	c.token = third.AccessToken
	c.do(http.MethodGet, "/Users", nil).wantPlatformError(t, http.StatusUnauthorized, CodeTokenExpired)
	if _, err := fetch(t.Context()); err != nil {
		t.Fatalf("refresh after ExpireTokens: %v", err)
	}
}

func TestTokenLifetimes(t *testing.T) {
	clk := newFakeClock()
	srv := NewServer(t, WithClock(clk.Now), WithAccessTokenTTL(600e9), WithRefreshTokenTTL(3600e9))
	srv.RegisterClient("app", "secret")
	r := tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {srv.IssueJWT("app")}})
	if r.body["expires_in"] != float64(600) || r.body["refresh_token_expires_in"] != float64(3600) {
		t.Errorf("lifetimes %s", r.raw)
	}
	c := &client{t: t, srv: srv, token: r.str("access_token")}
	clk.Advance(599e9)
	c.do(http.MethodGet, "/Users", nil).want(t, http.StatusOK)
	clk.Advance(1e9)
	c.do(http.MethodGet, "/Users", nil).wantPlatformError(t, http.StatusUnauthorized, CodeTokenExpired)
	clk.Advance(3000e9)
	tokenCall(t, srv, "app", "secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}).
		wantOAuthError(t, 400, "invalid_grant", CodeTokenRevoked)
}

func TestTokenEndpointIsInTheAuthGroup(t *testing.T) {
	clk := newFakeClock()
	srv := NewServer(t, WithClock(clk.Now)) // default Auth limit: 5 per minute
	srv.RegisterClient("app", "secret")
	jwt := srv.IssueJWT("app")
	form := url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {jwt}}
	for i := range 5 {
		r := tokenCall(t, srv, "app", "secret", form).want(t, http.StatusOK)
		if r.header.Get("X-Rate-Limit-Group") != GroupAuth || r.header.Get("X-Rate-Limit-Remaining") != string(rune('4'-i)) {
			t.Errorf("call %d: headers %v", i, r.header)
		}
	}
	r := tokenCall(t, srv, "app", "secret", form)
	r.wantPlatformError(t, http.StatusTooManyRequests, CodeRateExceeded)
	if r.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	g := outbound.AssertionGrant{HTTPClient: srv.Client(), TokenURL: srv.TokenURL(), ClientID: "app", ClientSecret: "secret",
		Assertion: jwt, AuthStyle: outbound.AuthStyleHeader}
	_, err := g.Fetch()(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusTooManyRequests {
		t.Errorf("AssertionGrant during the penalty: %v", err)
	}
	if v := srv.PenaltyViolations(); v != 1 {
		t.Errorf("PenaltyViolations() = %d, want 1", v)
	}
	clk.Advance(60e9)
	tokenCall(t, srv, "app", "secret", form).want(t, http.StatusOK)
}
