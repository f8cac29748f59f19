package router

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// resourceType returns the target's resource type served at endpoint
// ("Users"), matched case-insensitively as the engine's Bulk paths are, or nil.
func (t *target) resourceType(endpoint string) *scim.ResourceType {
	for _, rt := range t.eng.ResourceTypes() {
		if strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), endpoint) {
			return rt
		}
	}
	return nil
}

// resourceTypeByID returns the target's resource type with the given ID
// ("User") or name, or nil.
func (t *target) resourceTypeByID(id string) *scim.ResourceType {
	for _, rt := range t.eng.ResourceTypes() {
		if strings.EqualFold(rt.ID, id) || strings.EqualFold(rt.Name, id) {
			return rt
		}
	}
	return nil
}

// scope returns the request's target and the resource type its {endpoint}
// names; rt is nil on the routes at the service root (/ and /.search).
func (s *server) scope(w http.ResponseWriter, r *http.Request) (*target, *scim.ResourceType, error) {
	t := targetFrom(r.Context())
	raw := chi.URLParam(r, "endpoint")
	if raw == "" {
		return t, nil, nil
	}
	ep := pathParam(r, raw)
	rt := t.resourceType(ep)
	if rt == nil {
		return nil, nil, s.endpointNotServed(w, r, ep)
	}
	return t, rt, nil
}

// resourceID returns the {id} of the request, decoded.
func resourceID(r *http.Request) string {
	return pathParam(r, chi.URLParam(r, "id"))
}

// list answers GET /{endpoint} and GET / (RFC 7644 §3.4.2).
func (s *server) list(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	resp, err := t.eng.Search(r.Context(), rt, q)
	if err != nil {
		return err
	}
	return t.writeList(w, rt, resp, q.Projection)
}

// searchRequest is the body of POST .search (RFC 7644 §3.4.3).
type searchRequest struct {
	Schemas            []string   `json:"schemas"`
	Attributes         stringList `json:"attributes"`
	ExcludedAttributes stringList `json:"excludedAttributes"`
	Filter             string     `json:"filter"`
	SortBy             string     `json:"sortBy"`
	SortOrder          string     `json:"sortOrder"`
	StartIndex         *int       `json:"startIndex"`
	Count              *int       `json:"count"`
}

// search answers POST /.search and POST /{endpoint}/.search (RFC 7644
// §3.4.3). The response is the same ListResponse a GET gives.
func (s *server) search(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req searchRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if !slices.Contains(req.Schemas, scim.SearchRequestSchema) {
		return scim.BadRequest(scim.InvalidSyntax, "schemas must contain %s", scim.SearchRequestSchema)
	}
	q := engine.Query{
		Projection: engine.Projection{Attributes: req.Attributes, ExcludedAttributes: req.ExcludedAttributes},
		Filter:     req.Filter,
		SortBy:     req.SortBy,
		StartIndex: 1,
		Count:      -1,
	}
	if q.SortOrder, err = parseSortOrder(req.SortOrder); err != nil {
		return err
	}
	if req.StartIndex != nil {
		q.StartIndex = *req.StartIndex
	}
	if req.Count != nil {
		q.Count = max(*req.Count, 0) // RFC 7644 §3.4.2.4: negative means 0
	}
	resp, err := t.eng.Search(r.Context(), rt, q)
	if err != nil {
		return err
	}
	return t.writeList(w, rt, resp, q.Projection)
}

// parseQuery reads the query parameters of a list request (RFC 7644
// §3.4.2). startIndex below 1 means 1 and a negative count means 0
// (§3.4.2.4); a value that is not an integer is a 400 invalidValue.
func parseQuery(v url.Values) (engine.Query, error) {
	q := engine.Query{
		Projection: parseProjection(v),
		Filter:     v.Get("filter"),
		SortBy:     v.Get("sortBy"),
		StartIndex: 1,
		Count:      -1,
	}
	var err error
	if q.SortOrder, err = parseSortOrder(v.Get("sortOrder")); err != nil {
		return q, err
	}
	if s := v.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return q, scim.BadRequest(scim.InvalidValue, "startIndex %q is not an integer", s)
		}
		q.StartIndex = max(n, 1)
	}
	if s := v.Get("count"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return q, scim.BadRequest(scim.InvalidValue, "count %q is not an integer", s)
		}
		q.Count = max(n, 0)
	}
	return q, nil
}

