// Package registry is the one map from an adapter name, as written in a
// target's `adapter` key, to that adapter's Config. It is the only package
// that imports every backend; backends do not register themselves.
package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
)

// Config is the `settings` block of a target, decoded into the adapter's own
// type. Validate reports every problem at once and has no side effects; Open
// builds the adapter (and may do I/O, e.g. fetch a token or probe the vendor).
type Config interface {
	Validate() error
	Open(ctx context.Context) (adapters.Adapter, error)
}

// SecretUser is implemented by a Config that names secrets (a vendor token,
// a client secret) by environment variable or file rather than holding
// them. The configuration loader calls ResolveSecrets after decoding and
// before Validate, so that a missing secret is reported with the other
// problems, at its key.
type SecretUser interface {
	ResolveSecrets(s Secrets) error
}

// Secrets reads the secrets a target's settings refer to.
type Secrets struct {
	// Getenv looks up environment variables (os.Getenv in production).
	Getenv func(string) string
	// Dir is the configuration file's directory; relative file names are
	// relative to it.
	Dir string
}

// Read returns the secret that key refers to: exactly one of env (a
// variable name) and file (a file name) is set. The error names key's
// envKey or fileKey, e.g. "tokenEnv: environment variable X is unset".
func (s Secrets) Read(key, env, file string) (string, error) {
	switch {
	case env != "" && file != "":
		return "", fmt.Errorf("%sEnv, %sFile: set one, not both", key, key)
	case env != "":
		var v string
		if s.Getenv != nil {
			v = s.Getenv(env)
		}
		if v == "" {
			return "", fmt.Errorf("%sEnv: environment variable %s is unset or empty", key, env)
		}
		return v, nil
	case file != "":
		if !filepath.IsAbs(file) && s.Dir != "" {
			file = filepath.Join(s.Dir, file)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%sFile: %w", key, err)
		}
		// Editors and echo add one trailing newline; it is not the secret.
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			return "", fmt.Errorf("%sFile: %s is empty", key, file)
		}
		return v, nil
	}
	return "", errors.New(key + "Env or " + key + "File: required")
}

// configs maps each adapter name to a constructor of its zero Config. A new
// backend adds one line here.
var configs = map[string]func() Config{
	"memory": func() Config { return new(memory.Config) },
}

// New returns a fresh zero Config for the adapter called name, ready to have
// a target's settings decoded into it, and false when no adapter has that name.
func New(name string) (Config, bool) {
	f, ok := configs[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Names returns the names of every adapter, sorted.
func Names() []string {
	names := make([]string, 0, len(configs))
	for name := range configs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
