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
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// tokenServer is a loopback OAuth2 token endpoint for the refresh_token
// grant that rotates single-use refresh tokens the way RingCentral does
// (VENDORS.md 2.2): each answer carries access token "a<n>" and refresh
// token "r<n>", and only the latest refresh token is accepted.
type tokenServer struct {
	*httptest.Server
	t         *testing.T
	style     AuthStyle
	expiresIn int
	gate      chan struct{} // when set, each request waits for it
	arrived   chan struct{} // when set, gets a value when a request arrives
	fail      atomic.Int64  // answer this many requests with a 500 first
	rotate    bool

	mu      sync.Mutex
	n       int
	current string   // the refresh token accepted next
	seen    []string // refresh tokens received, in order
}

func newTokenServer(t *testing.T, style AuthStyle) *tokenServer {
	t.Helper()
	ts := &tokenServer{t: t, style: style, expiresIn: 3600, current: "r0", rotate: true}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if ts.arrived != nil {
		ts.arrived <- struct{}{}
	}
	if ts.gate != nil {
		<-ts.gate
	}
	if ts.fail.Load() > 0 {
		ts.fail.Add(-1)
		http.Error(w, `{"error":"temporarily_unavailable"}`, http.StatusInternalServerError)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	id, secret, basic := r.BasicAuth()
	switch {
	case basic && ts.style != AuthStyleParams:
	case !basic && ts.style != AuthStyleHeader && r.PostForm.Get("client_id") != "":
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	if id != "cid" || secret != "csecret" || r.PostForm.Get("grant_type") != "refresh_token" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	ts.seen = append(ts.seen, rt)
	if rt != ts.current {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	ts.n++
	body := map[string]any{"access_token": fmt.Sprintf("a%d", ts.n), "token_type": "bearer", "expires_in": ts.expiresIn}
	if ts.rotate {
		ts.current = fmt.Sprintf("r%d", ts.n)
		body["refresh_token"] = ts.current
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (ts *tokenServer) issued() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.n
}

func (ts *tokenServer) grant() RefreshGrant {
	return RefreshGrant{HTTPClient: ts.Client(), TokenURL: ts.URL, ClientID: "cid", ClientSecret: "csecret",
		RefreshToken: "r0", AuthStyle: ts.style}
}

// fakeTokenCache is a TokenCache on a fake clock. x/oauth2 sets Expiry
// from the real clock, so the fetch rebases it onto the fake one.
func fakeTokenCache(fetch func(context.Context) (*oauth2.Token, error), early time.Duration) (*TokenCache, *fakeClock) {
	clk := &fakeClock{}
	tc := NewTokenCache(func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := fetch(ctx)
		if err == nil && !tok.Expiry.IsZero() {
			tok.Expiry = clk.now().Add(time.Until(tok.Expiry))
		}
		return tok, err
	}, early)
	tc.now = clk.now
	return tc, clk
}

func mustToken(t *testing.T, ts TokenSource, want string) {
	t.Helper()
	got, err := ts.Token(t.Context())
	if err != nil || got != want {
		t.Fatalf("Token() = %q, %v; want %q", got, err, want)
	}
}

func TestStaticToken(t *testing.T) {
	s := StaticToken("abc")
	mustToken(t, s, "abc")
	s.Invalidate("abc")
	mustToken(t, s, "abc")
}

func TestRefreshTokenGrantRotation(t *testing.T) {
	for _, style := range []AuthStyle{AuthStyleHeader, AuthStyleParams, AuthStyleAuto} {
		t.Run(fmt.Sprint(style), func(t *testing.T) {
			ts := newTokenServer(t, style)
			var rotated []string
			g := ts.grant()
			g.OnRotate = func(rt string) { rotated = append(rotated, rt) }
			fetch := g.Fetch()
			for i := 1; i <= 3; i++ {
				tok, err := fetch(t.Context())
				if err != nil {
					t.Fatalf("fetch %d: %v", i, err)
				}
				if want := fmt.Sprintf("a%d", i); tok.AccessToken != want || tok.Expiry.IsZero() {
					t.Errorf("fetch %d = %q (expiry %v), want %q with an expiry", i, tok.AccessToken, tok.Expiry, want)
				}
			}
			ts.mu.Lock()
			seen := ts.seen
			ts.mu.Unlock()
			// Auto-detection may spend a first try on the other style; the
			// refresh tokens sent successfully must be r0, r1, r2.
			var accepted []string
			for _, s := range seen {
				if len(accepted) == 0 || s != accepted[len(accepted)-1] {
					accepted = append(accepted, s)
				}
			}
			if fmt.Sprint(accepted) != "[r0 r1 r2]" {
				t.Errorf("refresh tokens sent %v, want r0, r1, r2 (each rotated one used next)", seen)
			}
			if fmt.Sprint(rotated) != "[r1 r2 r3]" {
				t.Errorf("OnRotate saw %v", rotated)
			}
		})
	}
}

func TestRefreshTokenGrantKeepsTokenWithoutRotation(t *testing.T) {
	ts := newTokenServer(t, AuthStyleParams)
	ts.rotate = false
	fetch := RefreshTokenGrant(ts.Client(), ts.URL, "cid", "csecret", "r0")
	for i := range 2 {
		if _, err := fetch(t.Context()); err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.n != 2 || ts.seen[len(ts.seen)-1] != "r0" {
		t.Errorf("issued %d, sent %v; want r0 kept", ts.n, ts.seen)
	}
}

func TestRefreshTokenGrantError(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	g := ts.grant()
	g.RefreshToken = "stale"
	_, err := g.Fetch()(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("fetch with a stale refresh token = %v, want invalid_grant", err)
	}
}

func TestTokenCacheRefreshesBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	tc, clk := fakeTokenCache(ts.grant().Fetch(), 5*time.Minute)
	mustToken(t, tc, "a1")
	clk.advance(54 * time.Minute) // 6 minutes left: still fresh
	mustToken(t, tc, "a1")
	clk.advance(2 * time.Minute) // 4 minutes left: inside the early window
	mustToken(t, tc, "a2")
	mustToken(t, tc, "a2")
	if ts.issued() != 2 {
		t.Errorf("token endpoint issued %d tokens, want 2", ts.issued())
	}
}

func TestTokenCacheZeroExpiry(t *testing.T) {
	var n atomic.Int64
	tc, clk := fakeTokenCache(func(context.Context) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: fmt.Sprintf("t%d", n.Add(1))}, nil
	}, time.Minute)
	mustToken(t, tc, "t1")
	clk.advance(1000 * time.Hour)
	mustToken(t, tc, "t1")
	tc.Invalidate("other")
	mustToken(t, tc, "t1")
	tc.Invalidate("t1")
	mustToken(t, tc, "t2")
}

func TestTokenCacheConcurrentCallersShareOneFetch(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	ts.gate = make(chan struct{})
	ts.arrived = make(chan struct{}, 100)
	tc := NewTokenCache(ts.grant().Fetch(), time.Minute)
	const callers = 50
	var wg sync.WaitGroup
	got := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { got[i], errs[i] = tc.Token(t.Context()) })
	}
	<-ts.arrived
	// Every caller waits for the one fetch before it answers.
	for start := time.Now(); waiters(tc) < callers; time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			close(ts.gate)
			t.Fatalf("only %d of %d callers wait for the fetch in flight", waiters(tc), callers)
		}
	}
	close(ts.gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || got[i] != "a1" {
			t.Fatalf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if ts.issued() != 1 || len(ts.arrived) != 0 {
		t.Errorf("token endpoint issued %d tokens (%d more requests), want 1", ts.issued(), len(ts.arrived))
	}
}

// waiters is how many callers wait for the fetch in flight.
func waiters(tc *TokenCache) int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.call == nil {
		return 0
	}
	return tc.call.waiters
}

