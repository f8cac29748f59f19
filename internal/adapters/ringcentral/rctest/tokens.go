package rctest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// App permissions (VENDORS.md 2.2): reads need ReadAccounts, writes
// EditAccounts.
const (
	PermissionReadAccounts = "ReadAccounts"
	PermissionEditAccounts = "EditAccounts"
)

// OwnerID is the extension id of the admin user every token acts as (the
// token answer's owner_id). The admin is not one of the users the SCIM
// paths list.
const OwnerID = "1271139999"

// JWTBearerGrantType is the grant_type of the JWT flow (VENDORS.md 2.2).
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// DefaultApp is the client id behind the tokens IssueToken gives; rate
// limits count per (user, app), so those tokens share one set of windows.
const DefaultApp = "rctest-app"

// tokenAudience is the aud claim of the JWT credentials IssueJWT makes.
const tokenAudience = "https://platform.ringcentral.com/restapi/oauth/token"

var allPermissions = []string{PermissionReadAccounts, PermissionEditAccounts}

type accessToken struct {
	owner, clientID string
	scopes          []string
	expires         time.Time
}

func (t *accessToken) has(scope string) bool { return slices.Contains(t.scopes, scope) }

// rateKey is the (user, app) the token's requests count against.
func (t *accessToken) rateKey() string { return t.owner + "\x00" + t.clientID }

type refreshToken struct {
	owner, clientID string
	scopes          []string
	expires         time.Time
	access          string // the access token issued with it, which dies when it is used
}

// RegisterClient lets the app clientID with secret use the token endpoint
// (HTTP Basic client authentication).
func (s *Sim) RegisterClient(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = secret
}

// IssueJWT returns a new JWT credential for the app clientID, as the
// Developer Console makes one: a JWT that only the jwt-bearer grant
// accepts, as the assertion, together with clientID's Basic credentials.
// It never expires.
func (s *Sim) IssueJWT(clientID string) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"aud": tokenAudience, "sub": OwnerID, "iss": clientID, "jti": randomString(12),
	})
	jwt := header + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + randomString(64)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwts[jwt] = clientID
	return jwt
}

// IssueToken returns a new access token with ReadAccounts and
// EditAccounts for the app DefaultApp, valid for the access-token TTL.
func (s *Sim) IssueToken() string { return s.IssueScopedToken(allPermissions...) }

// IssueScopedToken returns a new access token of DefaultApp holding only
// the given permissions (none: a token that every SCIM path refuses with
// 403).
func (s *Sim) IssueScopedToken(permissions ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueAccessLocked(DefaultApp, permissions, s.now())
}

// ExpireTokens makes every access token issued so far invalid: each is
// answered 401 OAU-128 (access token expired) from now on. Refresh tokens
// stay valid.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for _, t := range s.access {
		t.expires = past
	}
}

func (s *Sim) issueAccessLocked(clientID string, scopes []string, now time.Time) string {
	tok := randomString(48)
	s.access[tok] = &accessToken{owner: OwnerID, clientID: clientID, scopes: slices.Clone(scopes), expires: now.Add(s.cfg.accessTTL)}
	return tok
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// bearer returns the access token of r: the Authorization header's Bearer
// token, or the access_token query parameter, which RingCentral also
// accepts (VENDORS.md 2.2).
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(tok)
	}
	return r.URL.Query().Get("access_token")
}

// authenticate returns r's access token, or the 401 the API gateway answers
// (VENDORS.md 2.9): OAU-149 for a missing or unknown token, OAU-128 for an
// expired one. The caller holds s.mu.
func (s *Sim) authenticate(r *http.Request, now time.Time) (*accessToken, error) {
	at := s.access[bearer(r)]
	if at == nil {
		return nil, platformErr(http.StatusUnauthorized, CodeInvalidToken, "Invalid token")
	}
	if !now.Before(at.expires) {
		return nil, platformErr(http.StatusUnauthorized, CodeTokenExpired, "Access token expired")
	}
	return at, nil
}