// parseSortOrder accepts "ascending" and "descending" in any case (RFC 7644
// §3.4.2.3); empty means ascending, the engine's default.
func parseSortOrder(s string) (string, error) {
	switch lower := strings.ToLower(strings.TrimSpace(s)); lower {
	case "", "ascending", "descending":
		return lower, nil
	}
	return "", scim.BadRequest(scim.InvalidValue, "sortOrder %q is neither ascending nor descending", s)
}

// parseProjection reads attributes and excludedAttributes (RFC 7644 §3.9),
// comma-separated, possibly repeated.
func parseProjection(v url.Values) engine.Projection {
	var p engine.Projection
	for _, s := range v["attributes"] {
		p.Attributes = append(p.Attributes, splitList(s)...)
	}
	for _, s := range v["excludedAttributes"] {
		p.ExcludedAttributes = append(p.ExcludedAttributes, splitList(s)...)
	}
	return p
}

// get answers GET /{endpoint}/{id} (RFC 7644 §3.4.1) with the conditions of
// RFC 7232 §6 in their order: If-Match (412), then If-None-Match (304).
func (s *server) get(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	id := resourceID(r)
	p := parseProjection(r.URL.Query())
	res, err := t.eng.Get(r.Context(), rt, id, withVersion(p))
	if err != nil {
		return err
	}
	version := res.Version()
	if tags, star := parseETags(r.Header.Values("If-Match")); !star && len(tags) > 0 && !anyMatch(tags, version) {
		return scim.PreconditionFailed(rt.ID, id)
	}
	if tags, star := parseETags(r.Header.Values("If-None-Match")); star || anyMatch(tags, version) {
		if version != "" {
			w.Header().Set("ETag", version)
		}
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return t.writeResource(w, http.StatusOK, rt, res, p)
}

// create answers POST /{endpoint} (RFC 7644 §3.3): 201 with the resource
// and its location in the Location header.
func (s *server) create(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := decodeResource(body)
	if err != nil {
		return err
	}
	p := parseProjection(r.URL.Query())
	res, err := t.eng.Create(r.Context(), rt, in, withVersion(p))
	if err != nil {
		return err
	}
	if id := res.ID(); id != "" {
		w.Header().Set("Location", t.location(rt, id))
	}
	return t.writeResource(w, http.StatusCreated, rt, res, p)
}

// replace answers PUT /{endpoint}/{id} (RFC 7644 §3.5.1).
func (s *server) replace(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	id := resourceID(r)
	body, err := readBody(r)
	if err != nil {
		return err
	}
	in, err := decodeResource(body)
	if err != nil {
		return err
	}
	ifMatch, err := s.ifMatch(r, t, rt, id)
	if err != nil {
		return err
	}
	p := parseProjection(r.URL.Query())
	res, err := t.eng.Replace(r.Context(), rt, id, in, ifMatch, withVersion(p))
	if err != nil {
		return err
	}
	return t.writeResource(w, http.StatusOK, rt, res, p)
}

// patch answers PATCH /{endpoint}/{id} (RFC 7644 §3.5.2) with 200 and the
// resource: §3.5.2 allows 204, but IdPs (Entra ID among them) read the
// result, and the body carries the new version.
func (s *server) patch(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	id := resourceID(r)
	body, err := readBody(r)
	if err != nil {
		return err
	}
	ops, err := patch.Parse(body)
	if err != nil {
		return err
	}
	ifMatch, err := s.ifMatch(r, t, rt, id)
	if err != nil {
		return err
	}
	p := parseProjection(r.URL.Query())
	res, err := t.eng.Patch(r.Context(), rt, id, ops, ifMatch, withVersion(p))
	if err != nil {
		return err
	}
	return t.writeResource(w, http.StatusOK, rt, res, p)
}

// delete answers DELETE /{endpoint}/{id} (RFC 7644 §3.6) with 204.
func (s *server) delete(w http.ResponseWriter, r *http.Request) error {
	t, rt, err := s.scope(w, r)
	if err != nil {
		return err
	}
	id := resourceID(r)
	ifMatch, err := s.ifMatch(r, t, rt, id)
	if err != nil {
		return err
	}
	if err := t.eng.Delete(r.Context(), rt, id, ifMatch); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ifMatch turns the If-Match header of a write into the engine's ifMatch:
// none or "*" is no condition (the resource must exist anyway, else 404);
// one entity tag is passed on, for the engine to check atomically with the
// write; for a list, the current version is read and passed on when one tag
// matches it weakly, so that the write is still guarded, else 412.
func (s *server) ifMatch(r *http.Request, t *target, rt *scim.ResourceType, id string) (string, error) {
	tags, star := parseETags(r.Header.Values("If-Match"))
	switch {
	case star || len(tags) == 0:
		return "", nil
	case len(tags) == 1:
		return tags[0], nil
	}
	cur, err := t.eng.Get(r.Context(), rt, id, engine.Projection{Attributes: []string{"meta.version"}})
	if err != nil {
		return "", err
	}
	if v := cur.Version(); anyMatch(tags, v) {
		return v, nil
	}
	return "", scim.PreconditionFailed(rt.ID, id)
}

// bulk answers POST /Bulk (RFC 7644 §3.7). Its body limit is the target's
// maxPayloadSize (limitBody with bulkLimit); the engine enforces
// maxOperations and makes locations relative, which are made absolute here.
func (s *server) bulk(w http.ResponseWriter, r *http.Request) error {
	t := targetFrom(r.Context())
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req scim.BulkRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	resp, err := t.eng.Bulk(r.Context(), req)
	if err != nil {
		return err
	}
	for i := range resp.Operations {
		if loc := resp.Operations[i].Location; strings.HasPrefix(loc, "/") {
			resp.Operations[i].Location = t.base + loc
		}
	}
	if resp.Schemas == nil {
		resp.Schemas = []string{scim.BulkResponseSchema}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// writeResource renders one resource with its ETag (RFC 7644 §3.14) and
// canonical URLs, after removing what withVersion added to p.
func (t *target) writeResource(w http.ResponseWriter, status int, rt *scim.ResourceType, res scim.Resource, p engine.Projection) error {
	if v := res.Version(); v != "" {
		w.Header().Set("ETag", v)
	}
	out := t.present(res, rt, p)
	return writeEncoded(w, status, func(b []byte) ([]byte, error) { return appendJSON(b, out) })
}

// writeList renders a ListResponse (RFC 7644 §3.4.2), each resource with its
// canonical URLs.
func (t *target) writeList(w http.ResponseWriter, rt *scim.ResourceType, resp *scim.ListResponse, p engine.Projection) error {
	schemas := resp.Schemas
	if schemas == nil {
		schemas = []string{scim.ListResponseSchema}
	}
	return writeEncoded(w, http.StatusOK, func(b []byte) ([]byte, error) {
		b = append(b, `{"schemas":`...)
		b, _ = appendJSON(b, schemas)
		b = append(b, `,"totalResults":`...)
		b = strconv.AppendInt(b, int64(resp.TotalResults), 10)
		b = append(b, `,"startIndex":`...)
		b = strconv.AppendInt(b, int64(resp.StartIndex), 10)
		b = append(b, `,"itemsPerPage":`...)
		b = strconv.AppendInt(b, int64(resp.ItemsPerPage), 10)
		b = append(b, `,"Resources":[`...)
		for i, res := range resp.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, t.present(res, rt, p)); err != nil {
				return b, err
			}
		}
		return append(b, "]}"...), nil
	})
}