func TestTokenCacheCallerLeavesFetchGoesOn(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	ts.gate = make(chan struct{})
	ts.arrived = make(chan struct{}, 10)
	tc := NewTokenCache(ts.grant().Fetch(), time.Minute)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := tc.Token(ctx)
		done <- err
	}()
	<-ts.arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Token after cancel = %v, want context.Canceled", err)
	}
	close(ts.gate)
	// The fetch the first caller started finishes and is shared.
	mustToken(t, tc, "a1")
	if ts.issued() != 1 {
		t.Errorf("issued %d, want 1", ts.issued())
	}
}

func TestTokenCacheErrorNotCachedForever(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	ts.fail.Store(1)
	tc, clk := fakeTokenCache(ts.grant().Fetch(), time.Minute)
	if _, err := tc.Token(t.Context()); err == nil {
		t.Fatal("Token with a failing endpoint = nil error")
	}
	// Within the hold, the error is answered without a request.
	if _, err := tc.Token(t.Context()); err == nil {
		t.Fatal("Token within the error hold = nil error")
	}
	if ts.issued() != 0 {
		t.Fatalf("issued %d", ts.issued())
	}
	clk.advance(tokenErrorHold + time.Millisecond)
	mustToken(t, tc, "a1")
}

func TestTokenCacheKeepsValidTokenWhenRefreshFails(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	tc, clk := fakeTokenCache(ts.grant().Fetch(), 10*time.Minute)
	mustToken(t, tc, "a1")
	clk.advance(55 * time.Minute)
	ts.fail.Store(1)
	mustToken(t, tc, "a1") // refresh failed, a1 has 5 minutes left
	clk.advance(6 * time.Minute)
	if _, err := tc.Token(t.Context()); err != nil {
		// Past the error hold, a new fetch succeeds.
		t.Fatalf("Token after expiry: %v", err)
	}
	mustToken(t, tc, "a2")
}

