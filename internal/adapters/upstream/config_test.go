package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
)

func TestConfigValidate(t *testing.T) {
	good := func(edit func(c *Config)) Config {
		c := Config{BaseURL: "https://scim.example.com/scim/v2", TokenEnv: "TOKEN"}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	oauth := func() *OAuthConfig {
		return &OAuthConfig{TokenURL: "https://idp.example.com/token", ClientID: "gw", RefreshTokenEnv: "RT"}
	}
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings, one per problem, in order
	}{
		{"static token", good(nil), nil},
		{"token file", good(func(c *Config) { c.TokenEnv, c.TokenFile = "", "token.txt" }), nil},
		{"oauth", good(func(c *Config) { c.TokenEnv, c.OAuth = "", oauth() }), nil},
		{"oauth full", good(func(c *Config) {
			c.TokenEnv, c.OAuth = "", oauth()
			c.OAuth.ClientSecretFile, c.OAuth.AuthStyle = "secret", "header"
		}), nil},
		{"capabilities", good(func(c *Config) {
			c.Capabilities = &CapabilitiesConfig{Filter: "any", Sort: true, MaxPageSize: 100, ResourceTypes: []string{"User"}}
		}), nil},
		{"zero value", Config{}, []string{"baseURL: required", "tokenEnv, tokenFile or oauth: required"}},
		{"base URL not http", good(func(c *Config) { c.BaseURL = "ftp://scim.example.com" }), []string{"baseURL: want an http or https URL"}},
		{"base URL relative", good(func(c *Config) { c.BaseURL = "/scim/v2" }), []string{"baseURL: want an http or https URL"}},
		{"base URL without host", good(func(c *Config) { c.BaseURL = "https:///scim" }), []string{"baseURL: host required"}},
		{"base URL with query", good(func(c *Config) { c.BaseURL = "https://h/scim?x=1" }), []string{"baseURL: must not have a query"}},
		{"base URL with credentials", good(func(c *Config) { c.BaseURL = "https://user:hunter2@h/scim" }), []string{"baseURL: must not hold credentials"}},
		{"base URL unparsable", good(func(c *Config) { c.BaseURL = "https://h/%zz" }), []string{"baseURL: invalid URL escape"}},
		{"token env and file", good(func(c *Config) { c.TokenFile = "t" }), []string{"tokenEnv, tokenFile: set one, not both"}},
		{"token and oauth", good(func(c *Config) { c.OAuth = oauth() }), []string{"set a static token or oauth, not both"}},
		{"oauth empty", good(func(c *Config) { c.TokenEnv, c.OAuth = "", &OAuthConfig{AuthStyle: "basic"} }), []string{
			"oauth.tokenURL: required", "oauth.clientID: required", "oauth.refreshTokenEnv or refreshTokenFile: required",
			`oauth.authStyle: want auto, header or params, got "basic"`,
		}},
		{"oauth both secrets", good(func(c *Config) {
			c.TokenEnv, c.OAuth = "", oauth()
			c.OAuth.ClientSecretEnv, c.OAuth.ClientSecretFile, c.OAuth.RefreshTokenFile = "S", "s", "rt"
		}), []string{"oauth.clientSecretEnv, clientSecretFile: set one", "oauth.refreshTokenEnv, refreshTokenFile: set one"}},
		{"client", good(func(c *Config) { c.Client = outbound.Config{Timeout: -time.Second, MaxAttempts: 99} }), []string{
			"client.timeout", "client.maxAttempts",
		}},
		{"capabilities bad", good(func(c *Config) {
			c.Capabilities = &CapabilitiesConfig{Filter: "some", MaxPageSize: -1, ResourceTypes: []string{"User", "Device", "User"}}
		}), []string{
			`capabilities.filter: want any or none, got "some"`, "capabilities.maxPageSize: must be 0",
			`capabilities.resourceTypes[1]: want User or Group, got "Device"`, "capabilities.resourceTypes[2]: User is listed twice",
		}},
		{"capabilities without types", good(func(c *Config) { c.Capabilities = &CapabilitiesConfig{} }), []string{
			"capabilities.resourceTypes: required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			got := unjoin(err)
			if err == nil {
				got = nil
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("Validate() problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() = %q echoes the password of the base URL", err)
			}
		})
	}
}

func TestConfigResolveSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rt"), []byte("refresh-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TOKEN": "static-1", "SECRET": "secret-1"}
	s := adapters.Secrets{Dir: dir, Getenv: func(k string) string { return env[k] }}

	c := &Config{TokenEnv: "TOKEN"}
	if err := c.ResolveSecrets(s); err != nil || c.token != "static-1" {
		t.Errorf("ResolveSecrets static: %v, token %q", err, c.token)
	}
	c = &Config{OAuth: &OAuthConfig{ClientSecretEnv: "SECRET", RefreshTokenFile: "rt"}}
	if err := c.ResolveSecrets(s); err != nil || c.clientSecret != "secret-1" || c.refreshToken != "refresh-1" {
		t.Errorf("ResolveSecrets oauth: %v, secret %q, refresh token %q", err, c.clientSecret, c.refreshToken)
	}
	c = &Config{TokenEnv: "UNSET", OAuth: &OAuthConfig{RefreshTokenFile: "missing"}}
	err := c.ResolveSecrets(s)
	if got := unjoin(err); len(got) != 2 || !strings.HasPrefix(got[0].Error(), "tokenEnv: environment variable UNSET") ||
		!strings.HasPrefix(got[1].Error(), "oauth.refreshTokenFile: ") {
		t.Errorf("ResolveSecrets with missing secrets = %v, want the tokenEnv and oauth.refreshTokenFile problems", err)
	}
	// Nothing named: nothing to read, and Validate says what is missing.
	if err := (&Config{}).ResolveSecrets(s); err != nil {
		t.Errorf("ResolveSecrets of the zero Config = %v, want nil", err)
	}
}

// TestConfigOpen opens Configs against the loopback upstream: with the
// token from a file, discovering; with a declared block; and with problems,
// which Open reports without any request.
func TestConfigOpen(t *testing.T) {
	u := newUpstream(t, nil)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Config{BaseURL: u.base, TokenFile: tokenFile}
	a, err := c.Open(t.Context())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	caps := a.Capabilities()
	if !caps.Sort || !caps.Patch || !caps.ETag || caps.MaxPageSize != 20 || !caps.Filter["User"].Any || !caps.Filter["Group"].Any {
		t.Errorf("discovered %+v, want sort, patch, etag, every filter and page size 20", caps)
	}

	c = &Config{BaseURL: u.base, TokenFile: tokenFile, Capabilities: &CapabilitiesConfig{
		Filter: "any", ETag: true, MaxPageSize: 5, ResourceTypes: []string{"Group"},
	}}
	if a, err = c.Open(t.Context()); err != nil {
		t.Fatalf("Open declared: %v", err)
	}
	caps = a.Capabilities()
	if caps.Sort || caps.Patch || !caps.ETag || caps.MaxPageSize != 5 || len(caps.ResourceTypes) != 1 ||
		caps.ResourceTypes[0].ID != "Group" || !caps.Filter["Group"].Any {
		t.Errorf("declared %+v, want what the block says", caps)
	}

	wrongFile := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrongFile, []byte("not-the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  *Config
		want string
	}{
		{"invalid", &Config{TokenFile: tokenFile}, "upstream: baseURL: required"},
		{"secret missing", &Config{BaseURL: u.base, TokenFile: filepath.Join(dir, "nope")}, "upstream: tokenFile: "},
		{"wrong token", &Config{BaseURL: u.base, TokenFile: wrongFile},
			"GET /ServiceProviderConfig: status 401: the upstream refused the gateway's credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.cfg.Open(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open() = %v, %v; want an error containing %q", a, err, tt.want)
			}
			if errors.Is(err, outbound.ErrOutcomeUnknown) || strings.Contains(err.Error(), "not-the-token") {
				t.Errorf("Open() = %v", err)
			}
		})
	}
}

// TestConfigOAuth opens a Config whose access tokens come from a refresh
// grant at a loopback token endpoint.
func TestConfigOAuth(t *testing.T) {
	u := newUpstream(t, nil)
	var got url.Values
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		got = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token": %q, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "refresh-2"}`, testToken)
	}))
	t.Cleanup(idp.Close)
	env := map[string]string{"SECRET": "client-secret", "REFRESH": "refresh-1"}
	c := &Config{BaseURL: u.base, OAuth: &OAuthConfig{
		TokenURL: idp.URL + "/token", ClientID: "gateway", ClientSecretEnv: "SECRET", RefreshTokenEnv: "REFRESH",
		AuthStyle: "params",
	}}
	if err := c.ResolveSecrets(adapters.Secrets{Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Fatal(err)
	}
	a, err := c.Open(t.Context())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := a.List(t.Context(), a.Capabilities().ResourceTypes[0], adapters.Query{StartIndex: 1, Count: 1}); err != nil {
		t.Fatalf("List: %v", err)
	}
	want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"refresh-1"}, "client_id": {"gateway"},
		"client_secret": {"client-secret"}}
	for k, v := range want {
		if got.Get(k) != v[0] {
			t.Errorf("token request %s = %q, want %q", k, got.Get(k), v[0])
		}
	}
}
