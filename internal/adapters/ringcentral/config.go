package ringcentral

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// DefaultBaseURL is the RingCentral platform (VENDORS.md 2.1).
const DefaultBaseURL = "https://platform.ringcentral.com"

// Config is the `settings` block of a target whose adapter is "ringcentral":
//
//	settings:
//	  auth:
//	    clientID: AbC123
//	    clientSecretEnv: RC_CLIENT_SECRET
//	    jwtEnv: RC_JWT            # a JWT credential (jwt-bearer grant)
//	  limits:
//	    light: 50                 # reads per window (the default plan)
//	    heavy: 10                 # writes per window
//	    window: 60s
type Config struct {
	// BaseURL is the platform host; default DefaultBaseURL.
	BaseURL string `yaml:"baseURL"`
	Auth    Auth   `yaml:"auth"`
	// Limits are the account's usage-plan limits for this app.
	Limits Limits `yaml:"limits"`
	// Client tunes timeouts, retries and the breaker; its rateLimit, when
	// set, replaces the limits above for both groups.
	Client outbound.Config `yaml:"client"`
	// MaxPageSize is the count sent on a list; default 100 (the vendor's
	// default; its maximum is undocumented).
	MaxPageSize int `yaml:"maxPageSize"`
	// ShortListItems says list results lack phoneNumbers and addresses
	// (the newest spec's ScimUserShortInfo, VENDORS.md 2.4): each listed
	// user is then read in full by id, at one more read each.
	ShortListItems bool `yaml:"shortListItems"`

	tokens outbound.TokenSource                         // resolved by ResolveSecrets
	fetch  func(context.Context) (*oauth2.Token, error) // the OAuth grant, when not a static token
	// limiter, set by Share, makes a usage group's limit shared by the
	// replicas (adapters.Shared.Limiter).
	limiter func(group string, r rate.Limit, burst int) outbound.Limiter
}

// Auth is the `auth` block: a static access token (tokenEnv/tokenFile), or
// an app (clientID and client secret) with a JWT credential, or with a
// refresh token from the authorization-code flow. Refresh tokens are
// single-use and rotate (VENDORS.md 2.2): with refreshTokenFile, each new
// one is written back to the file so that a restart can go on.
type Auth struct {
	TokenEnv         string `yaml:"tokenEnv"`
	TokenFile        string `yaml:"tokenFile"`
	ClientID         string `yaml:"clientID"`
	ClientSecretEnv  string `yaml:"clientSecretEnv"`
	ClientSecretFile string `yaml:"clientSecretFile"`
	JWTEnv           string `yaml:"jwtEnv"`
	JWTFile          string `yaml:"jwtFile"`
	RefreshTokenEnv  string `yaml:"refreshTokenEnv"`
	RefreshTokenFile string `yaml:"refreshTokenFile"`
}

// Limits are requests per Window in RingCentral's usage groups
// (VENDORS.md 2.10): SCIM reads are Light, writes Heavy.
type Limits struct {
	Light  int           `yaml:"light"`
	Heavy  int           `yaml:"heavy"`
	Window time.Duration `yaml:"window"`
}

// The default plan (VENDORS.md 2.10).
var defaultLimits = Limits{Light: 50, Heavy: 10, Window: time.Minute}

func (l Limits) withDefaults() Limits {
	return Limits{
		Light:  cmp.Or(l.Light, defaultLimits.Light),
		Heavy:  cmp.Or(l.Heavy, defaultLimits.Heavy),
		Window: cmp.Or(l.Window, defaultLimits.Window),
	}
}