func TestTokenCacheRejectsEmptyToken(t *testing.T) {
	tc := NewTokenCache(func(context.Context) (*oauth2.Token, error) { return &oauth2.Token{}, nil }, 0)
	if _, err := tc.Token(t.Context()); err == nil {
		t.Fatal("Token with an empty access token = nil error")
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	tc := NewTokenCache(ts.grant().Fetch(), time.Minute)
	api := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		// The vendor revoked a1 early; only a2 works.
		if r.Header.Get("Authorization") != "Bearer a2" {
			status(401)(w, r)
			return
		}
		status(201)(w, r)
	})
	c, _ := newTestClient(t, api.URL, tc)
	resp, err := c.Do(t.Context(), Request{Method: "POST", Path: "/Users", Body: []byte(`{}`)})
	if err != nil || resp.Status != 201 || resp.Attempts != 2 {
		t.Fatalf("Do = %+v, %v; want 201 after 2 attempts", resp, err)
	}
	if ts.issued() != 2 || api.count() != 2 {
		t.Errorf("tokens issued %d, API requests %d; want 2 and 2", ts.issued(), api.count())
	}
}

func TestUnauthorizedTwiceReturns401(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	tc := NewTokenCache(ts.grant().Fetch(), time.Minute)
	api := newScripted(t, status(401, "TrackingID", "T-401"))
	c, _ := newTestClient(t, api.URL, tc)
	resp, err := c.Do(t.Context(), Request{Path: "/Users/1"})
	if err != nil || resp.Status != 401 || resp.Attempts != 2 || api.count() != 2 {
		t.Fatalf("Do = %+v, %v after %d requests; want the second 401", resp, err, api.count())
	}
	// A static token has nothing fresher: no pointless re-send.
	c2, _ := newTestClient(t, api.URL, StaticToken("s"))
	before := api.count()
	resp, err = c2.Do(t.Context(), Request{Path: "/Users/1"})
	if err != nil || resp.Status != 401 || api.count()-before != 1 {
		t.Fatalf("static: Do = %+v, %v after %d requests; want one 401", resp, err, api.count()-before)
	}
}

func TestTokenErrorIs502(t *testing.T) {
	ts := newTokenServer(t, AuthStyleHeader)
	g := ts.grant()
	g.RefreshToken = "revoked"
	api := newScripted(t, status(200))
	c, _ := newTestClient(t, api.URL, NewTokenCache(g.Fetch(), 0))
	_, err := c.Do(t.Context(), Request{Path: "/"})
	var re *oauth2.RetrieveError
	if se := asScim(t, err); se.Status != http.StatusBadGateway || !errors.As(err, &re) || api.count() != 0 {
		t.Fatalf("Do = %v, API requests %d; want a 502 wrapping the token error and nothing sent", err, api.count())
	}
}

func TestTokenCacheFetchPanic(t *testing.T) {
	tc := NewTokenCache(func(context.Context) (*oauth2.Token, error) { panic("boom") }, 0)
	if _, err := tc.Token(t.Context()); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Token with a panicking fetch = %v, want an error", err)
	}
}
