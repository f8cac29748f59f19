package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// bulkIDPrefix starts a value that refers to the resource a POST of the same
// request creates (RFC 7644 §3.7.2).
const bulkIDPrefix = "bulkId:"

// Bulk runs a Bulk request (RFC 7644 §3.7) as ordered operations, resolving
// bulkId references. Locations in the response are relative
// ("/Users/{id}"); the router makes them absolute.
//
// Each operation goes through Create, Replace, Patch or Delete, so the
// engine's validation and emulation apply to it as to a single request, and
// an operation's version is its If-Match. Operations run in request order,
// except that a POST runs before the first operation that references its
// bulkId, in its path or anywhere in its data (a Group member's value, say).
// The response lists the operations that ran, in request order.
//
// When the adapter runs Bulk natively (adapters.Bulker), POST, DELETE and
// PATCH (when the adapter patches natively) are validated here and sent in
// batches of at most Capabilities.BulkMaxOperations, in request order; a
// batch goes out when it is full, when an operation refers to a bulkId it
// holds (so the vendor never has to resolve one), and before an operation
// that runs singly (PUT, or one whose version the engine checks).
//
// Failures are per operation: the operation's status is the error's, and
// its response is the SCIM Error (RFC 7644 §3.7.3). The request goes on
// until FailOnErrors errors, when it is set. The decisions where RFC 7644
// leaves a choice:
//   - a circular reference is not resolved: each POST in the cycle fails with
//     409, which §3.7.1 allows ("MAY stop after a failed attempt and instead
//     return HTTP status code 409");
//   - an operation that references a POST that failed fails with 409 too:
//     the reference cannot be resolved, as in §3.7.1;
//   - a reference to a bulkId that no POST of the request declares, or a
//     second POST with the same bulkId, is a 400 invalidValue;
//   - a missing bulkId on POST, an unknown method, or a path that does not
//     fit the method is a 400 invalidSyntax; a path whose endpoint the
//     target does not serve is a 404.
//
// Bulk itself fails only for the request as a whole: 413 when it holds more
// than Options.BulkMaxOperations operations (§3.7.4), 400 for a malformed
// request, or the context's error when it ends mid-request.
func (e *Engine) Bulk(ctx context.Context, req scim.BulkRequest) (*scim.BulkResponse, error) {
	if limit := e.Options().BulkMaxOperations; limit > 0 && len(req.Operations) > limit {
		// RFC 7644 §3.7.4: 413, naming the limit exceeded.
		return nil, scim.Errorf(http.StatusRequestEntityTooLarge, "",
			"The number of operations (%d) exceeds maxOperations (%d).", len(req.Operations), limit)
	}
	if len(req.Schemas) > 0 && !slices.Contains(req.Schemas, scim.BulkRequestSchema) {
		return nil, scim.BadRequest(scim.InvalidSyntax, "schemas must contain %s", scim.BulkRequestSchema)
	}
	if req.FailOnErrors < 0 {
		return nil, scim.BadRequest(scim.InvalidValue, "failOnErrors must not be negative")
	}
	r := &bulkRun{e: e, failOnErrors: req.FailOnErrors, created: map[string]string{}}
	r.plan(req.Operations)
	for i := range r.ops {
		if r.stopped {
			break
		}
		if err := r.run(ctx, i); err != nil {
			return nil, err
		}
	}
	if err := r.flush(ctx); err != nil {
		return nil, err
	}
	resp := &scim.BulkResponse{Schemas: []string{scim.BulkResponseSchema}, Operations: []scim.BulkOperation{}}
	for _, op := range r.ops {
		if op.state == opDone {
			resp.Operations = append(resp.Operations, op.result)
		}
	}
	return resp, nil
}

// bulkRun is the state of one Bulk request.
type bulkRun struct {
	e            *Engine
	failOnErrors int
	ops          []*bulkOp
	declared     map[string]int    // bulkId → index of the POST declaring it
	created      map[string]string // bulkId → id of the created resource
	errors       int
	stopped      bool      // failOnErrors reached
	stack        []int     // operations being resolved, outermost first
	batch        []*bulkOp // prepared for the adapter's native Bulk, not yet sent
}

type opState int

const (
	opPending opState = iota // not run; left out of the response if it stays so
	opRunning                // resolving its references
	opBatched                // waiting in bulkRun.batch
	opDone                   // has a result
)

