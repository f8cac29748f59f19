package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/config"
)

// TestREADMEExample checks that the configuration reference in the README
// is a valid configuration, so that the documentation cannot drift from the
// loader.
func TestREADMEExample(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- The block below is parsed by internal/config's tests"
	_, rest, ok := strings.Cut(string(data), marker)
	if !ok {
		t.Fatalf("README.md has no %q marker", marker)
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("README.md: no yaml block after the marker")
	}
	doc, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md: unterminated yaml block")
	}
	cfg, err := config.Parse([]byte(doc), t.TempDir(), envOf(map[string]string{
		"INTERNAL_JWT_SECRET": strings.Repeat("x", 32),
	}))
	if err != nil {
		t.Fatalf("the README's configuration does not load:\n%v", err)
	}
	// Every default the README states.
	s := cfg.Server
	def := mustParse(t, minimal, noEnv).Server
	s.PublicURL = def.PublicURL
	if s != def {
		t.Errorf("the README's server section = %+v\nwant the defaults %+v", s, def)
	}
	if cfg.Log != (config.Log{Level: "info", Format: "json"}) {
		t.Errorf("the README's log section = %+v, want the defaults", cfg.Log)
	}
	if got := cfg.Auth.Issuers[0].Leeway; got != config.DefaultLeeway {
		t.Errorf("the README's leeway = %v, want the default %v", got, config.DefaultLeeway)
	}
}
