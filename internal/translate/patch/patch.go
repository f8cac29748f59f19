// Package patch decodes RFC 7644 §3.5.2 PATCH requests, normalizing the
// dialects real IdPs send, and applies them to a resource.
//
// Parse knows no schema: it checks the request's structure, puts op in lower
// case and splits path-less values whose keys are dotted or URN-qualified
// into operations with a path. Apply resolves every path against the
// resource type's attribute definitions and carries out the operations on a
// deep copy, all or none. Everything a client can get wrong is a 400
// *scim.Error with the scimType RFC 7644 §3.12 gives it.
package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// MaxOperations bounds the operations of one PATCH request. IdPs send a
// handful (Entra ID and Okta batch group members inside one operation's
// value array), so a larger count is a client bug or abuse; the body size is
// bounded separately by the router.
const MaxOperations = 1000

// The operations of RFC 7644 §3.5.2, in the lower case Parse normalizes to.
const (
	opAdd     = "add"
	opRemove  = "remove"
	opReplace = "replace"
)

// Parse decodes a PATCH request body (RFC 7644 §3.5.2) into normalized
// operations. Every failure is a 400 *scim.Error: invalidSyntax for a body
// that is not a PatchOp message (malformed JSON, no or too many operations,
// an unknown op, a member of the wrong type), invalidValue for an add or
// replace without a value. Paths are checked by Apply against the resource
// type, and a remove without a path is refused there too (noTarget, RFC 7644
// §3.5.2.2): the request is well-formed, its target is not. The result
// shares the decoded values with nothing else.
//
// What is accepted, beyond the letter of RFC 7644:
//   - "schemas" may be absent (some clients, e.g. GitHub's SCIM examples, omit
//     it; the endpoint and method already say what the body is). When present
//     it must be an array of strings containing
//     urn:ietf:params:scim:api:messages:2.0:PatchOp (compared
//     case-insensitively), else invalidSyntax;
//   - member names are matched case-insensitively ("Operations",
//     "operations", "OP", "Path", ...), since RFC 7643 §2.1 makes attribute
//     names case-insensitive and Microsoft's SCIM guidance asks servers not
//     to require case on structural elements; a name given twice is an
//     invalidSyntax, as is an operation member other than op, path and
//     value (a misspelt "value" must not turn a selective remove into
//     removing everything);
//   - op is taken in any case and normalized to lower case: Microsoft Entra
//     ID sends "Add", "Replace" and "Remove" (testdata/entra/*.in.json);
//   - a null or empty path means "no path";
//   - in a path-less add or replace, a key of the value object that is not
//     a plain attribute name ("name.givenName", or the URN-qualified
//     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")
//     becomes an operation of its own with that key as its path, the form
//     every SCIM server understands. Entra ID sends such values
//     (testdata/entra/users-replace-pathless-dotted-urn.in.json). Plain
//     keys, and a key naming a whole schema by its URN, stay in the
//     path-less value, which is already standard. A "schemas" key there is
//     dropped: schemas follows from the attributes present (RFC 7643 §3).
//
// The member-removal dialect (a remove whose value lists the elements to
// remove) and the string booleans depend on attribute definitions, so Apply
// handles those.
func Parse(body []byte) ([]scim.PatchOp, error) {
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "the PATCH body is not valid JSON: %s", jsonError(err))
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "the PATCH body must be a JSON object, got %s", scim.JSONKind(doc))
	}
	var schemas, operations any
	var hasSchemas, hasOperations bool
	for _, k := range sortedKeys(obj) {
		switch {
		case strings.EqualFold(k, "schemas"):
			if hasSchemas {
				return nil, scim.BadRequest(scim.InvalidSyntax, "schemas is given more than once")
			}
			schemas, hasSchemas = obj[k], true
		case strings.EqualFold(k, "Operations"):
			if hasOperations {
				return nil, scim.BadRequest(scim.InvalidSyntax, "Operations is given more than once")
			}
			operations, hasOperations = obj[k], true
		}
		// Other members are ignored: a PatchOp message has no others, and
		// ignoring one cannot widen what the operations do.
	}
	if err := checkSchemas(schemas); err != nil {
		return nil, err
	}
	list, ok := operations.([]any)
	switch {
	case !hasOperations || operations == nil:
		return nil, scim.BadRequest(scim.InvalidSyntax, "the PATCH body has no Operations")
	case !ok:
		return nil, scim.BadRequest(scim.InvalidSyntax, "Operations must be an array, got %s", scim.JSONKind(operations))
	case len(list) == 0:
		return nil, scim.BadRequest(scim.InvalidSyntax, "Operations is empty; a PATCH needs at least one operation")
	case len(list) > MaxOperations:
		return nil, scim.BadRequest(scim.InvalidSyntax, "Operations holds %d operations, more than the %d allowed", len(list), MaxOperations)
	}
	ops := make([]scim.PatchOp, 0, len(list))
	for i, e := range list {
		op, err := parseOp(e)
		if err != nil {
			se := scim.AsError(err)
			return nil, &scim.Error{Status: se.Status, ScimType: se.ScimType, Detail: fmt.Sprintf("Operations[%d]: %s", i, se.Detail)}
		}
		ops = appendSplit(ops, op)
	}
	return ops, nil
}

