package adapters

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

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
