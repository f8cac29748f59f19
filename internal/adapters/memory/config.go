package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
)

// Config is the `settings` block of a target whose adapter is "memory". The
// zero value is valid: a native store without a page limit.
type Config struct {
	// Native, when false, switches every native capability off (filter,
	// sort, ETag, PATCH) so that the engine must emulate them. Nil means true.
	Native *bool `yaml:"native"`
	// MaxPageSize is the largest page List returns; 0 means no limit.
	MaxPageSize int `yaml:"maxPageSize"`
}

// Validate reports every problem of c at once. It has no side effects.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("maxPageSize: must be 0 (no limit) or positive, got %d", c.MaxPageSize))
	}
	return errors.Join(errs...)
}

// Open validates c and builds an empty store. The context is unused: the
// store needs no I/O to start.
func (c *Config) Open(_ context.Context) (adapters.Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	var opts []Option
	if c.Native != nil && !*c.Native {
		opts = append(opts, WithoutNative())
	}
	opts = append(opts, WithMaxPageSize(c.MaxPageSize))
	return New(opts...), nil
}
