package webex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

// DefaultBaseURL is the Webex API host (VENDORS.md 1.1).
const DefaultBaseURL = "https://webexapis.com"

// Config is the `settings` block of a target whose adapter is "webex":
//
//	settings:
//	  orgID: 0ae87ade-8c8a-4952-af08-318798958d0c
//	  auth:
//	    tokenEnv: WEBEX_TOKEN          # a static access token, or:
//	    clientID: C0123...             # integration or service app
//	    clientSecretEnv: WEBEX_CLIENT_SECRET
//	    refreshTokenEnv: WEBEX_REFRESH_TOKEN
//	  client:
//	    rateLimit: 10
type Config struct {
	// OrgID is the organization's UUID (Control Hub shows it; VENDORS.md 1.1).
	OrgID string `yaml:"orgID"`
	// BaseURL is the API host; default DefaultBaseURL. Tests and the demo
	// point it at the simulator.
	BaseURL string `yaml:"baseURL"`
	// Auth says how the gateway gets its access tokens.
	Auth Auth `yaml:"auth"`
	// Client tunes timeouts, retries, rate limit and breaker.
	Client outbound.Config `yaml:"client"`
	// MaxPageSize is the largest count sent on a list; default 100, the
	// vendor's default page (it documents no maximum).
	MaxPageSize int `yaml:"maxPageSize"`
	// UserGroups, when true (the default), fills a user's groups on
	// GET /Users/{id} with a second vendor call: Webex returns them only on
	// search (VENDORS.md 1.3). False saves the call and leaves groups out.
	UserGroups *bool `yaml:"userGroups"`

	tokens  outbound.TokenSource                           // resolved by ResolveSecrets
	fetch   func(context.Context) (*oauth2.Token, error)   // the OAuth grant, when not a static token
	limiter func(string, rate.Limit, int) outbound.Limiter // adapters.Shared.Limiter, set by Share
}

// Auth is the `auth` block. Exactly one way is configured:
//   - a static access token (tokenEnv or tokenFile): a personal, bot or
//     admin token, replaced by hand when it expires;
//   - an integration's or service app's refresh token (clientID, client
//     secret, refresh token): access tokens come from /v1/access_token and
//     are refreshed before they expire;
//   - a service app without a stored refresh token (applicationID, clientID,
//     client secret, authorizer token): the first pair comes from
//     /v1/applications/{id}/token, called with an integration's token that
//     holds spark:applications_token.
type Auth struct {
	TokenEnv           string `yaml:"tokenEnv"`
	TokenFile          string `yaml:"tokenFile"`
	ClientID           string `yaml:"clientID"`
	ClientSecretEnv    string `yaml:"clientSecretEnv"`
	ClientSecretFile   string `yaml:"clientSecretFile"`
	RefreshTokenEnv    string `yaml:"refreshTokenEnv"`
	RefreshTokenFile   string `yaml:"refreshTokenFile"`
	ApplicationID      string `yaml:"applicationID"`
	AuthorizerTokenEnv string `yaml:"authorizerTokenEnv"`
	// AuthorizerTokenFile holds the integration token for the application
	// token endpoint.
	AuthorizerTokenFile string `yaml:"authorizerTokenFile"`
}

// uuidForm is the org id's form in SCIM paths (VENDORS.md 1.1).
var uuidForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (a *Auth) static() bool { return a.TokenEnv != "" || a.TokenFile != "" }

func (a *Auth) serviceApp() bool { return a.ApplicationID != "" }