// tokenAnswer is the body of the token endpoint's success (VENDORS.md 2.2).
type tokenAnswer struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
	OwnerID               string `json:"owner_id"`
}

// serveToken is POST /restapi/oauth/token (VENDORS.md 2.2): form-encoded,
// the client authenticated by HTTP Basic, the jwt-bearer and refresh_token
// grants. It is in the Auth usage group, counted per app.
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request, body []byte) error {
	clientID, secret, basic := r.BasicAuth()
	// RFC 6749 §2.3.1: the Basic user and password are form-encoded
	// (golang.org/x/oauth2 encodes them).
	if id, err := url.QueryUnescape(clientID); err == nil {
		clientID = id
	}
	if sec, err := url.QueryUnescape(secret); err == nil {
		secret = sec
	}
	form, formErr := url.ParseQuery(string(body))

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rr := s.admit("app\x00"+clientID, GroupAuth, now)
	rr.setHeaders(w.Header())
	if rr.retryAfter > 0 {
		return rateExceeded(rr.retryAfter)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return oauthErr(http.StatusMethodNotAllowed, "invalid_request", CodeBadTokenParams, "Method "+r.Method+" is not allowed")
	}
	if !basic {
		return oauthErr(http.StatusUnauthorized, "invalid_client", CodeClientAuthReq, "Client authentication is required")
	}
	if want, ok := s.clients[clientID]; !ok || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return oauthErr(http.StatusUnauthorized, "invalid_client", CodeInvalidClient, "Invalid client: "+clientID)
	}
	if formErr != nil || !containsFold(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return oauthErr(http.StatusBadRequest, "invalid_request", CodeBadTokenParams, "Unsupported request content type; send application/x-www-form-urlencoded")
	}
	var (
		scopes []string
		owner  string
	)
	switch gt := form.Get("grant_type"); gt {
	case JWTBearerGrantType:
		a := form.Get("assertion")
		if a == "" {
			return oauthErr(http.StatusBadRequest, "invalid_request", CodeBadTokenParams, "Parameter [assertion] is missing")
		}
		if app, ok := s.jwts[a]; !ok || app != clientID {
			return oauthErr(http.StatusBadRequest, "invalid_grant", CodeInvalidGrant, "Invalid assertion signature")
		}
		scopes, owner = allPermissions, OwnerID
	case "refresh_token":
		old := form.Get("refresh_token")
		rt := s.refresh[old]
		if rt == nil || rt.clientID != clientID || !now.Before(rt.expires) {
			return oauthErr(http.StatusBadRequest, "invalid_grant", CodeTokenRevoked, "Token is revoked")
		}
		// Refresh tokens are single-use and rotate; the access token
		// issued with this one dies at once (VENDORS.md 2.2). The vendor's
		// short grace for the old refresh token is not modelled: a second
		// use is refused.
		delete(s.refresh, old)
		delete(s.access, rt.access)
		scopes, owner = rt.scopes, rt.owner
	case "":
		return oauthErr(http.StatusBadRequest, "invalid_request", CodeBadTokenParams, "Parameter [grant_type] is missing")
	default:
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", CodeUnsupportedGT, "Unsupported grant type: "+gt)
	}
	access := s.issueAccessLocked(clientID, scopes, now)
	refresh := randomString(48)
	s.refresh[refresh] = &refreshToken{owner: owner, clientID: clientID, scopes: scopes,
		expires: now.Add(s.cfg.refreshTTL), access: access}
	writeJSON(w, http.StatusOK, "application/json;charset=UTF-8", tokenAnswer{
		AccessToken:           access,
		TokenType:             "bearer",
		ExpiresIn:             int64(s.cfg.accessTTL.Seconds()),
		RefreshToken:          refresh,
		RefreshTokenExpiresIn: int64(s.cfg.refreshTTL.Seconds()),
		Scope:                 strings.Join(scopes, " "),
		OwnerID:               owner,
	})
	return nil
}