// bulkOp is one operation, parsed and planned.
type bulkOp struct {
	in     scim.BulkOperation
	method string
	rt     *scim.ResourceType
	id     string   // the target of PUT, PATCH and DELETE, maybe "bulkId:..."
	refs   []string // bulkIds referenced in the path and data
	err    *scim.Error
	state  opState
	cyclic bool
	result scim.BulkOperation
	native adapters.BulkOp // what the adapter's Bulker gets, once batched
}

// plan parses every operation and records the bulkIds POSTs declare, so
// that forward references resolve. Errors are kept to report at the
// operation's turn, where they count toward failOnErrors.
func (r *bulkRun) plan(in []scim.BulkOperation) {
	r.declared = map[string]int{}
	r.ops = make([]*bulkOp, len(in))
	for i, o := range in {
		op := &bulkOp{in: o, method: strings.ToUpper(strings.TrimSpace(o.Method))}
		r.ops[i] = op
		op.err = r.parse(op)
		if op.err == nil && op.method == http.MethodPost {
			if _, dup := r.declared[o.BulkID]; dup {
				op.err = scim.BadRequest(scim.InvalidValue, "bulkId %q is declared by an earlier operation", o.BulkID)
			} else {
				r.declared[o.BulkID] = i
			}
		}
	}
	for _, op := range r.ops {
		if op.err != nil {
			continue
		}
		for _, ref := range op.refs {
			if _, ok := r.declared[ref]; !ok {
				op.err = scim.BadRequest(scim.InvalidValue, "bulkId %q is not declared by any POST of this request", ref)
				break
			}
		}
	}
}

// parse checks the method, path, bulkId and data of op and collects its
// references.
func (r *bulkRun) parse(op *bulkOp) *scim.Error {
	switch op.method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return scim.BadRequest(scim.InvalidSyntax, "method %q is not one of POST, PUT, PATCH or DELETE", op.in.Method)
	}
	path := strings.TrimSpace(op.in.Path)
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return scim.BadRequest(scim.InvalidSyntax, "path %q is not a resource path such as /Users or /Users/{id}", op.in.Path)
	}
	endpoint, id, hasID := strings.Cut(path[1:], "/")
	if hasID && (id == "" || strings.Contains(id, "/")) {
		return scim.BadRequest(scim.InvalidSyntax, "path %q is not a resource path such as /Users or /Users/{id}", op.in.Path)
	}
	for _, rt := range r.e.ResourceTypes() {
		if strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), endpoint) {
			op.rt = rt
			break
		}
	}
	if op.rt == nil {
		return scim.Errorf(http.StatusNotFound, "", "no resource type is served at /%s", endpoint)
	}
	op.id = id
	if op.method == http.MethodPost {
		if hasID {
			return scim.BadRequest(scim.InvalidSyntax, "a POST path names a resource type endpoint, such as %s", op.rt.Endpoint)
		}
		if op.in.BulkID == "" {
			// RFC 7644 §3.7: bulkId is REQUIRED when method is POST.
			return scim.BadRequest(scim.InvalidSyntax, "bulkId is required with POST")
		}
	} else if !hasID {
		return scim.BadRequest(scim.InvalidSyntax, "a %s path names a resource, such as %s/{id}", op.method, op.rt.Endpoint)
	}
	if op.method != http.MethodDelete {
		if _, isObject := op.in.Data.(map[string]any); !isObject {
			return scim.BadRequest(scim.InvalidSyntax, "data must be a JSON object with %s", op.method)
		}
	}
	seen := map[string]bool{}
	addRef := func(s string) {
		if ref, ok := bulkRef(s); ok && !seen[ref] {
			seen[ref] = true
			op.refs = append(op.refs, ref)
		}
	}
	addRef(op.id)
	if op.method != http.MethodDelete {
		walkStrings(op.in.Data, addRef)
	}
	return nil
}

