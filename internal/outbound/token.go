package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// TokenSource supplies bearer tokens; one per target, shared by its requests.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate drops token after the vendor refused it (401), so the next Token fetches a fresh one.
	Invalidate(token string)
}

// StaticToken is a TokenSource that always returns token (a personal or
// long-lived token configured by hand). Invalidate does nothing: a 401 is
// returned as it is, since there is no fresher token to retry with. An
// empty token sends no Authorization header.
func StaticToken(token string) TokenSource { return staticToken(token) }

type staticToken string

func (t staticToken) Token(context.Context) (string, error) { return string(t), nil }
func (staticToken) Invalidate(string)                       {}

// TokenCache is a TokenSource over a fetch function: it caches the token,
// refreshes it `early` before its expiry, and runs one fetch at a time,
// which every caller needing a token waits for and shares. It is safe for
// concurrent use.
type TokenCache struct {
	fetch func(ctx context.Context) (*oauth2.Token, error)
	early time.Duration

	// Tests set these.
	now          func() time.Time
	fetchTimeout time.Duration // bounds a fetch, which outlives the caller that started it
	errHold      time.Duration // how long a failed fetch is answered from memory

	mu       sync.Mutex
	tok      *oauth2.Token
	call     *fetchCall // the fetch in flight, if any
	err      error      // the last fetch's error, answered until errUntil
	errUntil time.Time
}

type fetchCall struct {
	done    chan struct{}
	tok     *oauth2.Token
	err     error
	waiters int // callers that waited for it (under TokenCache.mu); tests read it
}

// Fetch timing defaults of a TokenCache.
const (
	// tokenFetchTimeout bounds one fetch: waiters leave with their own
	// deadlines, but the fetch itself must end.
	tokenFetchTimeout = 30 * time.Second
	// tokenErrorHold is how long a failed fetch's error is returned without
	// a new fetch, so a broken token endpoint (RingCentral allows 5 token
	// calls a minute, VENDORS.md 2.10) is not hammered by every request.
	tokenErrorHold = 2 * time.Second
)

// NewTokenCache caches what fetch returns, refreshes it `early` before
// expiry, and lets only one fetch run at a time (callers wait for it).
// fetch returns an *oauth2.Token (Expiry may be zero: then the token is
// used until the vendor refuses it).
//
// A fetch runs on a context detached from the caller that started it (its
// values kept, its cancellation not), bounded by 30s, so one caller leaving
// does not fail the others waiting; a caller whose context ends stops
// waiting at once. A failed fetch is not cached: its error is answered for
// 2s, then the next call fetches again. While a refresh in the early window
// fails, the old token is used until it actually expires.
func NewTokenCache(fetch func(ctx context.Context) (*oauth2.Token, error), early time.Duration) *TokenCache {
	return &TokenCache{
		fetch:        fetch,
		early:        max(0, early),
		now:          time.Now,
		fetchTimeout: tokenFetchTimeout,
		errHold:      tokenErrorHold,
	}
}

// Token returns the cached access token, fetching a new one when there is
// none or it is within `early` of its expiry.
func (tc *TokenCache) Token(ctx context.Context) (string, error) {
	tc.mu.Lock()
	now := tc.now()
	if tc.fresh(now) {
		s := tc.tok.AccessToken
		tc.mu.Unlock()
		return s, nil
	}
	if tc.err != nil && now.Before(tc.errUntil) {
		return tc.fallback(now, tc.err)
	}
	call := tc.call
	if call == nil {
		call = &fetchCall{done: make(chan struct{})}
		tc.call = call
		go tc.run(context.WithoutCancel(ctx), call)
	}
	call.waiters++
	tc.mu.Unlock()

	select {
	case <-call.done:
		if call.err == nil {
			return call.tok.AccessToken, nil
		}
		tc.mu.Lock()
		return tc.fallback(tc.now(), call.err)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// fallback answers after a fetch failed with err: the cached token while
// it has not expired, otherwise err. It is called with tc.mu held and
// unlocks.
func (tc *TokenCache) fallback(now time.Time, err error) (string, error) {
	defer tc.mu.Unlock()
	if tc.tok != nil && (tc.tok.Expiry.IsZero() || now.Before(tc.tok.Expiry)) {
		return tc.tok.AccessToken, nil
	}
	return "", err
}

// fresh reports whether the cached token can be used without a refresh.
func (tc *TokenCache) fresh(now time.Time) bool {
	return tc.tok != nil && (tc.tok.Expiry.IsZero() || now.Before(tc.tok.Expiry.Add(-tc.early)))
}

func (tc *TokenCache) run(ctx context.Context, call *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, tc.fetchTimeout)
	defer cancel()
	// The fetch runs on the context of the call that started it (values
	// kept), so its span is a child of that call's and its count is
	// labelled with that call's target.
	ctx, span := telemetry.Start(ctx, "outbound.TokenRefresh", attribute.String(telemetry.AttrSCIMTarget, telemetry.TargetFrom(ctx)))
	tok, err := tc.safeFetch(ctx)
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errors.New("outbound: token fetch returned no access token")
	}
	telemetry.RecordTokenRefresh(ctx, telemetry.TargetFrom(ctx), err == nil)
	telemetry.End(span, err)
	tc.mu.Lock()
	tc.call = nil
	if err != nil {
		tc.err, tc.errUntil = err, tc.now().Add(tc.errHold)
	} else {
		tc.tok, tc.err = tok, nil
	}
	tc.mu.Unlock()
	call.tok, call.err = tok, err
	close(call.done)
}

