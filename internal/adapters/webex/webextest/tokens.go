package webextest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OAuth scopes the simulator knows (VENDORS.md 1.2).
const (
	ScopePeopleRead        = "identity:people_read"
	ScopePeopleRW          = "identity:people_rw"
	ScopeApplicationsToken = "spark:applications_token"
)

// clientScopes are the scopes of tokens the token endpoints issue: a
// service app or integration authorized for SCIM provisioning.
var clientScopes = []string{ScopePeopleRW, ScopePeopleRead}

type accessToken struct {
	scopes  []string
	expires time.Time
}

type refreshToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

func (t *accessToken) has(scopes ...string) bool {
	for _, s := range scopes {
		if slices.Contains(t.scopes, s) {
			return true
		}
	}
	return false
}

// IssueToken returns a new access token with the given scopes (default
// identity:people_rw), valid for the token TTL. It is safe for concurrent
// use.
func (s *Sim) IssueToken(scopes ...string) string {
	if len(scopes) == 0 {
		scopes = []string{ScopePeopleRW}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueAccessLocked(scopes, s.now())
}

// IssueRefreshToken returns a new refresh token for clientID (which should
// be registered with RegisterClient), as an integration's authorization-code
// exchange would have left it. The access tokens it refreshes get scopes
// (default identity:people_rw and identity:people_read).
func (s *Sim) IssueRefreshToken(clientID string, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = clientScopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueRefreshLocked(clientID, scopes, s.now())
}

// RegisterClient lets clientID with secret use the token endpoints: the
// refresh_token grant and the service-app token endpoint.
func (s *Sim) RegisterClient(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = secret
}

// ExpireTokens makes every access token issued so far invalid: each answers
// 401 from now on. Refresh tokens stay valid.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

func (s *Sim) issueAccessLocked(scopes []string, now time.Time) string {
	tok := randomToken()
	s.access[tok] = &accessToken{scopes: slices.Clone(scopes), expires: now.Add(s.cfg.tokenTTL)}
	return tok
}

func (s *Sim) issueRefreshLocked(clientID string, scopes []string, now time.Time) string {
	tok := randomToken()
	s.refresh[tok] = &refreshToken{clientID: clientID, scopes: slices.Clone(scopes), expires: now.Add(s.cfg.refreshTTL)}
	return tok
}

// randomToken returns an opaque token in the shape of Webex's: random text,
// an underscore-separated suffix.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b[:24]) + "_PF84_" + hex.EncodeToString(b[24:])
}

// authenticate returns the access token of r's Authorization header, or
// the 401 (family 2) Webex answers without a valid one. The caller holds s.mu.
func (s *Sim) authenticate(r *http.Request, now time.Time) (string, *accessToken, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", nil, platformErr(http.StatusUnauthorized, "The request requires a valid access token set in the Authorization request header.")
	}
	at := s.access[tok]
	if at == nil || !now.Before(at.expires) {
		return "", nil, platformErr(http.StatusUnauthorized, "The request requires a valid access token set in the Authorization request header.")
	}
	return tok, at, nil
}

