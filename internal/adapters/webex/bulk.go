package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// bulkOperation is one operation of a Webex Bulk request or response
// (VENDORS.md 1.9). status is a string in the docs and an integer in some
// clients: json.Number-like decoding takes either.
type bulkOperation struct {
	Method   string          `json:"method"`
	Path     string          `json:"path,omitempty"`
	BulkID   string          `json:"bulkId,omitempty"`
	Data     any             `json:"data,omitempty"`
	Location string          `json:"location,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   json.RawMessage `json:"status,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
}

// createdID finds the id in a Bulk location, as the vendor's own clients do.
var createdID = regexp.MustCompile(`/v2/(?:Users|Groups)/([^/?#]+)$`)

// Bulk sends ops as one native Webex Bulk request. The engine has resolved
// every bulkId reference, so the bulkIds sent are the adapter's own
// ("op0", "op1", ...), used only to match the answers.
func (a *Adapter) Bulk(ctx context.Context, ops []adapters.BulkOp, failOnErrors int) ([]adapters.BulkResult, error) {
	results := make([]adapters.BulkResult, len(ops))
	var sent []bulkOperation
	var index []int // sent[k] is ops[index[k]]
	for i, op := range ops {
		bo, err := bulkRequestOp(op, i)
		if err != nil {
			results[i].Err = err
			continue
		}
		sent = append(sent, bo)
		index = append(index, i)
	}
	if len(sent) == 0 {
		return results, nil
	}
	req := map[string]any{"schemas": []string{scim.BulkRequestSchema}, "operations": sent}
	if failOnErrors > 0 {
		req["failOnErrors"] = min(failOnErrors, maxBulkOps)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("webex: bulk: %w", err)
	}
	resp, err := a.call(ctx, nil, "", outbound.Request{Method: http.MethodPost, Path: "/Bulk", Body: body, Op: "webex.Bulk"})
	if errors.Is(err, outbound.ErrOutcomeUnknown) {
		return a.recoverBulk(ctx, ops, results, err)
	}
	if err != nil {
		return nil, err
	}
	answers, err := decodeBulkResponse(resp.Body)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(sent))
	for _, ans := range answers {
		k := matchAnswer(sent, matched, ans)
		if k < 0 {
			continue
		}
		matched[k] = true
		i := index[k]
		results[i] = a.bulkResult(ctx, ops[i], ans)
	}
	for k, ok := range matched {
		if !ok {
			results[index[k]].Skipped = true // the vendor stopped first
		}
	}
	return results, nil
}

// bulkRequestOp renders op as a Webex Bulk operation: POST, PATCH or
// DELETE (the vendor has no PUT; the engine runs PUT singly).
func bulkRequestOp(op adapters.BulkOp, i int) (bulkOperation, error) {
	bo := bulkOperation{Method: op.Method, Path: op.Type.Endpoint}
	switch op.Method {
	case http.MethodPost:
		data, err := toVendor(op.Type, op.Resource)
		if err != nil {
			return bo, err
		}
		bo.BulkID = "op" + strconv.Itoa(i)
		bo.Data = json.RawMessage(data)
	case http.MethodPatch:
		if err := checkID(op.Type, op.ID); err != nil {
			return bo, err
		}
		bo.Path = resourcePath(op.Type, op.ID)
		bo.Data = patchBody(op.Type, op.Patch)
	case http.MethodDelete:
		if err := checkID(op.Type, op.ID); err != nil {
			return bo, err
		}
		bo.Path = resourcePath(op.Type, op.ID)
	default:
		return bo, scim.BadRequest(scim.InvalidSyntax, "Webex Bulk has no %s", op.Method)
	}
	return bo, nil
}

// decodeBulkResponse reads the answers under "operations" or "Operations"
// (VENDORS.md 1.9: the docs and the live service differ).
func decodeBulkResponse(body []byte) ([]bulkOperation, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, badVendorBody("Bulk", err)
	}
	raw, ok := doc["operations"]
	if !ok {
		raw = doc["Operations"]
	}
	var ops []bulkOperation
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &ops); err != nil {
			return nil, badVendorBody("Bulk", err)
		}
	}
	return ops, nil
}

// matchAnswer finds the sent operation an answer belongs to: a POST by its
// bulkId, anything else as the first unmatched operation with the same
// method and path (answers come in request order).
func matchAnswer(sent []bulkOperation, matched []bool, ans bulkOperation) int {
	for k, s := range sent {
		if matched[k] || !strings.EqualFold(s.Method, ans.Method) {
			continue
		}
		if s.BulkID != "" || ans.BulkID != "" {
			if s.BulkID == ans.BulkID {
				return k
			}
			continue
		}
		if ans.Location == "" || strings.HasSuffix(strings.ToLower(ans.Location), strings.ToLower(s.Path)) {
			return k
		}
	}
	return -1
}

// bulkResult maps one answer: success carries the id and version; failure
// the operation's error, mapped like a single call's.
func (a *Adapter) bulkResult(ctx context.Context, op adapters.BulkOp, ans bulkOperation) adapters.BulkResult {
	status, _ := strconv.Atoi(string(trimQuotes(ans.Status)))
	if status >= 200 && status < 300 {
		res := scim.Resource{"id": op.ID, "meta": map[string]any{"version": ans.Version}}
		if op.Method == http.MethodPost {
			m := createdID.FindStringSubmatch(ans.Location)
			if m == nil {
				return adapters.BulkResult{Err: badVendorBody("Bulk", fmt.Errorf("no id in location %q", ans.Location))}
			}
			res["id"] = m[1]
		}
		return adapters.BulkResult{Resource: res}
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	req := outbound.Request{Method: op.Method, Path: "/Bulk", Op: "webex.Bulk"}
	err := a.vendorError(ctx, req, &outbound.Response{Status: status, Header: http.Header{}, Body: ans.Response}, op.Type, op.ID)
	return adapters.BulkResult{Err: err}
}

// recoverBulk answers a Bulk request whose outcome is unknown: each POST is
// looked up (a user by userName, a group by displayName) and counts as done
// when found, so that nothing is created twice; the rest fail with the
// unknown outcome, which the caller may retry.
func (a *Adapter) recoverBulk(ctx context.Context, ops []adapters.BulkOp, results []adapters.BulkResult, cause error) ([]adapters.BulkResult, error) {
	for i, op := range ops {
		if results[i].Err != nil {
			continue
		}
		results[i].Err = cause
		if op.Method != http.MethodPost {
			continue
		}
		if found, err := a.findCreated(ctx, op.Type, op.Resource); err == nil && found != nil {
			results[i] = adapters.BulkResult{Resource: found}
		}
	}
	return results, nil
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
