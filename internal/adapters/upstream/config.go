package upstream

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Config is the `settings` block of a target whose adapter is "upstream":
//
//	settings:
//	  baseURL: https://scim.example.com/scim/v2
//	  tokenEnv: EXAMPLE_SCIM_TOKEN
//	  client:
//	    timeout: 20s
//
// Authentication is a static bearer token named by tokenEnv or tokenFile, or
// an OAuth refresh-token grant (oauth). Without a capabilities block, Open
// discovers what the upstream does from its discovery endpoints.
type Config struct {
	// BaseURL is the upstream's SCIM service root, the URL that
	// /ServiceProviderConfig and /Users are relative to. Required; http or
	// https, without credentials, query or fragment.
	BaseURL string `yaml:"baseURL"`
	// TokenEnv or TokenFile names the static bearer token.
	TokenEnv  string `yaml:"tokenEnv"`
	TokenFile string `yaml:"tokenFile"`
	// OAuth, instead of a static token, obtains access tokens with the
	// OAuth 2.0 refresh-token grant.
	OAuth *OAuthConfig `yaml:"oauth"`
	// Client tunes the outbound HTTP client (timeouts, retries, rate limit,
	// breaker).
	Client outbound.Config `yaml:"client"`
	// Capabilities, when set, says what the upstream does, and Open does no
	// discovery.
	Capabilities *CapabilitiesConfig `yaml:"capabilities"`

	// The secrets, once read (ResolveSecrets).
	resolved     bool
	token        string
	clientSecret string
	refreshToken string
}

// OAuthConfig is the `oauth` block: the refresh-token grant (RFC 6749 §6)
// at TokenURL, which keeps the scope of the original grant. Access tokens are cached and refreshed a minute before they
// expire, and once more when the upstream answers 401. A refresh token the
// endpoint rotates is used for the next refresh but not written back, so an
// endpoint whose refresh tokens are single-use needs a fresh one at restart.
type OAuthConfig struct {
	TokenURL string `yaml:"tokenURL"`
	ClientID string `yaml:"clientID"`
	// ClientSecretEnv or ClientSecretFile names the client secret; neither
	// for a public client.
	ClientSecretEnv  string `yaml:"clientSecretEnv"`
	ClientSecretFile string `yaml:"clientSecretFile"`
	// RefreshTokenEnv or RefreshTokenFile names the refresh token. Required.
	RefreshTokenEnv  string `yaml:"refreshTokenEnv"`
	RefreshTokenFile string `yaml:"refreshTokenFile"`
	// AuthStyle is how the client authenticates to the token endpoint:
	// "header" (HTTP Basic), "params" (form parameters) or "auto" (the
	// default: try Basic, then parameters).
	AuthStyle string `yaml:"authStyle"`
}

// CapabilitiesConfig is the `capabilities` block: what the upstream does,
// declared instead of discovered. The engine emulates what is left out.
type CapabilitiesConfig struct {
	// Filter is "any" (every filter runs upstream) or "none" (the default:
	// the gateway filters).
	Filter string `yaml:"filter"`
	Sort   bool   `yaml:"sort"`
	Patch  bool   `yaml:"patch"`
	ETag   bool   `yaml:"etag"`
	// MaxPageSize is the largest page the upstream returns; 0 means no limit.
	MaxPageSize int `yaml:"maxPageSize"`
	// ResourceTypes the upstream serves, at their standard endpoints and
	// with the standard schemas: "User" (/Users, with the Enterprise
	// extension) and "Group" (/Groups). Required.
	ResourceTypes []string `yaml:"resourceTypes"`
}

var _ adapters.SecretUser = (*Config)(nil)

// ResolveSecrets reads the secrets c names; the configuration loader calls
// it before Validate. Keys that name no secret are left to Validate.
func (c *Config) ResolveSecrets(s adapters.Secrets) error {
	read := s.Read
	var errs []error
	if c.TokenEnv != "" || c.TokenFile != "" {
		v, err := read("token", c.TokenEnv, c.TokenFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.token = v
	}
	if o := c.OAuth; o != nil {
		if o.ClientSecretEnv != "" || o.ClientSecretFile != "" {
			v, err := read("clientSecret", o.ClientSecretEnv, o.ClientSecretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("oauth.%w", err))
			}
			c.clientSecret = v
		}
		if o.RefreshTokenEnv != "" || o.RefreshTokenFile != "" {
			v, err := read("refreshToken", o.RefreshTokenEnv, o.RefreshTokenFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("oauth.%w", err))
			}
			c.refreshToken = v
		}
	}
	c.resolved = len(errs) == 0
	return errors.Join(errs...)
}

// Validate reports every problem of c at once, each prefixed by its key. It
// has no side effects: nothing is read or fetched.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkURL(c.BaseURL); err != nil {
		add("baseURL: %w", err)
	}
	token := c.TokenEnv != "" || c.TokenFile != ""
	switch {
	case c.TokenEnv != "" && c.TokenFile != "":
		add("tokenEnv, tokenFile: set one, not both")
	case token && c.OAuth != nil:
		add("tokenEnv, tokenFile, oauth: set a static token or oauth, not both")
	case !token && c.OAuth == nil:
		add("tokenEnv, tokenFile or oauth: required")
	}
	if c.OAuth != nil {
		errs = append(errs, c.OAuth.validate()...)
	}
	if err := c.Client.Validate(); err != nil {
		for _, e := range unjoin(err) {
			add("client.%w", e)
		}
	}
	if c.Capabilities != nil {
		errs = append(errs, c.Capabilities.validate()...)
	}
	return errors.Join(errs...)
}