// checkSchemas checks the schemas member of a PatchOp message; nil is absent.
func checkSchemas(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return scim.BadRequest(scim.InvalidSyntax, "schemas must be an array holding %s, got %s", scim.PatchOpSchema, scim.JSONKind(v))
	}
	found := false
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return scim.BadRequest(scim.InvalidSyntax, "schemas must be an array of URNs, got an element of type %s", scim.JSONKind(e))
		}
		found = found || strings.EqualFold(s, scim.PatchOpSchema)
	}
	if !found {
		return scim.BadRequest(scim.InvalidSyntax, "schemas must contain %s", scim.PatchOpSchema)
	}
	return nil
}

// parseOp decodes one element of Operations.
func parseOp(e any) (scim.PatchOp, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "an operation must be a JSON object, got %s", scim.JSONKind(e))
	}
	var op scim.PatchOp
	var rawOp, rawPath any
	var hasOp, hasPath, hasValue bool
	for _, k := range sortedKeys(m) {
		var seen *bool
		switch strings.ToLower(k) {
		case "op":
			seen, rawOp = &hasOp, m[k]
		case "path":
			seen, rawPath = &hasPath, m[k]
		case "value":
			seen, op.Value = &hasValue, m[k]
		default:
			return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "unknown member %s; an operation has op, path and value", quote(k))
		}
		if *seen {
			return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "member %s is given more than once", quote(k))
		}
		*seen = true
	}
	name, ok := rawOp.(string)
	if !ok {
		if !hasOp {
			return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "op is missing")
		}
		return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "op must be a string, got %s", scim.JSONKind(rawOp))
	}
	// IdP dialect: Microsoft Entra ID sends "Add", "Replace" and "Remove"
	// (testdata/entra/users-replace-multiple.in.json and the other
	// testdata/entra cases); RFC 7644 §3.5.2 spells them in lower case.
	op.Op = strings.ToLower(name)
	switch op.Op {
	case opAdd, opRemove, opReplace:
	default:
		return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, `op %s is not "add", "remove" or "replace"`, quote(name))
	}
	switch p := rawPath.(type) {
	case nil:
	case string:
		// The path's syntax is checked by Apply, together with its names,
		// so that one place reports every invalidPath.
		if strings.TrimSpace(p) != "" {
			op.Path = p
		}
	default:
		return scim.PatchOp{}, scim.BadRequest(scim.InvalidSyntax, "path must be a string, got %s", scim.JSONKind(rawPath))
	}
	switch {
	case op.Op != opRemove && !hasValue:
		return scim.PatchOp{}, scim.BadRequest(scim.InvalidValue, "an %s operation needs a value", op.Op)
	case op.Op != opRemove && op.Path == "":
		v, ok := op.Value.(map[string]any)
		if !ok {
			return scim.PatchOp{}, scim.BadRequest(scim.InvalidValue, "without a path, the value of an %s operation must be an object of attributes, got %s", op.Op, scim.JSONKind(op.Value))
		}
		if len(v) == 0 {
			return scim.PatchOp{}, scim.BadRequest(scim.InvalidValue, "without a path, the value of an %s operation must name at least one attribute", op.Op)
		}
	}
	return op, nil
}

