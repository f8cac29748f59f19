package registry_test

import (
	"slices"
	"testing"

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