// ResolveSecrets reads the secrets the auth block names and builds the
// token source; the configuration loader calls it before Validate.
func (c *Config) ResolveSecrets(s adapters.Secrets) error {
	a := &c.Auth
	if a.static() {
		tok, err := s.Read("auth.token", a.TokenEnv, a.TokenFile)
		if err != nil {
			return err
		}
		c.tokens = outbound.StaticToken(tok)
		return nil
	}
	if a.ClientID == "" {
		return errors.New("auth: set tokenEnv or tokenFile (a static token), or clientID with a client secret and a refresh token (an integration or service app)")
	}
	secret, err := s.Read("auth.clientSecret", a.ClientSecretEnv, a.ClientSecretFile)
	if err != nil {
		return err
	}
	var refresh string
	if a.RefreshTokenEnv != "" || a.RefreshTokenFile != "" || !a.serviceApp() {
		if refresh, err = s.Read("auth.refreshToken", a.RefreshTokenEnv, a.RefreshTokenFile); err != nil {
			return err
		}
	}
	base := strings.TrimSuffix(cmp.Or(c.BaseURL, DefaultBaseURL), "/")
	hc := &http.Client{Timeout: 30 * time.Second}
	if !a.serviceApp() {
		g := outbound.RefreshGrant{
			HTTPClient: hc, TokenURL: base + "/v1/access_token",
			ClientID: a.ClientID, ClientSecret: secret, RefreshToken: refresh,
			AuthStyle: outbound.AuthStyleParams,
		}
		c.fetch = g.Fetch()
		c.tokens = outbound.NewTokenCache(c.fetch, tokenEarly)
		return nil
	}
	authz, err := s.Read("auth.authorizerToken", a.AuthorizerTokenEnv, a.AuthorizerTokenFile)
	if err != nil && refresh == "" {
		return err
	}
	g := outbound.ServiceAppGrant{
		HTTPClient:  hc,
		AppTokenURL: base + "/v1/applications/" + url.PathEscape(a.ApplicationID) + "/token",
		Authorizer:  outbound.StaticToken(authz),
		TokenURL:    base + "/v1/access_token",
		ClientID:    a.ClientID, ClientSecret: secret,
		TargetOrgID: c.OrgID, RefreshToken: refresh,
	}
	c.fetch = g.Fetch()
	c.tokens = outbound.NewTokenCache(c.fetch, tokenEarly)
	return nil
}

// Share implements adapters.Sharer: the access token an OAuth grant gets
// (a static token has nothing to share) and the client's rateLimit, when
// set, are shared by the replicas. The refresh token stays each replica's
// own (docs/cache.md says what that means for rotating ones).
func (c *Config) Share(s adapters.Shared) {
	if s.Tokens != nil && c.fetch != nil {
		c.tokens = s.Tokens(c.fetch, tokenEarly)
	}
	c.limiter = s.Limiter
}

var _ adapters.Sharer = (*Config)(nil)

// tokenEarly is how long before its expiry an access token is replaced:
// Webex access tokens last days, so an hour loses nothing.
const tokenEarly = time.Hour

// Validate reports every problem of c at once. It has no side effects.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.OrgID == "":
		errs = append(errs, errors.New("orgID: required (the organization's UUID, as Control Hub shows it)"))
	case !uuidForm.MatchString(c.OrgID):
		errs = append(errs, fmt.Errorf("orgID: %q is not a UUID; SCIM paths use the UUID form, not the base64 Y2lz... id", c.OrgID))
	}
	if c.BaseURL != "" {
		if err := outbound.CheckBaseURL(c.BaseURL); err != nil {
			errs = append(errs, fmt.Errorf("baseURL: %w", err))
		}
	}
	if c.Auth.static() && (c.Auth.ClientID != "" || c.Auth.ApplicationID != "") {
		errs = append(errs, errors.New("auth: a static token (tokenEnv/tokenFile) and clientID/applicationID are exclusive"))
	}
	if c.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("maxPageSize: must not be negative, got %d", c.MaxPageSize))
	}
	errs = append(errs, c.Client.ValidateAs("client")...)
	return errors.Join(errs...)
}

// Open validates c and builds the adapter. It makes no vendor call: the
// first request fetches a token.
func (c *Config) Open(_ context.Context) (adapters.Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("webex: %w", err)
	}
	if c.tokens == nil {
		return nil, errors.New("webex: auth: no token source (secrets not resolved)")
	}
	opts := []Option{WithMaxPageSize(c.MaxPageSize)}
	if c.UserGroups != nil && !*c.UserGroups {
		opts = append(opts, WithoutUserGroups())
	}
	client := c.Client.Options()
	if c.limiter != nil && c.Client.RateLimit > 0 {
		client = append(client, outbound.WithLimiter(c.limiter("", rate.Limit(c.Client.RateLimit), c.Client.Burst)))
	}
	return New(cmp.Or(c.BaseURL, DefaultBaseURL), c.OrgID, c.tokens, client, opts...)
}
