package rctest

import (
	"net/http"
	"time"
)

// Option configures a Sim. Options given a zero, negative or nil value keep
// the default, except where an option says otherwise.
type Option func(*Sim)

// config holds what the options set; it does not change after New.
type config struct {
	clock     func() time.Time
	timeScale float64

	lightLimit, heavyLimit, authLimit int
	noRateLimits                      bool

	unassigned int // unassigned extensions at start; -1: unlimited

	shortListForm     bool
	polymorphicPatch  bool
	emailsValueFilter bool
	strictSchemas     bool
	booleanActiveOnly bool
	scimAuthErrors    bool

	latency   time.Duration
	searchLag time.Duration
	fault     func(r *http.Request) Fault

	seedUsers  int
	accessTTL  time.Duration
	refreshTTL time.Duration
	maxCount   int
}

// Defaults (documented in docs/ringcentral-simulator.md).
const (
	// DefaultLightLimit, DefaultHeavyLimit and DefaultAuthLimit are the
	// published per-(user, app) limits per minute of the usage-plan groups
	// the SCIM reads, the SCIM writes and the token endpoint belong to
	// (VENDORS.md 2.10).
	DefaultLightLimit = 50
	DefaultHeavyLimit = 10
	DefaultAuthLimit  = 5
	// DefaultWindow is the sliding window the limits are counted over, and
	// DefaultPenalty the time a client must stay silent after a breach
	// (restarted by every request made during it). Both are scaled by
	// WithTimeScale.
	DefaultWindow  = time.Minute
	DefaultPenalty = time.Minute
	// DefaultAccessTokenTTL is the lifetime of an access token (1 h,
	// VENDORS.md 2.2), DefaultRefreshTokenTTL that of a refresh token (7
	// days).
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 7 * 24 * time.Hour
	// DefaultMaxCount is the largest page the simulator answers. RingCentral
	// documents no maximum (VENDORS.md 2.4 [?]); a larger count is clamped.
	DefaultMaxCount = 1000
	// DefaultPageSize is the count of a list or search that gives none.
	DefaultPageSize = 100
)

func defaultConfig() config {
	return config{
		clock:      time.Now,
		timeScale:  1,
		lightLimit: DefaultLightLimit,
		heavyLimit: DefaultHeavyLimit,
		authLimit:  DefaultAuthLimit,
		unassigned: -1,
		accessTTL:  DefaultAccessTokenTTL,
		refreshTTL: DefaultRefreshTokenTTL,
		maxCount:   DefaultMaxCount,
	}
}

// WithTimeScale multiplies every rate-limit window and penalty by f: 0.01
// turns the vendor's 60 s window and 60 s penalty into 600 ms each, so that
// tests run the real default limits scaled down in time. Retry-After and
// X-Rate-Limit-Window stay whole seconds (rounded up, at least 1), so a
// client that obeys them waits at least as long as it must.
func WithTimeScale(f float64) Option {
	return func(s *Sim) {
		if f > 0 {
			s.cfg.timeScale = f
		}
	}
}

// WithLimits sets the requests per window of the Light (SCIM reads), Heavy
// (SCIM writes) and Auth (token endpoint) groups; defaults 50, 10 and 5.
// A zero or negative value keeps that group's default.
func WithLimits(light, heavy, auth int) Option {
	return func(s *Sim) {
		if light > 0 {
			s.cfg.lightLimit = light
		}
		if heavy > 0 {
			s.cfg.heavyLimit = heavy
		}
		if auth > 0 {
			s.cfg.authLimit = auth
		}
	}
}

// WithoutRateLimits switches the usage-plan limits off: no request is
// answered 429 by the limiter, and the X-Rate-Limit-* headers still come
// with every answer, Remaining staying at the limit.
func WithoutRateLimits() Option {
	return func(s *Sim) { s.cfg.noRateLimits = true }
}

// WithClock replaces time.Now for everything the simulator times: meta
// dates, token expiry, rate-limit windows and penalties, the search lag and
// Request.At. now is called from many goroutines.
func WithClock(now func() time.Time) Option {
	return func(s *Sim) {
		if now != nil {
			s.cfg.clock = now
		}
	}
}