// appendSplit appends op to ops, splitting a path-less add or replace whose
// value has dotted or URN-qualified keys into one operation per such key (see
// Parse). A key that does not parse as a path stays where it is, for Apply to
// report.
func appendSplit(ops []scim.PatchOp, op scim.PatchOp) []scim.PatchOp {
	v, ok := op.Value.(map[string]any)
	if op.Path != "" || !ok {
		return append(ops, op)
	}
	var plain map[string]any
	var split []scim.PatchOp
	for _, k := range sortedKeys(v) {
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if isPlainKey(k) {
			if plain == nil {
				plain = make(map[string]any, len(v))
			}
			plain[k] = v[k]
			continue
		}
		// IdP dialect: Microsoft Entra ID (aadOptscim062020) sends
		// "name.givenName" and URN-qualified extension attributes as keys of
		// a path-less value (testdata/entra/users-replace-pathless-dotted-urn).
		split = append(split, scim.PatchOp{Op: op.Op, Path: k, Value: v[k]})
	}
	if plain != nil {
		ops = append(ops, scim.PatchOp{Op: op.Op, Value: plain})
	}
	return append(ops, split...)
}

// isPlainKey reports whether k, a key of a path-less value, is standard
// RFC 7644 §3.5.2 content: an attribute name, or a schema URN holding an
// object of that schema's attributes. A key that does not parse as a path is
// kept too, so that Apply reports it against the resource type.
func isPlainKey(k string) bool {
	if !strings.ContainsAny(k, ".:[") {
		return true
	}
	pp, err := filter.ParsePatchPath(k)
	return err != nil || pp.Path.Attr == ""
}

// Apply applies ops to r, a resource of type rt, all or none (RFC 7644
// §3.5.2: "each operation ... MUST be applied ... and if any operation fails,
// the whole PATCH request fails"). It returns a new resource and never
// modifies r or the values in ops; the result shares no maps or slices with
// either. Failures are 400 *scim.Error values with scimType noTarget,
// mutability, invalidPath, invalidValue or invalidSyntax; a nil rt is a
// programming error and not a *scim.Error.
//
// The rules, per RFC 7644 §3.5.2 and RFC 7643 (see apply.go for each):
//   - paths resolve case-insensitively and names are written in their defined
//     case (RFC 7643 §2.1); an unknown attribute, schema or sub-attribute, or
//     a value filter on something other than a multi-valued complex
//     attribute, is invalidPath;
//   - add to a multi-valued attribute appends, and an element already present
//     (equal "value" and compatible "type", or equal in every sub-attribute
//     for attributes without "value") is merged, not repeated (§3.5.2.1);
//     replace without a filter replaces all elements (§3.5.2.3); add and
//     replace on a single-valued complex attribute merge sub-attributes;
//   - a value filter that matches nothing is noTarget for replace (§3.5.2.3)
//     and remove; an add through an equality filter
//     (emails[type eq "work"].value) creates the element the filter
//     describes, since nothing can be "replaced" by an add and Entra ID sends
//     exactly that for a user without a work email;
//   - remove without a path is noTarget (§3.5.2.2), and a remove whose value
//     lists elements of a multi-valued attribute removes those elements
//     (Entra ID's member removal);
//   - a change to a readOnly attribute or sub-attribute (id, meta, groups,
//     members.display) or to an immutable one that has a value is
//     mutability; writing the value it already has is not a change (the
//     target "already contains the value specified", §3.5.2.1: Okta repeats
//     the group's id when it renames one). Read-only sub-attributes inside a
//     value are ignored, as on PUT (RFC 7644 §3.5.1: Okta sends
//     members[].display). Removing a required attribute is mutability
//     (§3.5.2.3);
//   - values are checked against their type (invalidValue); booleans sent as
//     "True"/"False" strings are converted (Entra ID); a simple value where a
//     complex attribute with a "value" sub-attribute is expected becomes
//     {"value": v} (Entra ID's manager);
//   - setting primary to true on one element clears it on the others
//     (RFC 7644 §3.5.2); two new primaries at once are invalidValue;
//   - schemas lists exactly the extensions that hold attributes afterwards:
//     an extension object left empty is removed with its URN.
func Apply(rt *scim.ResourceType, r scim.Resource, ops []scim.PatchOp) (scim.Resource, error) {
	if rt == nil || rt.Schema == nil {
		return nil, fmt.Errorf("patch: apply: no resource type")
	}
	a := applier{rt: rt, res: r.Clone()}
	if a.res == nil {
		a.res = scim.Resource{}
	}
	before := a.extensionsPresent()
	for _, op := range ops {
		if err := a.op(op); err != nil {
			return nil, err
		}
	}
	if err := a.settleSchemas(before); err != nil {
		return nil, err
	}
	return a.res, nil
}

// sortedKeys returns the keys of m in order, so that results and the first
// error reported do not depend on map iteration order.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// quote renders client text for an error detail, cut to a length that keeps
// details short.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// jsonError describes a JSON decoding error without echoing the input.
func jsonError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}