// run brings operation i to a result, first running the POSTs it references.
// It returns an error only when the context ends.
func (r *bulkRun) run(ctx context.Context, i int) error {
	op := r.ops[i]
	if r.stopped {
		return nil // failOnErrors reached: nothing more runs
	}
	switch op.state {
	case opDone:
		return nil
	case opBatched:
		// Something refers to it: it must run now.
		return r.flush(ctx)
	case opRunning:
		// i references, through the stack, back to itself: every operation
		// from i to the top of the stack is in the cycle.
		for _, j := range r.stack[slices.Index(r.stack, i):] {
			r.ops[j].cyclic = true
		}
		return nil
	}
	if op.err != nil {
		r.finish(op, op.err)
		return nil
	}
	op.state = opRunning
	r.stack = append(r.stack, i)
	var depErr *scim.Error
	for _, ref := range op.refs {
		j := r.declared[ref]
		if err := r.run(ctx, j); err != nil {
			return err
		}
		if r.ops[j].state == opBatched {
			// Its id is needed now.
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
		if r.stopped {
			break
		}
		if _, ok := r.created[ref]; !ok && depErr == nil && !op.cyclic {
			depErr = scim.Errorf(http.StatusConflict, "", "bulkId %q cannot be resolved: its operation failed", ref)
		}
	}
	r.stack = r.stack[:len(r.stack)-1]
	switch {
	case r.stopped:
		op.state = opPending
		return nil
	case op.cyclic:
		r.finish(op, scim.Errorf(http.StatusConflict, "", "bulkId references of %q are circular", op.in.BulkID))
		return nil
	case depErr != nil:
		r.finish(op, depErr)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("engine: bulk: %w", err)
	}
	if r.e.bulker != nil {
		if native, err := r.prepare(op); err != nil {
			r.finish(op, err)
			return nil
		} else if native {
			op.state = opBatched
			r.batch = append(r.batch, op)
			if len(r.batch) >= r.e.caps.BulkMaxOperations {
				return r.flush(ctx)
			}
			return nil
		}
		// A single operation runs after the batched ones before it.
		if err := r.flush(ctx); err != nil {
			return err
		}
		if r.stopped {
			op.state = opPending
			return nil
		}
	}
	res, err := r.execute(ctx, op)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("engine: bulk: %w", ctx.Err())
	}
	if err != nil {
		r.finish(op, scim.AsError(err))
		return nil
	}
	r.succeed(op, res)
	return nil
}

// succeed records op's success: the id a POST created (for the bulkIds
// that refer to it), the location and the version.
func (r *bulkRun) succeed(op *bulkOp, res scim.Resource) {
	r.finish(op, nil)
	if op.method == http.MethodPost {
		r.created[op.in.BulkID] = res.ID()
		op.id = res.ID()
	}
	op.result.Location = op.rt.Endpoint + "/" + op.id
	if op.method != http.MethodDelete {
		op.result.Version = res.Version()
	}
}

// prepare readies op, its references resolved, for the adapter's native
// Bulk, and reports whether it goes there. PUT, and operations whose
// version the engine must check first, run singly; so does PATCH when the
// adapter does not patch natively.
func (r *bulkRun) prepare(op *bulkOp) (native bool, err *scim.Error) {
	if op.in.Version != "" && !r.e.caps.ETag {
		return false, nil
	}
	op.id = r.resolve(op.id).(string)
	op.native = adapters.BulkOp{Method: op.method, Type: op.rt, ID: op.id}
	switch op.method {
	case http.MethodPost:
		in, verr := translate.Validate(op.rt, r.resolve(op.in.Data).(map[string]any), nil)
		if verr != nil {
			return false, scim.AsError(verr)
		}
		op.native.Resource = in
	case http.MethodPatch:
		if r.e.patcher == nil {
			return false, nil
		}
		ops, perr := parsePatch(r.resolve(op.in.Data))
		if perr != nil {
			return false, scim.AsError(perr)
		}
		op.native.Patch = ops
	case http.MethodDelete:
	default:
		return false, nil
	}
	return true, nil
}

// flush sends the batch to the adapter's native Bulk and records each
// operation's result. It returns an error only when the context ends.
func (r *bulkRun) flush(ctx context.Context) error {
	if len(r.batch) == 0 {
		return nil
	}
	batch := r.batch
	r.batch = nil
	ops := make([]adapters.BulkOp, len(batch))
	for i, op := range batch {
		ops[i] = op.native
	}
	budget := 0
	if r.failOnErrors > 0 {
		budget = r.failOnErrors - r.errors
	}
	results, err := r.e.bulker.Bulk(ctx, ops, budget)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("engine: bulk: %w", ctx.Err())
	}
	for i, op := range batch {
		switch {
		case err != nil:
			r.finish(op, scim.AsError(err))
		case i >= len(results) || results[i].Skipped:
			op.state = opPending
		case results[i].Err != nil:
			r.finish(op, scim.AsError(results[i].Err))
		default:
			r.succeed(op, results[i].Resource)
		}
	}
	return nil
}

