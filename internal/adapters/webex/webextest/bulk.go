package webextest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// bulkRefPrefix starts a reference to a resource created earlier in the
// same Bulk request (RFC 7644 §3.7.2).
const bulkRefPrefix = "bulkId:"

// postBulk is POST /Bulk (VENDORS.md 1.9): operations under the lower-case
// "operations" key (and "Operations" unless WithStrictBulkKey), methods
// POST, PATCH and DELETE only, bulkId required on POST, references
// "bulkId:<id>" in paths and data resolved to resources created by earlier
// operations of the request, at most MaxBulkOperations operations (more is
// a 400 tooMany for the whole request), and failOnErrors (1–100) stopping
// the request after that many failures. The answer is 200 with lower-case
// "operations", each status a string, and a family-1 response only on
// failure.
func (s *Sim) postBulk(c *call) error {
	body, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	if _, ok := scim.Field(body, "schemas"); ok && requireSchema(body, scim.BulkRequestSchema) != nil {
		return badRequest(scim.InvalidSyntax, "Input JSON must conform to schema %q.", scim.BulkRequestSchema)
	}
	lower, hasLower := body["operations"]
	upper, hasUpper := body["Operations"]
	var raw any
	switch {
	case hasLower && hasUpper:
		return badRequest(scim.InvalidSyntax, "Give the operations once, under \"operations\".")
	case hasUpper && s.cfg.strictBulkKey:
		return badRequest(scim.InvalidSyntax, "The bulk operations must be under \"operations\".")
	case hasUpper:
		raw = upper
	case hasLower:
		raw = lower
	default:
		return badRequest(scim.InvalidSyntax, "operations is required.")
	}
	list, ok := raw.([]any)
	if !ok {
		return badRequest(scim.InvalidSyntax, "operations must be an array.")
	}
	if len(list) > s.cfg.maxBulk {
		return badRequest(scim.TooMany, "The number of operations (%d) exceeds the maximum of %d.", len(list), s.cfg.maxBulk)
	}
	failOn := 0
	if v, ok := body["failOnErrors"]; ok && v != nil {
		f, isNum := v.(float64)
		if !isNum || f != float64(int(f)) || f < 1 || f > 100 {
			return badRequest(scim.InvalidValue, "failOnErrors must be an integer between 1 and 100.")
		}
		failOn = int(f)
	}

	results := make([]any, 0, len(list))
	created := map[string]string{} // bulkId → id of the resource it created
	failures := 0
	for _, op := range list {
		if failOn > 0 && failures >= failOn {
			break
		}
		res := s.bulkOp(op, created, c.tid)
		if st, _ := strconv.Atoi(res["status"].(string)); st >= 400 {
			failures++
		}
		results = append(results, res)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"schemas":    []any{scim.BulkResponseSchema},
		"operations": results,
	})
	return nil
}

