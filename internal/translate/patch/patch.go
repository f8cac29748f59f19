// Package patch decodes RFC 7644 §3.5.2 PATCH requests, normalizing the
// dialects real IdPs send, and applies them to a resource.
package patch

import "github.com/scim-gateway/scim-gateway/internal/scim"

// Parse decodes a PATCH request body into normalized operations: op in lower
// case, IdP dialects rewritten to standard forms (see DESIGN.md "IdP
// dialects"). Every failure is a 400 *scim.Error (invalidSyntax, invalidPath
// or invalidValue).
func Parse(body []byte) ([]scim.PatchOp, error) { panic("TODO(patch)") }

// Apply applies ops to r, a resource of type rt, all or none (RFC 7644
// §3.5.2: the operations are atomic). It returns a new resource and never
// modifies r. Failures are 400 *scim.Error values with scimType noTarget,
// mutability, invalidPath, invalidValue or invalidSyntax.
func Apply(rt *scim.ResourceType, r scim.Resource, ops []scim.PatchOp) (scim.Resource, error) {
	panic("TODO(patch)")
}