// tokenAnswer is the body of a token endpoint's success.
type tokenAnswer struct {
	AccessToken           string `json:"access_token"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	TokenType             string `json:"token_type"`
}

// serveAccessToken is POST /v1/access_token (VENDORS.md 1.2): the
// refresh_token grant, client id and secret as form parameters (or HTTP
// Basic, which OAuth2 clients try first).
func (s *Sim) serveAccessToken(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return platformErr(http.StatusMethodNotAllowed, "Method %s is not allowed.", r.Method)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return platformErr(http.StatusBadRequest, "The request body is not a valid form.")
	}
	clientID, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if id, sec, ok := r.BasicAuth(); ok && clientID == "" {
		// RFC 6749 §2.3.1: HTTP Basic carries the form-encoded id and secret.
		clientID, secret = id, sec
		if v, err := url.QueryUnescape(id); err == nil {
			clientID = v
		}
		if v, err := url.QueryUnescape(sec); err == nil {
			secret = v
		}
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "refresh_token":
	case "":
		return platformErr(http.StatusBadRequest, "grant_type is required.")
	default:
		return platformErr(http.StatusBadRequest, "grant_type %q is not supported by this simulator.", gt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.clientOK(clientID, secret) {
		return platformErr(http.StatusUnauthorized, "Invalid client_id or client_secret.")
	}
	now := s.now()
	old := r.PostForm.Get("refresh_token")
	rt := s.refresh[old]
	if rt == nil || rt.clientID != clientID || !now.Before(rt.expires) {
		return platformErr(http.StatusBadRequest, "The refresh token provided is expired, revoked, malformed, or invalid.")
	}
	next := old
	if s.cfg.rotateRefresh {
		delete(s.refresh, old)
		next = s.issueRefreshLocked(clientID, rt.scopes, now)
		rt = s.refresh[next]
	}
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken:           s.issueAccessLocked(rt.scopes, now),
		ExpiresIn:             int64(s.cfg.tokenTTL / time.Second),
		RefreshToken:          next,
		RefreshTokenExpiresIn: int64(rt.expires.Sub(now) / time.Second),
		TokenType:             "Bearer",
	})
	return nil
}

// serveAppToken is POST /v1/applications/{applicationId}/token (VENDORS.md
// 1.2): a service app's first token pair, asked for by an integration
// whose bearer token holds spark:applications_token. Any applicationId is
// accepted; the client id and secret in the body must be registered, and
// targetOrgId must be this org (as a UUID or as a base64 Webex org id).
func (s *Sim) serveAppToken(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return platformErr(http.StatusMethodNotAllowed, "Method %s is not allowed.", r.Method)
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		return platformErr(http.StatusBadRequest, "The request body could not be read.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	_, at, err := s.authenticate(r, now)
	if err != nil {
		return err
	}
	if !at.has(ScopeApplicationsToken) {
		return platformErr(http.StatusForbidden, "The access token does not have the spark:applications_token scope.")
	}
	var body struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		TargetOrgID  string `json:"targetOrgId"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return platformErr(http.StatusBadRequest, "The request body is not valid JSON.")
	}
	if body.ClientID == "" || body.ClientSecret == "" || body.TargetOrgID == "" {
		return platformErr(http.StatusBadRequest, "clientId, clientSecret and targetOrgId are required.")
	}
	if !s.clientOK(body.ClientID, body.ClientSecret) {
		return platformErr(http.StatusBadRequest, "Invalid clientId or clientSecret.")
	}
	if orgUUID(body.TargetOrgID) != s.cfg.orgID {
		return platformErr(http.StatusForbidden, "The service app is not authorized in org %s.", body.TargetOrgID)
	}
	refresh := s.issueRefreshLocked(body.ClientID, clientScopes, now)
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken:           s.issueAccessLocked(clientScopes, now),
		ExpiresIn:             int64(s.cfg.tokenTTL / time.Second),
		RefreshToken:          refresh,
		RefreshTokenExpiresIn: int64(s.cfg.refreshTTL / time.Second),
		TokenType:             "Bearer",
	})
	return nil
}

// clientOK checks a client's credentials. The caller holds s.mu.
func (s *Sim) clientOK(id, secret string) bool {
	want, ok := s.clients[id]
	return ok && id != "" && subtle.ConstantTimeCompare([]byte(want), []byte(secret)) == 1
}

// orgUUID returns the UUID of an org id given as a UUID or in the REST
// API's base64 form, which decodes to ciscospark://us/ORGANIZATION/<uuid>
// (VENDORS.md 1.1).
func orgUUID(id string) string {
	if dec, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(id, "=")); err == nil {
		if i := strings.LastIndexByte(string(dec), '/'); i >= 0 && strings.HasPrefix(string(dec), "ciscospark://") {
			return strings.ToLower(string(dec[i+1:]))
		}
	}
	return strings.ToLower(id)
}
