// Package registry is the one map from an adapter name, as written in a
// target's `adapter` key, to that adapter's Config. It is the only package
// that imports every backend; backends do not register themselves.
package registry

import (
	"context"
	"slices"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/adapters/upstream"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
)

// Config is the `settings` block of a target, decoded into the adapter's own
// type. Validate reports every problem at once and has no side effects; Open
// builds the adapter (and may do I/O, e.g. fetch a token or probe the vendor).
type Config interface {
	Validate() error
	Open(ctx context.Context) (adapters.Adapter, error)
}

// configs maps each adapter name to a constructor of its zero Config. A new
// backend adds one line here.
var configs = map[string]func() Config{
	"memory":      func() Config { return new(memory.Config) },
	"upstream":    func() Config { return new(upstream.Config) },
	"webex":       func() Config { return new(webex.Config) },
	"ringcentral": func() Config { return new(ringcentral.Config) },
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