// WithUnassignedExtensions models the precondition of VENDORS.md 2.8: a
// create needs an unassigned extension and takes one; a delete gives one
// back. n is how many exist at start (0 is allowed: every create fails
// until a user is deleted). Without this option the supply is unlimited.
// Users made by WithSeed take none.
func WithUnassignedExtensions(n int) Option {
	return func(s *Sim) {
		if n >= 0 {
			s.cfg.unassigned = n
		}
	}
}

// WithShortListForm leaves phoneNumbers and addresses out of list and
// search results, as the newest spec's ScimUserShortInfo does (VENDORS.md
// 2.4 [?]); GET by id still has them. By default list items are whole
// users, as the older examples show.
func WithShortListForm() Option {
	return func(s *Sim) { s.cfg.shortListForm = true }
}

// WithPolymorphicPatch accepts PATCH operations without a path and object
// or array values (the RFC 7644 forms RC-BLOG quotes). By default only
// scalar values on the paths IdPs send are accepted (VENDORS.md 2.7 [?]).
func WithPolymorphicPatch() Option {
	return func(s *Sim) { s.cfg.polymorphicPatch = true }
}

// WithEmailsValueFilter accepts `emails.value eq "x"` as a filter. By
// default it is refused with the invalidFilter error, whose text names only
// the userName and emails fields (VENDORS.md 2.5 [?]).
func WithEmailsValueFilter() Option {
	return func(s *Sim) { s.cfg.emailsValueFilter = true }
}

// WithStrictSchemas refuses a user whose schemas list a URN other than the
// core User and the enterprise extension (400 invalidValue). By default
// unknown URNs are ignored (VENDORS.md 2.6 [?]).
func WithStrictSchemas() Option {
	return func(s *Sim) { s.cfg.strictSchemas = true }
}

// WithBooleanActiveOnly refuses the strings "true" and "false" as the value
// of a PATCH of active; only JSON booleans are accepted. By default both
// are (VENDORS.md 2.7 [?]).
func WithBooleanActiveOnly() Option {
	return func(s *Sim) { s.cfg.booleanActiveOnly = true }
}

// WithSCIMAuthErrors answers 401 and 429 with SCIM error bodies (status as
// a string) instead of platform bodies {errorCode, message, errors}: the
// other reading of VENDORS.md 2.9 [?], so that a client can be tested
// against both.
func WithSCIMAuthErrors() Option {
	return func(s *Sim) { s.cfg.scimAuthErrors = true }
}

// WithLatency delays every answer by d (real time, cut short when the
// client goes away). The request takes effect when it arrives; only its
// answer waits.
func WithLatency(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.latency = d
		}
	}
}

// WithSearchLag makes list and search show a user as it was before a create
// or update for d after it (RingCentral documents no consistency model,
// VENDORS.md 2.11 [?]; the default is read-your-writes). GET by id sees
// every write at once; deletes are seen at once everywhere. With a lag,
// lists cost time proportional to the number of users.
func WithSearchLag(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.searchLag = d
		}
	}
}

// WithFault calls f for every request (SCIM and token endpoint) before it
// is handled; a non-zero Fault replaces or follows the normal answer. f may
// read r's headers, path and query, and its body, which is available again
// to the handler. f is called from many goroutines.
func WithFault(f func(r *http.Request) Fault) Option {
	return func(s *Sim) {
		if f != nil {
			s.cfg.fault = f
		}
	}
}

// WithSeed creates n users when the simulator starts: seed0000001@example.com,
// ..., with names, an active flag, a department and an extension number.
// Seeding takes no unassigned extensions and is fast enough for 100,000
// users.
func WithSeed(n int) Option {
	return func(s *Sim) {
		if n > 0 {
			s.cfg.seedUsers = n
		}
	}
}

// WithAccessTokenTTL sets the lifetime of the access tokens the token
// endpoint and IssueToken give (expires_in; default 1 h).
func WithAccessTokenTTL(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.accessTTL = d
		}
	}
}

// WithRefreshTokenTTL sets the lifetime of refresh tokens
// (refresh_token_expires_in; default 7 days).
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(s *Sim) {
		if d > 0 {
			s.cfg.refreshTTL = d
		}
	}
}

// WithMaxCount sets the largest page a list or search answers (default
// 1000); a larger count is clamped to it.
func WithMaxCount(n int) Option {
	return func(s *Sim) {
		if n > 0 {
			s.cfg.maxCount = n
		}
	}
}
