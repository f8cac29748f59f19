// Package engine runs SCIM operations against one target's adapter, emulating
// what the adapter lacks: residual filtering with correct paging, sorting,
// projection, PATCH as read-apply-replace, ETag checks and Bulk.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// Engine serves one target. It is safe for concurrent use.
//
// The adapter's Capabilities are read once, in New: they describe what the
// vendor does, which does not change while the target is open.
type Engine struct {
	adapter adapters.Adapter
	opts    Options
	caps    adapters.Capabilities
	patcher adapters.Patcher // nil unless the adapter patches natively
	bulker  adapters.Bulker  // nil unless the adapter runs Bulk natively
}

// Options tune an Engine; zero values take the defaults noted.
type Options struct {
	DefaultPageSize   int   // count when the caller gives none; default 100
	MaxPageSize       int   // largest count served; default 1000
	BulkMaxOperations int   // default 1000
	BulkMaxPayload    int64 // bytes; default 1 MiB
}

// The defaults of Options.
const (
	DefaultPageSize   = 100
	DefaultMaxPage    = 1000
	DefaultBulkMaxOps = 1000
	DefaultBulkMax    = 1 << 20
)

// patchAttempts bounds the read-apply-replace rounds of an emulated PATCH
// without If-Match: each round that loses a race (412 from the adapter)
// starts again from a fresh read.
const patchAttempts = 5

// New returns an Engine over a, with opts' zero and negative values
// replaced by the defaults, and a DefaultPageSize above MaxPageSize lowered
// to it.
func New(a adapters.Adapter, opts Options) *Engine {
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPage
	}
	if opts.DefaultPageSize <= 0 {
		opts.DefaultPageSize = DefaultPageSize
	}
	opts.DefaultPageSize = min(opts.DefaultPageSize, opts.MaxPageSize)
	if opts.BulkMaxOperations <= 0 {
		opts.BulkMaxOperations = DefaultBulkMaxOps
	}
	if opts.BulkMaxPayload <= 0 {
		opts.BulkMaxPayload = DefaultBulkMax
	}
	e := &Engine{adapter: a, opts: opts, caps: a.Capabilities()}
	if limit := e.caps.BulkLimit; limit > 0 {
		e.opts.BulkMaxOperations = min(e.opts.BulkMaxOperations, limit)
	}
	if p, ok := a.(adapters.Patcher); ok && e.caps.Patch {
		e.patcher = p
	}
	if b, ok := a.(adapters.Bulker); ok && e.caps.BulkMaxOperations > 0 {
		e.bulker = b
	}
	return e
}

// Options returns the effective options (defaults applied), for discovery.
func (e *Engine) Options() Options { return e.opts }

// Capabilities returns what the adapter declared it does natively; the
// engine emulates the rest.
func (e *Engine) Capabilities() adapters.Capabilities { return e.caps }

// ResourceTypes returns the resource types the target serves, in the order
// the adapter declares them. The slice is a copy; the types are shared and
// must not be modified.
func (e *Engine) ResourceTypes() []*scim.ResourceType {
	return append([]*scim.ResourceType(nil), e.caps.ResourceTypes...)
}

// ResourceType returns the resource type with the given ID ("User"),
// matched case-insensitively, or nil.
func (e *Engine) ResourceType(id string) *scim.ResourceType {
	for _, rt := range e.caps.ResourceTypes {
		if strings.EqualFold(rt.ID, id) {
			return rt
		}
	}
	return nil
}

// Projection is the attributes / excludedAttributes of a request (RFC 7644
// §3.9), as the caller wrote them.
type Projection struct {
	Attributes         []string
	ExcludedAttributes []string
}

// Query is a list or search request (RFC 7644 §3.4.2, §3.4.3).
type Query struct {
	Projection
	Filter     string
	SortBy     string
	SortOrder  string // "ascending" (default) or "descending"
	StartIndex int    // 1-based; values below 1 mean 1
	Count      int    // negative means not given
}

// project applies p to r for rt (see translate.Projection).
func project(rt *scim.ResourceType, p Projection, r scim.Resource) scim.Resource {
	return translate.NewProjection(rt, p.Attributes, p.ExcludedAttributes).Apply(r)
}

// Get returns one resource, projected.
func (e *Engine) Get(ctx context.Context, rt *scim.ResourceType, id string, p Projection) (scim.Resource, error) {
	r, err := e.adapter.Get(ctx, rt, id)
	if err != nil {
		return nil, fmt.Errorf("engine: get %s %q: %w", rt.ID, id, err)
	}
	return project(rt, p, r), nil
}

// Create validates r (see translate.Validate), creates it and returns the
// new resource, projected.
func (e *Engine) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource, p Projection) (scim.Resource, error) {
	in, err := translate.Validate(rt, r, nil)
	if err != nil {
		return nil, err
	}
	out, err := e.adapter.Create(ctx, rt, in)
	if err != nil {
		return nil, fmt.Errorf("engine: create %s: %w", rt.ID, err)
	}
	return project(rt, p, out), nil
}

