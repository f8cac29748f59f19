// Package adapters defines the contract between the engine and a vendor
// backend: what an adapter must do, and what it says it can do natively.
package adapters

import (
	"context"
	"errors"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Adapter is one vendor backend seen through the normalized schema.
// Implementations are safe for concurrent use, and every failure a client can
// act on is a *scim.Error (missing resources match scim.ErrNotFound).
//
// Resources passed in have been validated and canonicalized by the engine
// against the resource type from Capabilities; resources returned carry id,
// meta.created, meta.lastModified, meta.resourceType and meta.version (a weak
// ETag such as W/"3"), and every attribute the vendor holds: the engine
// projects them for the caller.
type Adapter interface {
	Capabilities() Capabilities
	Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error)
	// List returns the page of resources that match q.Filter (all when nil),
	// ordered by q.SortBy when set.
	List(ctx context.Context, rt *scim.ResourceType, q Query) (Page, error)
	Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error)
	// Replace replaces the resource. A non-empty ifMatch is the version the
	// caller last saw; adapters with Capabilities.ETag fail with 412 when it
	// no longer matches.
	Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error)
	Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error
}

// Patcher is implemented by adapters whose vendor applies PATCH natively. The
// engine calls it with normalized operations when Capabilities.Patch is set,
// and otherwise emulates PATCH as Get, apply, Replace guarded by the version.
//
// A vendor that takes only some forms natively returns ErrPatchNotNative,
// having sent nothing, for the others: the engine then emulates that PATCH.
type Patcher interface {
	Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error)
}

// ErrPatchNotNative is returned by Patcher.Patch for operations the vendor
// cannot apply natively; nothing has been sent.
var ErrPatchNotNative = errors.New("adapters: PATCH form not native to the vendor")

// HealthChecker is implemented by adapters that can tell cheaply whether
// their vendor answers, e.g. with the lightest authenticated read it has.
// The gateway calls Health for /readyz at most once every few seconds per
// target, under a short deadline, and shows a failure as detail only: it
// never takes the gateway out of service. Decorators that embed an Adapter
// forward it when the adapter they wrap implements it.
type HealthChecker interface {
	Health(ctx context.Context) error
}

// Bulker is implemented by adapters whose vendor runs Bulk natively
// (Capabilities.BulkMaxOperations > 0). The engine keeps the RFC 7644
// semantics: it validates each operation, orders them, resolves bulkId
// references and counts failures; Bulk sends a batch of at most
// BulkMaxOperations ready operations (none refers to another's bulkId) as
// one vendor request, stopping after failOnErrors failures when that is
// positive. It returns one result per operation, in order, and an error
// only when the batch as a whole failed (every operation then failed with
// it).
type Bulker interface {
	Bulk(ctx context.Context, ops []BulkOp, failOnErrors int) ([]BulkResult, error)
}

// BulkOp is one operation of a native Bulk batch.
type BulkOp struct {
	Method   string // POST, PATCH or DELETE; the engine runs PUT singly
	Type     *scim.ResourceType
	ID       string         // PATCH and DELETE
	Resource scim.Resource  // POST: validated and canonicalized
	Patch    []scim.PatchOp // PATCH: normalized operations
}

// BulkResult is the outcome of one BulkOp.
type BulkResult struct {
	// Skipped is true when the vendor did not run the operation (it
	// stopped at failOnErrors); it is then left out of the response.
	Skipped bool
	// Resource holds at least the id and meta.version of a POST or PATCH.
	Resource scim.Resource
	Err      error
}

// Query is what the engine pushes down to an adapter's List.
type Query struct {
	Filter     filter.Expr // checked against the resource type; nil matches all
	SortBy     scim.Path   // canonical; zero value means unsorted
	Descending bool
	StartIndex int // 1-based
	Count      int // at most Capabilities.MaxPageSize when that is set
}

// Page is one page of List results.
type Page struct {
	Resources    []scim.Resource
	TotalResults int // matches of q.Filter across all pages
}

// Capabilities describes what an adapter does natively; the engine emulates
// the rest, so every target serves the whole protocol.
type Capabilities struct {
	// ResourceTypes the target serves, with their schemas (vendor extensions
	// included). A type absent here is not advertised and answers 404.
	ResourceTypes []*scim.ResourceType
	// Filter says, per resource type ID, which filters List runs natively.
	// A resource type without an entry gets no pushdown.
	Filter map[string]FilterSupport
	// Sort is true when List orders by Query.SortBy natively.
	Sort bool
	// MaxPageSize is the largest Count List honours; 0 means no limit.
	MaxPageSize int
	// ETag is true when Replace, Delete and Patch enforce ifMatch natively.
	ETag bool
	// Patch is true when the adapter implements Patcher for every form.
	Patch bool
	// BulkLimit, when positive, caps the operations of one Bulk request
	// below the engine's own limit: a vendor whose writes are slow (rate
	// limits) advertises what it can finish in reasonable time.
	BulkLimit int
	// BulkMaxOperations, when positive, is the largest batch the adapter's
	// Bulker takes in one vendor request; 0 means Bulk is emulated with
	// single operations.
	BulkMaxOperations int
}

// FilterSupport lists the filters one resource type's List runs natively.
type FilterSupport struct {
	// Any is true when every filter is supported.
	Any bool
	// Ops maps a canonical attribute path (scim.Path.String()) to the
	// operators supported on it.
	Ops map[string][]filter.Op
	// And, Or and Not say whether supported terms may be combined natively.
	And, Or, Not bool
}
