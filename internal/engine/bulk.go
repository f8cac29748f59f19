package engine

import (
	"context"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Bulk runs a Bulk request (RFC 7644 §3.7) as ordered operations, resolving
// bulkId references. Locations in the response are relative
// ("/Users/{id}"); the router makes them absolute.
func (e *Engine) Bulk(ctx context.Context, req scim.BulkRequest) (*scim.BulkResponse, error) {
	panic("TODO(engine)")
}
