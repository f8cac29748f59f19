package webextest

import (
	"net/http"
	"strings"
	"time"
)

// Option configures a Sim. Options that are given a zero or nil value keep
// the default.
type Option func(*Sim)

// config holds what the options set; it does not change after New.
type config struct {
	orgID        string
	locationBase string

	rateN          int
	ratePer        time.Duration
	rateRetryAfter time.Duration

	searchLag time.Duration
	latency   time.Duration
	fault     func(r *http.Request) Fault
	clock     func() time.Time

	tokenTTL   time.Duration
	refreshTTL time.Duration

	maxBulk   int
	maxCount  int
	seedUsers int

	strictBulkKey    bool
	uniqueGroupNames bool
	rotateRefresh    bool
	bareErrors       bool
}

// Defaults (documented in docs/webex-simulator.md).
const (
	// DefaultTokenTTL is the lifetime of an access token: Webex access
	// tokens last days (VENDORS.md 1.2); 14 days is the figure usually quoted.
	DefaultTokenTTL = 14 * 24 * time.Hour
	// DefaultRefreshTTL is the lifetime of a refresh token (90 days, the
	// service-app example of VENDORS.md 1.2).
	DefaultRefreshTTL = 90 * 24 * time.Hour
	// DefaultMaxBulkOperations is the documented Bulk limit (VENDORS.md 1.9).
	DefaultMaxBulkOperations = 100
	// DefaultMaxCount caps count on /Users and /Groups. Webex documents no
	// maximum (VENDORS.md 1.4); the simulator clamps to this.
	DefaultMaxCount = 1000
	// DefaultLocationBase is the host of meta.location and $ref values
	// (VENDORS.md 1.6 simulator choice).
	DefaultLocationBase = "https://webexapis.com"
)

func defaultConfig() config {
	return config{
		locationBase: DefaultLocationBase,
		clock:        time.Now,
		tokenTTL:     DefaultTokenTTL,
		refreshTTL:   DefaultRefreshTTL,
		maxBulk:      DefaultMaxBulkOperations,
		maxCount:     DefaultMaxCount,
	}
}

// WithOrgID sets the org UUID the simulator serves; the default is random.
func WithOrgID(id string) Option {
	return func(s *Sim) {
		if id != "" {
			s.cfg.orgID = strings.ToLower(id)
		}
	}
}

// WithRateLimit gives every access token a bucket of n requests refilled
// over per (VENDORS.md 1.11). A request that finds the bucket empty answers
// 429 with Retry-After: retryAfter rounded up to whole seconds (at least 1;
// when retryAfter is zero, the time until the bucket holds a request), and
// every request with that token before the Retry-After time has passed
// answers 429 too: Webex asks clients not to retry early "or you get
// another 429".
func WithRateLimit(n int, per, retryAfter time.Duration) Option {
	return func(s *Sim) {
		if n > 0 && per > 0 {
			s.cfg.rateN, s.cfg.ratePer, s.cfg.rateRetryAfter = n, per, max(retryAfter, 0)
		}
	}
}

// WithSearchLag makes a created or changed resource invisible to list and
// search (and to the membership views built from them) for d: until then
// they show the resource as it was before the write, or not at all when it
// is new. GET by id sees every write at once (VENDORS.md 1.12).
func WithSearchLag(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.searchLag = d
		}
	}
}

// WithLatency delays every SCIM answer by d (real time, cut short when the
// client goes away).
func WithLatency(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.latency = d
		}
	}
}

// WithFault calls f for every SCIM request (not token requests) before it
// is handled; a non-zero Fault replaces or follows the normal answer. f may
// read r's headers, path and query; the body has already been read and is
// available again to f. f is called from many goroutines.
func WithFault(f func(r *http.Request) Fault) Option {
	return func(s *Sim) {
		if f != nil {
			s.cfg.fault = f
		}
	}
}

// WithTokenTTL sets the lifetime of access tokens (expires_in).
func WithTokenTTL(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.tokenTTL = d
		}
	}
}

// WithRefreshTokenTTL sets the lifetime of refresh tokens
// (refresh_token_expires_in).
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.refreshTTL = d
		}
	}
}

// WithClock replaces time.Now for everything the simulator times: meta
// dates, token expiry, rate-limit buckets and the search lag. now is called
// from many goroutines.
func WithClock(now func() time.Time) Option {
	return func(s *Sim) {
		if now != nil {
			s.cfg.clock = now
		}
	}
}

// WithMaxBulkOperations sets the most operations one Bulk request may hold
// (default 100).
func WithMaxBulkOperations(n int) Option {
	return func(s *Sim) {
		if n > 0 {
			s.cfg.maxBulk = n
		}
	}
}

// WithMaxCount sets the largest count honoured on /Users and /Groups
// (default 1000); a larger count is clamped.
func WithMaxCount(n int) Option {
	return func(s *Sim) {
		if n > 0 {
			s.cfg.maxCount = n
		}
	}
}

// WithSeed creates usersN users (seed0001@example.com, ...) when the
// simulator starts.
func WithSeed(usersN int) Option {
	return func(s *Sim) {
		if usersN > 0 {
			s.cfg.seedUsers = usersN
		}
	}
}

// WithStrictBulkKey refuses a Bulk request whose operations are under the
// RFC's "Operations" key (400 invalidSyntax). By default both "operations"
// (the documented key) and "Operations" are accepted (VENDORS.md 1.9 [?]).
func WithStrictBulkKey() Option {
	return func(s *Sim) { s.cfg.strictBulkKey = true }
}

// WithUniqueGroupNames makes a group displayName unique in the org (409
// uniqueness, compared case-insensitively). By default names may repeat, as
// RFC 7643 allows; Webex documents neither (VENDORS.md 1.7 [?]).
func WithUniqueGroupNames() Option {
	return func(s *Sim) { s.cfg.uniqueGroupNames = true }
}

// WithRotatingRefreshTokens makes every refresh_token grant answer a new
// refresh token and retire the one it used. By default the refresh token
// stays the same (VENDORS.md 1.2 says nothing definite).
func WithRotatingRefreshTokens() Option {
	return func(s *Sim) { s.cfg.rotateRefresh = true }
}

// WithBareErrors leaves detail and scimType out of family-1 error bodies,
// keeping only status and the Cisco extension (VENDORS.md 1.10 [?]: whether
// the live service sends them is unknown).
func WithBareErrors() Option {
	return func(s *Sim) { s.cfg.bareErrors = true }
}

// WithLocationBase sets the scheme and host of meta.location and $ref
// values (default https://webexapis.com).
func WithLocationBase(base string) Option {
	return func(s *Sim) {
		if base != "" {
			s.cfg.locationBase = strings.TrimRight(base, "/")
		}
	}
}