// bulkOp runs one operation and returns its entry of the response.
func (s *Sim) bulkOp(raw any, created map[string]string, tid string) map[string]any {
	out := map[string]any{}
	fail := func(err error) map[string]any {
		e := asAPIError(err)
		e.platform = false // a Bulk failure is always a SCIM error (family 1)
		out["status"] = strconv.Itoa(e.status)
		out["response"] = e.body(tid, s.cfg.bareErrors)
		return out
	}
	op, ok := raw.(map[string]any)
	if !ok {
		return fail(badRequest(scim.InvalidSyntax, "Each operation must be a JSON object."))
	}
	method := strings.ToUpper(str(op, "method"))
	bulkID := str(op, "bulkId")
	out["method"] = method
	if bulkID != "" {
		out["bulkId"] = bulkID
	}
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodDelete:
	case "":
		return fail(badRequest(scim.InvalidSyntax, "method is required."))
	default:
		return fail(badRequest(scim.InvalidSyntax, "Method %s is not supported in bulk; use POST, PATCH or DELETE.", method))
	}

	segs := strings.Split(strings.Trim(str(op, "path"), "/"), "/")
	kind := ""
	if len(segs) > 0 {
		kind = segs[0]
	}
	if kind != "Users" && kind != "Groups" {
		return fail(badRequest(scim.InvalidValue, "path must start with /Users or /Groups."))
	}
	id := ""
	switch {
	case method == http.MethodPost && len(segs) != 1:
		return fail(badRequest(scim.InvalidValue, "The path of a POST must be /Users or /Groups."))
	case method != http.MethodPost && (len(segs) != 2 || segs[1] == ""):
		return fail(badRequest(scim.InvalidValue, "The path of a %s must be /%s/{id}.", method, kind))
	case method != http.MethodPost:
		id = segs[1]
		if ref, ok := strings.CutPrefix(id, bulkRefPrefix); ok {
			if id, ok = created[ref]; !ok {
				return fail(badRequest(scim.InvalidValue, "bulkId %q does not name a resource created earlier in this request.", ref))
			}
		}
	}
	if method == http.MethodPost {
		if bulkID == "" {
			return fail(badRequest(scim.InvalidSyntax, "bulkId is required for POST."))
		}
		if _, dup := created[bulkID]; dup {
			return fail(badRequest(scim.InvalidSyntax, "bulkId %q is used twice in this request.", bulkID))
		}
	}

	var data map[string]any
	if method != http.MethodDelete {
		d, err := bulkData(op["data"], created)
		if err != nil {
			return fail(err)
		}
		data = d
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var res scim.Resource
	var err error
	status := http.StatusOK
	switch {
	case method == http.MethodPost && kind == "Users":
		res, err = s.createUserLocked(data, now)
		status = http.StatusCreated
	case method == http.MethodPost:
		res, err = s.createGroupLocked(data, now)
		status = http.StatusCreated
	case method == http.MethodDelete && kind == "Users":
		err = s.deleteUserLocked(id, now)
		status = http.StatusNoContent
	case method == http.MethodDelete:
		err = s.deleteGroupLocked(id, now)
		status = http.StatusNoContent
	default:
		var patchBody []byte
		patchBody, err = json.Marshal(data)
		if err != nil {
			break
		}
		if kind == "Users" {
			if e := s.users[id]; e == nil {
				err = notFound("User", id)
			} else {
				res, err = s.patchUserLocked(e, patchBody, now)
			}
		} else {
			if e := s.groups[id]; e == nil {
				err = notFound("Group", id)
			} else {
				res, err = s.patchGroupLocked(e, patchBody, now)
			}
		}
	}
	if err != nil {
		return fail(err)
	}
	if res != nil {
		id = res.ID()
		out["version"] = res.Version()
	}
	if method == http.MethodPost {
		created[bulkID] = id
	}
	out["location"] = s.location(kind, id)
	out["status"] = strconv.Itoa(status)
	return out
}

// bulkData returns an operation's data as an object, with "bulkId:<id>"
// strings replaced by the ids they name. Data may be a JSON object (what
// clients send) or a string holding one (what the spec's type says).
func bulkData(v any, created map[string]string) (map[string]any, error) {
	if s, ok := v.(string); ok {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, badRequest(scim.InvalidSyntax, "data is not valid JSON.")
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(scim.InvalidSyntax, "data is required and must be a JSON object.")
	}
	resolved, err := resolveRefs(scim.CloneValue(obj), created)
	if err != nil {
		return nil, err
	}
	return resolved.(map[string]any), nil
}

// resolveRefs replaces every string "bulkId:<id>" in v.
func resolveRefs(v any, created map[string]string) (any, error) {
	switch x := v.(type) {
	case string:
		if ref, ok := strings.CutPrefix(x, bulkRefPrefix); ok {
			id, found := created[ref]
			if !found {
				return nil, badRequest(scim.InvalidValue, "bulkId %q does not name a resource created earlier in this request.", ref)
			}
			return id, nil
		}
	case map[string]any:
		for k, e := range x {
			r, err := resolveRefs(e, created)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := resolveRefs(e, created)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}