// safeFetch runs fetch, turning a panic into an error: the fetch runs on
// its own goroutine, where a panic would end the process, and its waiters
// must be released either way.
func (tc *TokenCache) safeFetch(ctx context.Context) (tok *oauth2.Token, err error) {
	defer func() {
		if p := recover(); p != nil {
			tok, err = nil, fmt.Errorf("outbound: token fetch panicked: %v", p)
		}
	}()
	return tc.fetch(ctx)
}

// Invalidate drops token if it is the cached one, so the next Token
// fetches; a token already replaced by a newer one is ignored, so many
// concurrent 401s cause one fetch.
func (tc *TokenCache) Invalidate(token string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok != nil && tc.tok.AccessToken == token {
		tc.tok = nil
	}
}

// AuthStyle says how a client authenticates to a token endpoint.
type AuthStyle int

const (
	// AuthStyleAuto tries HTTP Basic first, then form parameters, and
	// remembers what worked (golang.org/x/oauth2's auto-detection).
	AuthStyleAuto AuthStyle = iota
	// AuthStyleHeader sends client_id and client_secret as HTTP Basic
	// (RingCentral, VENDORS.md 2.2).
	AuthStyleHeader
	// AuthStyleParams sends client_id and client_secret as form parameters
	// (Webex /v1/access_token, VENDORS.md 1.2).
	AuthStyleParams
)

func (s AuthStyle) oauth2() oauth2.AuthStyle {
	switch s {
	case AuthStyleHeader:
		return oauth2.AuthStyleInHeader
	case AuthStyleParams:
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// RefreshGrant configures the OAuth2 refresh_token grant (RFC 6749 §6).
type RefreshGrant struct {
	// HTTPClient sends the token requests; nil means http.DefaultClient.
	HTTPClient   *http.Client
	TokenURL     string
	ClientID     string
	ClientSecret string
	// RefreshToken is the first refresh token; each answer's rotated one
	// replaces it.
	RefreshToken string
	AuthStyle    AuthStyle
	// Scopes, when set, are sent as the scope parameter.
	Scopes []string
	// OnRotate, when set, is called with every new refresh token the
	// endpoint returns, before the access token is used, so that it can be
	// persisted: RingCentral refresh tokens are single-use (VENDORS.md 2.2),
	// and a restart with the old one would fail.
	OnRotate func(refreshToken string)
}

// Fetch returns a fetch func for NewTokenCache. It remembers the rotated
// refresh token, and serializes its calls so that a single-use refresh
// token is never sent twice.
func (g RefreshGrant) Fetch() func(ctx context.Context) (*oauth2.Token, error) {
	cfg := &oauth2.Config{
		ClientID:     g.ClientID,
		ClientSecret: g.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: g.TokenURL, AuthStyle: g.AuthStyle.oauth2()},
		Scopes:       g.Scopes,
	}
	var mu sync.Mutex
	current := g.RefreshToken
	return func(ctx context.Context) (*oauth2.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		tok, err := refresh(ctx, cfg, g.HTTPClient, current)
		if err != nil {
			return nil, fmt.Errorf("outbound: refresh token grant: %w", err)
		}
		if tok.RefreshToken != "" && tok.RefreshToken != current {
			current = tok.RefreshToken
			if g.OnRotate != nil {
				g.OnRotate(current)
			}
		}
		return tok, nil
	}
}

// RefreshTokenGrant is a fetch func for the OAuth2 refresh_token grant (x/oauth2), remembering the
// rotated refresh token the endpoint returns. The client authenticates as
// AuthStyleAuto; use RefreshGrant to choose the style or persist rotations.
func RefreshTokenGrant(hc *http.Client, tokenURL, clientID, clientSecret, refreshToken string) func(ctx context.Context) (*oauth2.Token, error) {
	return RefreshGrant{HTTPClient: hc, TokenURL: tokenURL, ClientID: clientID, ClientSecret: clientSecret,
		RefreshToken: refreshToken}.Fetch()
}

var (
	_ TokenSource = staticToken("")
	_ TokenSource = (*TokenCache)(nil)
)
