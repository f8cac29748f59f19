// Package engine runs SCIM operations against one target's adapter, emulating
// what the adapter lacks: residual filtering with correct paging, sorting,
// projection, PATCH as read-apply-replace, ETag checks and Bulk.
package engine

import (
	"context"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Engine serves one target. It is safe for concurrent use.
type Engine struct {
	adapter adapters.Adapter
	opts    Options
}

// Options tune an Engine; zero values take the defaults noted.
type Options struct {
	DefaultPageSize   int   // count when the caller gives none; default 100
	MaxPageSize       int   // largest count served; default 1000
	BulkMaxOperations int   // default 1000
	BulkMaxPayload    int64 // bytes; default 1 MiB
}

// New returns an Engine over a.
func New(a adapters.Adapter, opts Options) *Engine { panic("TODO(engine)") }

// Options returns the effective options (defaults applied), for discovery.
func (e *Engine) Options() Options { return e.opts }

// ResourceTypes returns the resource types the target serves.
func (e *Engine) ResourceTypes() []*scim.ResourceType { panic("TODO(engine)") }

// ResourceType returns the resource type with the given ID ("User"), or nil.
func (e *Engine) ResourceType(id string) *scim.ResourceType { panic("TODO(engine)") }

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

// Get returns one resource, projected.
func (e *Engine) Get(ctx context.Context, rt *scim.ResourceType, id string, p Projection) (scim.Resource, error) {
	panic("TODO(engine)")
}

// Search answers a query over rt, or over every resource type when rt is nil
// (POST /.search at the root).
func (e *Engine) Search(ctx context.Context, rt *scim.ResourceType, q Query) (*scim.ListResponse, error) {
	panic("TODO(engine)")
}

// Create validates r and creates it.
func (e *Engine) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource, p Projection) (scim.Resource, error) {
	panic("TODO(engine)")
}

// Replace validates r and replaces resource id (RFC 7644 §3.5.1). A non-empty
// ifMatch must equal the current version, else 412.
func (e *Engine) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string, p Projection) (scim.Resource, error) {
	panic("TODO(engine)")
}

// Patch applies normalized ops (see patch.Parse) to resource id.
func (e *Engine) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string, p Projection) (scim.Resource, error) {
	panic("TODO(engine)")
}

// Delete deletes resource id.
func (e *Engine) Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error {
	panic("TODO(engine)")
}