func (o *OAuthConfig) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("oauth."+format, args...)) }
	if err := checkURL(o.TokenURL); err != nil {
		add("tokenURL: %w", err)
	}
	if o.ClientID == "" {
		add("clientID: required")
	}
	if o.ClientSecretEnv != "" && o.ClientSecretFile != "" {
		add("clientSecretEnv, clientSecretFile: set one, not both")
	}
	switch {
	case o.RefreshTokenEnv != "" && o.RefreshTokenFile != "":
		add("refreshTokenEnv, refreshTokenFile: set one, not both")
	case o.RefreshTokenEnv == "" && o.RefreshTokenFile == "":
		add("refreshTokenEnv or refreshTokenFile: required")
	}
	if _, ok := authStyles[o.AuthStyle]; !ok {
		add("authStyle: want auto, header or params, got %q", o.AuthStyle)
	}
	return errs
}

var authStyles = map[string]outbound.AuthStyle{
	"":       outbound.AuthStyleAuto,
	"auto":   outbound.AuthStyleAuto,
	"header": outbound.AuthStyleHeader,
	"params": outbound.AuthStyleParams,
}

// standardTypes are the resource types a capabilities block may name.
var standardTypes = map[string]*scim.ResourceType{
	scim.UserType.ID:  scim.UserType,
	scim.GroupType.ID: scim.GroupType,
}

func (k *CapabilitiesConfig) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("capabilities."+format, args...)) }
	if k.Filter != "" && k.Filter != "any" && k.Filter != "none" {
		add("filter: want any or none, got %q", k.Filter)
	}
	if k.MaxPageSize < 0 {
		add("maxPageSize: must be 0 (no limit) or positive, got %d", k.MaxPageSize)
	}
	if len(k.ResourceTypes) == 0 {
		add("resourceTypes: required, e.g. [User, Group]")
	}
	seen := map[string]bool{}
	for i, name := range k.ResourceTypes {
		switch {
		case standardTypes[name] == nil:
			add("resourceTypes[%d]: want User or Group, got %q", i, name)
		case seen[name]:
			add("resourceTypes[%d]: %s is listed twice", i, name)
		}
		seen[name] = true
	}
	return errs
}

// capabilities turns the block into what the adapter declares.
func (k *CapabilitiesConfig) capabilities() adapters.Capabilities {
	caps := adapters.Capabilities{Sort: k.Sort, Patch: k.Patch, ETag: k.ETag, MaxPageSize: k.MaxPageSize}
	for _, name := range k.ResourceTypes {
		caps.ResourceTypes = append(caps.ResourceTypes, standardTypes[name])
	}
	if k.Filter == "any" {
		caps.Filter = allFilters(caps.ResourceTypes)
	}
	return caps
}

// allFilters declares every filter native for each of types.
func allFilters(types []*scim.ResourceType) map[string]adapters.FilterSupport {
	m := make(map[string]adapters.FilterSupport, len(types))
	for _, rt := range types {
		m[rt.ID] = adapters.FilterSupport{Any: true, And: true, Or: true, Not: true}
	}
	return m
}

// checkURL accepts an absolute http or https URL without credentials, query
// or fragment. A URL with credentials is not quoted back: they are secrets.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	return outbound.CheckBaseURL(raw)
}

// unjoin returns the errors joined in err (errors.Join), or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// Open validates c, builds the outbound client and, unless c declares the
// capabilities, discovers them from the upstream (see New). Secrets the
// configuration loader has not resolved are read from the environment and
// from files relative to the working directory.
func (c *Config) Open(ctx context.Context) (adapters.Adapter, error) {
	if !c.resolved {
		if err := c.ResolveSecrets(adapters.Secrets{Getenv: os.Getenv}); err != nil {
			return nil, fmt.Errorf("upstream: %w", err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	opts := []Option{WithOutboundOptions(c.Client.Options()...), withSecrets(c.token, c.clientSecret, c.refreshToken)}
	if c.Capabilities != nil {
		opts = append(opts, WithCapabilities(c.Capabilities.capabilities()))
	}
	return New(ctx, c.BaseURL, c.tokens(), opts...)
}

// tokens returns the token source of the configured authentication.
func (c *Config) tokens() outbound.TokenSource {
	o := c.OAuth
	if o == nil {
		return outbound.StaticToken(c.token)
	}
	grant := outbound.RefreshGrant{
		TokenURL:     o.TokenURL,
		ClientID:     o.ClientID,
		ClientSecret: c.clientSecret,
		RefreshToken: c.refreshToken,
		AuthStyle:    authStyles[o.AuthStyle],
	}
	return outbound.NewTokenCache(grant.Fetch(), time.Minute)
}
