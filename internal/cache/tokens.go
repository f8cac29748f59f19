package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// The defaults of TokenOptions.
const (
	DefaultTokenLock = 15 * time.Second
	DefaultTokenPoll = 50 * time.Millisecond
)

// TokenOptions tune SharedTokens; zero values take the defaults noted.
type TokenOptions struct {
	// Lock is how long a replica holds the refresh lock at most, and so
	// bounds its token fetch; a replica that dies holding it delays the
	// others' refresh by at most this long. Default DefaultTokenLock.
	Lock time.Duration
	// Poll is how often a replica waiting for another's fetch looks for
	// the token it stores. Default DefaultTokenPoll.
	Poll time.Duration
}

// TokenStats counts what a Tokens did since SharedTokens, for metrics and
// tests.
type TokenStats struct {
	Fetched   uint64 // tokens fetched from the vendor for every replica (holding the lock)
	Read      uint64 // tokens read from Redis, stored by any replica
	Fallbacks uint64 // tokens fetched for this replica alone, Redis being degraded
}

// Tokens is an outbound.TokenSource whose access token lives in Redis,
// shared by every replica of a target: see SharedTokens. It is safe for
// concurrent use.
type Tokens struct {
	local   *outbound.TokenCache // this replica's copy, over get
	r       *Redis
	fetch   func(ctx context.Context) (*oauth2.Token, error)
	early   time.Duration
	key     string // scimgw:v1:<target>:token
	lockKey string // scimgw:v1:<target>:token:lock
	lock    time.Duration
	poll    time.Duration

	fetched, read, fallbacks atomic.Uint64
}

var _ outbound.TokenSource = (*Tokens)(nil)

// delPrefixScript deletes KEYS[1] if its value begins with ARGV[1]: the
// compare-and-delete that releases the refresh lock (the value is the
// holder's random id) and drops a refused token (the value begins with
// the token and a newline), so that neither removes what another replica
// wrote since.
var delPrefixScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// SharedTokens returns a token source for target whose access token every
// replica shares through r, so that N replicas make the token calls of
// one: a vendor that counts token calls (RingCentral: 5 a minute, and a
// few sessions per user; VENDORS.md 2.2, 2.10), or that kills the old
// access token on each refresh, sees a single client. fetch and early are
// those of outbound.NewTokenCache.
//
// Each replica keeps the token in process (an outbound.TokenCache: one
// fetch at a time, the old token kept while a refresh in the early window
// fails). When that copy is missing or due, the replica reads key
// scimgw:v1:<target>:token. On a miss it takes a lock (SET NX PX with a
// random value, at most o.Lock), fetches through fetch within the lock's
// time, stores the token with a TTL of its expiry less early (none when
// the vendor gives no expiry), and releases the lock by compare-and-delete.
// A replica that does not get the lock polls the key every o.Poll, bounded
// by its context, and takes the lock itself if it is released without a
// token. So one replica at a time fetches, which a rotating refresh token
// needs; but the refresh token itself is not shared (see docs/cache.md).
//
// Invalidate (after a 401) drops the token from Redis only if it still
// holds the refused one, so a burst of 401s across replicas causes one
// fetch. While r is degraded, or when a call to it fails, the replica
// fetches for itself at once: correct, at the cost of more token calls.
func SharedTokens(fetch func(ctx context.Context) (*oauth2.Token, error), early time.Duration, r *Redis, target string, o TokenOptions) *Tokens {
	t := &Tokens{
		r: r, fetch: fetch, early: max(0, early),
		key:     "scimgw:v1:" + target + ":token",
		lockKey: "scimgw:v1:" + target + ":token:lock",
		lock:    o.Lock, poll: o.Poll,
	}
	if t.lock <= 0 {
		t.lock = DefaultTokenLock
	}
	if t.poll <= 0 {
		t.poll = DefaultTokenPoll
	}
	t.local = outbound.NewTokenCache(t.get, early)
	return t
}

// Token implements outbound.TokenSource.
func (t *Tokens) Token(ctx context.Context) (string, error) { return t.local.Token(ctx) }

// Invalidate implements outbound.TokenSource: it deletes the shared token
// if it is still tok, then drops this replica's copy.
func (t *Tokens) Invalidate(tok string) {
	if tok != "" && !strings.Contains(tok, "\n") {
		// Invalidate has no context: the store's timeout bounds the call.
		_ = t.r.call(context.Background(), func(ctx context.Context) error {
			return delPrefixScript.Run(ctx, t.r.client, []string{t.key}, tok+"\n").Err()
		})
	}
	t.local.Invalidate(tok)
}