// execute performs op, its references resolved, through the engine.
func (r *bulkRun) execute(ctx context.Context, op *bulkOp) (scim.Resource, error) {
	op.id = r.resolve(op.id).(string)
	var data map[string]any
	if op.method != http.MethodDelete {
		data = r.resolve(op.in.Data).(map[string]any)
	}
	switch op.method {
	case http.MethodPost:
		return r.e.Create(ctx, op.rt, data, Projection{})
	case http.MethodPut:
		return r.e.Replace(ctx, op.rt, op.id, data, op.in.Version, Projection{})
	case http.MethodPatch:
		ops, err := parsePatch(data)
		if err != nil {
			return nil, err
		}
		return r.e.Patch(ctx, op.rt, op.id, ops, op.in.Version, Projection{})
	default:
		return nil, r.e.Delete(ctx, op.rt, op.id, op.in.Version)
	}
}

// parsePatch reads a PATCH operation's data as a PatchOp message.
func parsePatch(data any) ([]scim.PatchOp, error) {
	body, err := json.Marshal(data)
	if err != nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "PATCH data cannot be encoded: %v", err)
	}
	return patch.Parse(body)
}

// finish records op's result: err's status and SCIM Error, or success.
func (r *bulkRun) finish(op *bulkOp, err *scim.Error) {
	op.state = opDone
	op.result = scim.BulkOperation{Method: op.method, BulkID: op.in.BulkID}
	if op.method == "" {
		op.result.Method = op.in.Method
	}
	if err == nil {
		op.result.Status = strconv.Itoa(successStatus(op.method))
		return
	}
	op.result.Status = strconv.Itoa(err.Status)
	op.result.Response = errorBody(err)
	// RFC 7644 §3.7.3: location is required except for a failed POST.
	if op.method != http.MethodPost && op.rt != nil && op.id != "" {
		if id, ok := r.resolve(op.id).(string); ok {
			op.result.Location = op.rt.Endpoint + "/" + id
		}
	}
	r.errors++
	if r.failOnErrors > 0 && r.errors >= r.failOnErrors {
		r.stopped = true
	}
}

func successStatus(method string) int {
	switch method {
	case http.MethodPost:
		return http.StatusCreated
	case http.MethodDelete:
		return http.StatusNoContent
	}
	return http.StatusOK
}

// errorBody is the SCIM Error of RFC 7644 §3.12, as a bulk operation's
// response carries it; status is a string there too.
func errorBody(err *scim.Error) map[string]any {
	detail := err.Detail
	if detail == "" {
		detail = http.StatusText(err.Status)
	}
	body := map[string]any{
		"schemas": []string{scim.ErrorSchema},
		"status":  strconv.Itoa(err.Status),
		"detail":  detail,
	}
	if err.ScimType != "" {
		body["scimType"] = string(err.ScimType)
	}
	return body
}

// resolve returns a copy of v, a decoded JSON value, in which every string
// "bulkId:X" whose POST has run is replaced by the id it created.
func (r *bulkRun) resolve(v any) any {
	switch v := v.(type) {
	case string:
		if ref, ok := bulkRef(v); ok {
			if id, done := r.created[ref]; done {
				return id
			}
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = r.resolve(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.resolve(e)
		}
		return out
	}
	return v
}

// bulkRef returns X for the string "bulkId:X".
func bulkRef(s string) (string, bool) {
	if len(s) <= len(bulkIDPrefix) || !strings.EqualFold(s[:len(bulkIDPrefix)], bulkIDPrefix) {
		return "", false
	}
	return s[len(bulkIDPrefix):], true
}

// walkStrings calls f with every string in v, a decoded JSON value.
func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case map[string]any:
		for _, e := range v {
			walkStrings(e, f)
		}
	case []any:
		for _, e := range v {
			walkStrings(e, f)
		}
	}
}