// ResolveSecrets reads the secrets the auth block names and builds the
// token source; the configuration loader calls it before Validate.
func (c *Config) ResolveSecrets(s adapters.Secrets) error {
	a := &c.Auth
	if a.TokenEnv != "" || a.TokenFile != "" {
		tok, err := s.Read("auth.token", a.TokenEnv, a.TokenFile)
		if err != nil {
			return err
		}
		c.tokens = outbound.StaticToken(tok)
		return nil
	}
	if a.ClientID == "" {
		return errors.New("auth: set tokenEnv or tokenFile (a static token), or clientID with a client secret and a JWT credential or refresh token")
	}
	secret, err := s.Read("auth.clientSecret", a.ClientSecretEnv, a.ClientSecretFile)
	if err != nil {
		return err
	}
	tokenURL := strings.TrimSuffix(cmp.Or(c.BaseURL, DefaultBaseURL), "/") + "/restapi/oauth/token"
	hc := &http.Client{Timeout: 30 * time.Second}
	if a.JWTEnv != "" || a.JWTFile != "" {
		jwt, err := s.Read("auth.jwt", a.JWTEnv, a.JWTFile)
		if err != nil {
			return err
		}
		g := outbound.AssertionGrant{HTTPClient: hc, TokenURL: tokenURL, ClientID: a.ClientID, ClientSecret: secret,
			Assertion: jwt, AuthStyle: outbound.AuthStyleHeader}
		c.fetch = g.Fetch()
		c.tokens = outbound.NewTokenCache(c.fetch, tokenEarly)
		return nil
	}
	refresh, err := s.Read("auth.refreshToken", a.RefreshTokenEnv, a.RefreshTokenFile)
	if err != nil {
		return fmt.Errorf("%w (or set jwtEnv/jwtFile for a JWT credential)", err)
	}
	g := outbound.RefreshGrant{HTTPClient: hc, TokenURL: tokenURL, ClientID: a.ClientID, ClientSecret: secret,
		RefreshToken: refresh, AuthStyle: outbound.AuthStyleHeader}
	if a.RefreshTokenFile != "" {
		file := a.RefreshTokenFile
		if !filepath.IsAbs(file) && s.Dir != "" {
			file = filepath.Join(s.Dir, file)
		}
		g.OnRotate = func(rt string) { _ = writeSecret(file, rt) }
	}
	c.fetch = g.Fetch()
	c.tokens = outbound.NewTokenCache(c.fetch, tokenEarly)
	return nil
}

// Share implements adapters.Sharer: the access token an OAuth grant gets
// is shared by the replicas, so that they make one token call an hour
// between them (the Auth group allows 5 a minute, VENDORS.md 2.10) and
// one refresh does not kill the others' tokens (VENDORS.md 2.2). Of the
// credentials only the access token is shared: with several replicas use
// a JWT credential, not a rotating refresh token (docs/cache.md). Each
// usage group's pacing is shared too, so that the replicas together stay
// under the account's limits.
func (c *Config) Share(s adapters.Shared) {
	if s.Tokens != nil && c.fetch != nil {
		c.tokens = s.Tokens(c.fetch, tokenEarly)
	}
	c.limiter = s.Limiter
}

var _ adapters.Sharer = (*Config)(nil)

// tokenEarly refreshes an access token (1 hour) five minutes before it
// expires: RingCentral asks for proactive refreshes, not refreshes on 401.
const tokenEarly = 5 * time.Minute

// writeSecret replaces file's content atomically, so that a crash never
// leaves half a refresh token behind.
func writeSecret(file, value string) error {
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// Validate reports every problem of c at once. It has no side effects.
func (c *Config) Validate() error {
	var errs []error
	if c.BaseURL != "" {
		if err := outbound.CheckBaseURL(c.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("baseURL: %w", err))
		}
	}
	if (c.Auth.TokenEnv != "" || c.Auth.TokenFile != "") && c.Auth.ClientID != "" {
		errs = append(errs, errors.New("auth: a static token (tokenEnv/tokenFile) and clientID are exclusive"))
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"limits.light", c.Limits.Light}, {"limits.heavy", c.Limits.Heavy}, {"maxPageSize", c.MaxPageSize}} {
		if l.n < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %d", l.key, l.n))
		}
	}
	if c.Limits.Window < 0 {
		errs = append(errs, fmt.Errorf("limits.window: must not be negative, got %s", c.Limits.Window))
	}
	errs = append(errs, c.Client.ValidateAs("client")...)
	return errors.Join(errs...)
}

// Open validates c and builds the adapter. It makes no vendor call.
func (c *Config) Open(_ context.Context) (adapters.Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("ringcentral: %w", err)
	}
	if c.tokens == nil {
		return nil, errors.New("ringcentral: auth: no token source (secrets not resolved)")
	}
	opts := []Option{WithLimits(c.Limits), WithMaxPageSize(c.MaxPageSize)}
	if c.ShortListItems {
		opts = append(opts, WithShortListItems())
	}
	if c.limiter != nil {
		opts = append(opts, WithLimiters(c.limiter))
	}
	return New(cmp.Or(c.BaseURL, DefaultBaseURL), c.tokens, c.Client.Options(), opts...)
}