// Replace validates r and replaces resource id (RFC 7644 §3.5.1). A non-empty
// ifMatch must equal the current version, else 412.
//
// When the adapter does not enforce ifMatch itself (Capabilities.ETag is
// false), the engine reads the resource and compares its version first. The
// read and the write are then two vendor calls, so a change landing between
// them goes unnoticed: the guard is as good as the vendor allows. The
// current resource is also read when rt has immutable attributes, to check
// them (translate.Validate).
func (e *Engine) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string, p Projection) (scim.Resource, error) {
	var current scim.Resource
	if (ifMatch != "" && !e.caps.ETag) || translate.HasImmutable(rt) {
		cur, err := e.adapter.Get(ctx, rt, id)
		if err != nil {
			return nil, fmt.Errorf("engine: replace %s %q: %w", rt.ID, id, err)
		}
		if err := e.checkVersion(rt, id, cur, ifMatch); err != nil {
			return nil, err
		}
		current = cur
	}
	in, err := translate.Validate(rt, r, current)
	if err != nil {
		return nil, err
	}
	out, err := e.adapter.Replace(ctx, rt, id, in, ifMatch)
	if err != nil {
		return nil, fmt.Errorf("engine: replace %s %q: %w", rt.ID, id, err)
	}
	return project(rt, p, out), nil
}

// Patch applies normalized ops (see patch.Parse) to resource id.
//
// An adapter that patches natively (Capabilities.Patch, and it implements
// adapters.Patcher) gets the operations as they are. Otherwise PATCH is
// emulated (RFC 7644 §3.5.2 leaves the how to the service provider): read
// the resource, apply the operations with patch.Apply, validate the result
// as a PUT body, and Replace it guarded by the version read, so that a
// change made in between is not overwritten. With a caller's If-Match, a
// version that is not the one read is a 412, and so is losing the race to
// another writer. Without one, a lost race is retried from a fresh read, up
// to a bounded number of rounds, after which the 412 is returned. When the
// adapter enforces no versions (Capabilities.ETag false) the guard is the
// engine's own read-compare, as for Replace.
func (e *Engine) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string, p Projection) (scim.Resource, error) {
	if e.patcher != nil {
		if ifMatch != "" && !e.caps.ETag {
			cur, err := e.adapter.Get(ctx, rt, id)
			if err != nil {
				return nil, fmt.Errorf("engine: patch %s %q: %w", rt.ID, id, err)
			}
			if err := e.checkVersion(rt, id, cur, ifMatch); err != nil {
				return nil, err
			}
		}
		out, err := e.patcher.Patch(ctx, rt, id, ops, ifMatch)
		switch {
		case err == nil:
			return project(rt, p, out), nil
		case !errors.Is(err, adapters.ErrPatchNotNative):
			return nil, fmt.Errorf("engine: patch %s %q: %w", rt.ID, id, err)
		}
		// Not a form the vendor takes: emulate it below.
	}
	var lastErr error
	for range patchAttempts {
		out, err := e.patchOnce(ctx, rt, id, ops, ifMatch)
		if err == nil {
			return project(rt, p, out), nil
		}
		lastErr = err
		// Only a lost race is worth another round, and only when the caller
		// did not pin the version: a pinned version that moved stays moved.
		if ifMatch != "" || !errors.Is(err, scim.ErrPreconditionFailed) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// patchOnce is one read-apply-replace round of an emulated PATCH.
func (e *Engine) patchOnce(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error) {
	cur, err := e.adapter.Get(ctx, rt, id)
	if err != nil {
		return nil, fmt.Errorf("engine: patch %s %q: %w", rt.ID, id, err)
	}
	if err := e.checkVersion(rt, id, cur, ifMatch); err != nil {
		return nil, err
	}
	next, err := patch.Apply(rt, cur, ops)
	if err != nil {
		return nil, err
	}
	in, err := translate.Validate(rt, next, cur)
	if err != nil {
		return nil, err
	}
	out, err := e.adapter.Replace(ctx, rt, id, in, cur.Version())
	if err != nil {
		return nil, fmt.Errorf("engine: patch %s %q: %w", rt.ID, id, err)
	}
	return out, nil
}

// Delete deletes resource id. A non-empty ifMatch must equal the current
// version, else 412; the engine checks it itself when the adapter does not
// (see Replace).
func (e *Engine) Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error {
	if ifMatch != "" && !e.caps.ETag {
		cur, err := e.adapter.Get(ctx, rt, id)
		if err != nil {
			return fmt.Errorf("engine: delete %s %q: %w", rt.ID, id, err)
		}
		if err := e.checkVersion(rt, id, cur, ifMatch); err != nil {
			return err
		}
	}
	if err := e.adapter.Delete(ctx, rt, id, ifMatch); err != nil {
		return fmt.Errorf("engine: delete %s %q: %w", rt.ID, id, err)
	}
	return nil
}

// checkVersion returns a 412 unless ifMatch is empty or matches cur's
// version.
func (e *Engine) checkVersion(rt *scim.ResourceType, id string, cur scim.Resource, ifMatch string) error {
	if ifMatch == "" || ETagMatches(ifMatch, cur.Version()) {
		return nil
	}
	return scim.PreconditionFailed(rt.ID, id)
}

// ETagMatches reports whether ifMatch, an If-Match header value, matches the
// entity tag current: "*" matches any existing resource, a list matches when
// one of its tags does, and tags compare weakly (the W/ prefix is ignored on
// both sides), since SCIM versions are weak ETags (RFC 7644 §3.14) that
// clients send back as they got them.
func ETagMatches(ifMatch, current string) bool {
	cur := strings.TrimPrefix(strings.TrimSpace(current), "W/")
	for tag := range strings.SplitSeq(ifMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || (tag != "" && strings.TrimPrefix(tag, "W/") == cur) {
			return true
		}
	}
	return false
}
