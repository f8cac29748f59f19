package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// JWTBearerGrantType is the grant_type of RFC 7523 §2.1.
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// AssertionGrant configures the OAuth2 JWT bearer grant (RFC 7523 §2.1)
// with a ready-made assertion, such as a RingCentral JWT credential
// (VENDORS.md 2.2), which only obtains access tokens and may never expire.
type AssertionGrant struct {
	// HTTPClient sends the token requests; nil means http.DefaultClient.
	HTTPClient   *http.Client
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Assertion is the JWT sent as the assertion parameter.
	Assertion string
	AuthStyle AuthStyle
	Scopes    []string
}

// Fetch returns a fetch func for NewTokenCache: each call runs the grant
// once. A refresh token in the answer is ignored: the assertion gets the
// next access token, which costs the same one token-endpoint call.
func (g AssertionGrant) Fetch() func(ctx context.Context) (*oauth2.Token, error) {
	cfg := &clientcredentials.Config{
		ClientID:     g.ClientID,
		ClientSecret: g.ClientSecret,
		TokenURL:     g.TokenURL,
		Scopes:       g.Scopes,
		AuthStyle:    g.AuthStyle.oauth2(),
		// x/oauth2 lets EndpointParams override grant_type for exactly
		// this kind of grant.
		EndpointParams: url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {g.Assertion}},
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		if g.HTTPClient != nil {
			ctx = context.WithValue(ctx, oauth2.HTTPClient, g.HTTPClient)
		}
		tok, err := cfg.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("outbound: JWT bearer grant: %w", err)
		}
		return tok, nil
	}
}

// ServiceAppGrant obtains Webex service-app tokens (VENDORS.md 1.2). The
// first token pair comes from the application's token endpoint, called
// with the bearer token of an integration (or service app) that holds
// spark:applications_token; later ones from the refresh_token grant at
// TokenURL with the service app's own client id and secret as form
// parameters. When that refresh token is refused (400/401: expired after
// its 90 days, or revoked), the next fetch asks the application endpoint
// for a new pair; other failures are returned as they are, so a passing
// outage does not cost a new pair.
type ServiceAppGrant struct {
	// HTTPClient sends the token requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AppTokenURL is https://webexapis.com/v1/applications/{applicationId}/token.
	AppTokenURL string
	// Authorizer supplies the integration's bearer token for AppTokenURL.
	Authorizer TokenSource
	// TokenURL is the refresh endpoint, https://webexapis.com/v1/access_token.
	TokenURL     string
	ClientID     string
	ClientSecret string
	// TargetOrgID is the org the service app is authorized in.
	TargetOrgID string
	// RefreshToken, when set, is a refresh token kept from an earlier run;
	// it is used before asking the application endpoint.
	RefreshToken string
	// OnRotate, when set, is called with every new refresh token.
	OnRotate func(refreshToken string)
}

// maxTokenBody caps a token endpoint's answer.
const maxTokenBody = 1 << 20

// Fetch returns a fetch func for NewTokenCache; its calls are serialized.
func (g ServiceAppGrant) Fetch() func(ctx context.Context) (*oauth2.Token, error) {
	cfg := &oauth2.Config{
		ClientID:     g.ClientID,
		ClientSecret: g.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: g.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	var mu sync.Mutex
	current := g.RefreshToken
	rotate := func(tok *oauth2.Token) {
		if tok.RefreshToken != "" && tok.RefreshToken != current {
			current = tok.RefreshToken
			if g.OnRotate != nil {
				g.OnRotate(current)
			}
		}
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		if current != "" {
			tok, err := refresh(ctx, cfg, g.HTTPClient, current)
			if err == nil {
				rotate(tok)
				return tok, nil
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response == nil ||
				(re.Response.StatusCode != http.StatusBadRequest && re.Response.StatusCode != http.StatusUnauthorized) {
				return nil, fmt.Errorf("outbound: service app refresh: %w", err)
			}
			current = "" // refused: get a new pair below
		}
		tok, err := g.appToken(ctx)
		if err != nil {
			return nil, err
		}
		rotate(tok)
		return tok, nil
	}
}

// appToken asks the application token endpoint for a new token pair,
// re-asking once with a fresh authorizer token after a 401.
func (g ServiceAppGrant) appToken(ctx context.Context) (*oauth2.Token, error) {
	if g.Authorizer == nil {
		return nil, errors.New("outbound: service app token: no authorizer token source")
	}
	body, err := json.Marshal(map[string]string{
		"clientId": g.ClientID, "clientSecret": g.ClientSecret, "targetOrgId": g.TargetOrgID,
	})
	if err != nil {
		return nil, err
	}
	hc := g.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	for try := 0; ; try++ {
		auth, err := g.Authorizer.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("outbound: service app token: authorizer: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.AppTokenURL, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("outbound: service app token: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+auth)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("outbound: service app token: %w", err)
		}
		data, err := readCapped(resp.Body, resp.ContentLength, maxTokenBody)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("outbound: service app token: %w", err)
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 {
			g.Authorizer.Invalidate(auth)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("outbound: service app token: status %d%s", resp.StatusCode, trackingID(data))
		}
		var tr struct {
			AccessToken  string `json:"access_token"`
			TokenType    string `json:"token_type"`
			ExpiresIn    int64  `json:"expires_in"`
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(data, &tr); err != nil {
			return nil, fmt.Errorf("outbound: service app token: %w", err)
		}
		if tr.AccessToken == "" {
			return nil, errors.New("outbound: service app token: no access_token in the answer")
		}
		tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken}
		if tr.ExpiresIn > 0 {
			tok.Expiry = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
		}
		return tok, nil
	}
}

// trackingID returns ", trackingId X" for a Webex error body that has one
// (VENDORS.md 1.10), so that the failure can be traced with the vendor.
func trackingID(body []byte) string {
	var e struct {
		TrackingID string `json:"trackingId"`
	}
	if json.Unmarshal(body, &e) != nil || e.TrackingID == "" {
		return ""
	}
	return ", trackingId " + e.TrackingID
}

// refresh runs the refresh_token grant once with refreshToken.
func refresh(ctx context.Context, cfg *oauth2.Config, hc *http.Client, refreshToken string) (*oauth2.Token, error) {
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	// A token without an access token is invalid, so the source refreshes
	// at once; x/oauth2 keeps the old refresh token when the answer has
	// none.
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}
