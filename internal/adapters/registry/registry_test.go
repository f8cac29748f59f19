package registry_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/registry"
)

func TestNew(t *testing.T) {
	for _, name := range registry.Names() {
		t.Run(name, func(t *testing.T) {
			a, ok := registry.New(name)
			if !ok || a == nil {
				t.Fatalf("New(%q) = %v, %v; want a Config", name, a, ok)
			}
			b, _ := registry.New(name)
			if a == b {
				t.Errorf("New(%q) returned the same Config twice; each target needs its own", name)
			}
			// The zero value of every adapter's settings must at least be
			// checkable without panicking; whether it is valid is the
			// adapter's business.
			_ = a.Validate()
		})
	}
}

func TestNewUnknown(t *testing.T) {
	if c, ok := registry.New("nope"); ok || c != nil {
		t.Errorf(`New("nope") = %v, %v; want nil, false`, c, ok)
	}
}

func TestNamesHasMemory(t *testing.T) {
	names := registry.Names()
	if !slices.Contains(names, "memory") {
		t.Errorf("Names() = %v, want it to contain memory (the reference target)", names)
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v, want sorted", names)
	}
}

func TestOpenMemory(t *testing.T) {
	c, _ := registry.New("memory")
	a, err := c.Open(t.Context())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if a == nil {
		t.Fatal("Open returned a nil adapter")
	}
}

func TestSecretsRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tok"), []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := adapters.Secrets{Dir: dir, Getenv: func(k string) string {
		if k == "TOKEN" {
			return "from-env"
		}
		return ""
	}}
	tests := []struct {
		env, file, want, wantErr string
	}{
		{env: "TOKEN", want: "from-env"},
		{file: "tok", want: "s3cret"},
		{env: "UNSET", wantErr: "tokenEnv: environment variable UNSET is unset or empty"},
		{file: "missing", wantErr: "tokenFile: "},
		{file: "empty", wantErr: "is empty"},
		{env: "TOKEN", file: "tok", wantErr: "tokenEnv, tokenFile: set one, not both"},
		{wantErr: "tokenEnv or tokenFile: required"},
	}
	for _, tt := range tests {
		got, err := s.Read("token", tt.env, tt.file)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Read(%q, %q) error = %v, want it to contain %q", tt.env, tt.file, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("Read(%q, %q) = %q, %v; want %q", tt.env, tt.file, got, err, tt.want)
		}
	}
}