// Stats returns the counts since SharedTokens.
func (t *Tokens) Stats() TokenStats {
	return TokenStats{Fetched: t.fetched.Load(), Read: t.read.Load(), Fallbacks: t.fallbacks.Load()}
}

// get is the local cache's fetch: the shared token, fetched under the lock
// when Redis has none.
func (t *Tokens) get(ctx context.Context) (*oauth2.Token, error) {
	for {
		if !t.r.State().Healthy {
			return t.alone(ctx)
		}
		tok, err := t.load(ctx)
		if err != nil {
			return t.alone(ctx)
		}
		if tok != nil {
			t.read.Add(1)
			return tok, nil
		}
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		owner := hex.EncodeToString(id)
		until := time.Now().Add(t.lock)
		got, err := t.r.Add(ctx, t.lockKey, []byte(owner), t.lock)
		if err != nil {
			return t.alone(ctx)
		}
		if got {
			return t.refresh(ctx, owner, until)
		}
		// Another replica is fetching: wait for its token.
		timer := time.NewTimer(t.poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// refresh fetches the token for every replica while holding the lock,
// which it releases before returning.
func (t *Tokens) refresh(ctx context.Context, owner string, until time.Time) (*oauth2.Token, error) {
	defer func() {
		_ = t.r.call(context.WithoutCancel(ctx), func(ctx context.Context) error {
			return delPrefixScript.Run(ctx, t.r.client, []string{t.lockKey}, owner).Err()
		})
	}()
	// Another replica may have stored a token between our read and our
	// lock.
	if tok, err := t.load(ctx); err == nil && tok != nil {
		t.read.Add(1)
		return tok, nil
	}
	// The fetch ends before the lock does (a tenth of it spare for the
	// round trips), so no other replica fetches meanwhile.
	fctx, cancel := context.WithDeadline(ctx, until.Add(-t.lock/10))
	defer cancel()
	tok, err := t.fetch(fctx)
	if err != nil || tok == nil || tok.AccessToken == "" {
		return tok, err
	}
	t.fetched.Add(1)
	if strings.Contains(tok.AccessToken, "\n") {
		return tok, nil // not a valid bearer token (RFC 6750 §2.1); the vendor will say so
	}
	ttl := time.Duration(0) // no expiry: until a 401 invalidates it
	if !tok.Expiry.IsZero() {
		left := time.Until(tok.Expiry)
		if ttl = left - t.early; ttl <= 0 {
			// Shorter-lived than early: share it for half its life.
			ttl = left / 2
		}
		if ttl <= 0 {
			return tok, nil
		}
	}
	_ = t.r.Set(ctx, ttl, Entry{Key: t.key, Value: encodeToken(tok)})
	return tok, nil
}

// alone fetches a token for this replica only.
func (t *Tokens) alone(ctx context.Context) (*oauth2.Token, error) {
	t.fallbacks.Add(1)
	return t.fetch(ctx)
}

// load reads the shared token: nil when there is none.
func (t *Tokens) load(ctx context.Context) (*oauth2.Token, error) {
	vals, err := t.r.Get(ctx, t.key)
	if err != nil {
		return nil, err
	}
	return decodeToken(vals[0]), nil
}

// encodeToken is "<access token>\n<expiry, Unix ms; 0 for none>". Only the
// access token and its expiry are shared: the token type is Bearer, and a
// refresh token stays with the replica that holds it.
func encodeToken(tok *oauth2.Token) []byte {
	var ms int64
	if !tok.Expiry.IsZero() {
		ms = tok.Expiry.UnixMilli()
	}
	return []byte(tok.AccessToken + "\n" + strconv.FormatInt(ms, 10))
}

// decodeToken parses what encodeToken wrote; anything else is no token.
func decodeToken(b []byte) *oauth2.Token {
	s, exp, ok := strings.Cut(string(b), "\n")
	if !ok || s == "" {
		return nil
	}
	ms, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || ms < 0 {
		return nil
	}
	tok := &oauth2.Token{AccessToken: s, TokenType: "Bearer"}
	if ms > 0 {
		tok.Expiry = time.UnixMilli(ms)
	}
	return tok
}
