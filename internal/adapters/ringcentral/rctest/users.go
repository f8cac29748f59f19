package rctest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// Error details of the user checks (VENDORS.md 2.3, 2.6).
const (
	duplicateDetail    = "duplicate email"
	noExtensionDetail  = "No unassigned extension is available to provision the user"
	emailUserNameRule  = "userName must be same as work type email address"
	unknownBodyDetail  = "The request body is not a valid JSON object"
	schemaRequiredRule = "Attribute 'schemas' must contain " + scim.UserSchema
)

// decodeObject decodes a JSON object body, or answers 400 invalidSyntax.
func decodeObject(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, scimErr(http.StatusBadRequest, scim.InvalidSyntax, unknownBodyDetail)
	}
	return m, nil
}

// strField returns m[key] as a string: "" when absent or null, a 400
// invalidValue when it is not a string.
func strField(m map[string]any, key, path string) (string, error) {
	switch v := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", badValue("Attribute '%s' must be a string", path)
}

// objects returns m[key] as a list of objects: nil when absent or null, a
// 400 invalidValue when it is anything else.
func objects(m map[string]any, key string) ([]map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, badValue("Attribute '%s' must be an array", key)
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, badValue("Attribute '%s' must be an array of objects", key)
		}
		out = append(out, o)
	}
	return out, nil
}

// parseUser checks a POST or PUT body against RingCentral's user schema
// (VENDORS.md 2.6) and returns the user it describes, without id,
// extension or meta. Attributes outside the schema (displayName, nickName,
// locale, timezone, userType, roles, manager, other enterprise fields, ...)
// and read-only ones (id, meta) are ignored.
func (s *Sim) parseUser(m map[string]any) (*user, error) {
	u := &user{}
	schemas, ok := m["schemas"].([]any)
	if !ok {
		return nil, badValue(schemaRequiredRule)
	}
	core := false
	for _, v := range schemas {
		urn, ok := v.(string)
		if !ok {
			return nil, badValue("Attribute 'schemas' must be an array of strings")
		}
		switch {
		case urn == scim.UserSchema:
			core = true
		case urn == scim.EnterpriseUserSchema:
		case s.cfg.strictSchemas:
			return nil, badValue("Schema %s is not supported", urn)
		}
	}
	if !core {
		return nil, badValue(schemaRequiredRule)
	}
	var err error
	if u.userName, err = strField(m, "userName", "userName"); err != nil {
		return nil, err
	}
	if strings.TrimSpace(u.userName) == "" {
		return nil, badValue("Attribute 'userName' is required")
	}
	name, _ := m["name"].(map[string]any)
	if name == nil {
		return nil, badValue("Attribute 'name' is required")
	}
	if u.givenName, err = strField(name, "givenName", "name.givenName"); err != nil {
		return nil, err
	}
	if u.familyName, err = strField(name, "familyName", "name.familyName"); err != nil {
		return nil, err
	}
	if u.givenName == "" || u.familyName == "" {
		return nil, badValue("Attributes 'name.givenName' and 'name.familyName' are required")
	}
	if err := parseEmails(m, u.userName); err != nil {
		return nil, err
	}
	switch v := m["active"].(type) {
	case nil:
		// active defaults to false (VENDORS.md 2.6).
	case bool:
		u.active = v
	default:
		return nil, badValue("Attribute 'active' must be a boolean")
	}
	if u.externalID, err = strField(m, "externalId", "externalId"); err != nil {
		return nil, err
	}
	if u.title, err = strField(m, "title", "title"); err != nil {
		return nil, err
	}
	if err := parsePhones(m, u); err != nil {
		return nil, err
	}
	if err := parseAddresses(m, u); err != nil {
		return nil, err
	}
	if err := parsePhotos(m, u); err != nil {
		return nil, err
	}
	switch ext := m[scim.EnterpriseUserSchema].(type) {
	case nil:
	case map[string]any:
		if u.department, err = strField(ext, "department", scim.EnterpriseUserSchema+":department"); err != nil {
			return nil, err
		}
	default:
		return nil, badValue("Attribute '%s' must be an object", scim.EnterpriseUserSchema)
	}
	return u, nil
}

// parseEmails checks that m holds exactly one email, of type work, equal
// to userName (VENDORS.md 2.6).
func parseEmails(m map[string]any, userName string) error {
	emails, err := objects(m, "emails")
	if err != nil {
		return err
	}
	if len(emails) == 0 {
		return badValue("Attribute 'emails' is required")
	}
	if len(emails) > 1 {
		return badValue("Only one email is supported")
	}
	typ, err := strField(emails[0], "type", "emails.type")
	if err != nil {
		return err
	}
	if typ != "work" {
		return badValue("Email type '%s' is not supported; only 'work' is", typ)
	}
	value, err := strField(emails[0], "value", "emails.value")
	if err != nil {
		return err
	}
	if !strings.EqualFold(value, userName) {
		return badValue(emailUserNameRule)
	}
	return nil
}

// parsePhones reads phoneNumbers of the types work, mobile and other, at
// most one of each. The other number is the extension, which the server
// owns: what a client sends there is ignored.
func parsePhones(m map[string]any, u *user) error {
	phones, err := objects(m, "phoneNumbers")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range phones {
		typ, err := strField(p, "type", "phoneNumbers.type")
		if err != nil {
			return err
		}
		value, err := strField(p, "value", "phoneNumbers.value")
		if err != nil {
			return err
		}
		if seen[typ] {
			return badValue("Only one phone number of type '%s' is supported", typ)
		}
		seen[typ] = true
		switch typ {
		case "work":
			u.workPhone = value
		case "mobile":
			u.mobile = value
		case "other":
		default:
			return badValue("Phone number type '%s' is not supported; use 'work', 'mobile' or 'other'", typ)
		}
	}
	return nil
}

// parseAddresses reads the one work address, normalising its country and
// validating its region.
func parseAddresses(m map[string]any, u *user) error {
	addrs, err := objects(m, "addresses")
	if err != nil {
		return err
	}
	if len(addrs) > 1 {
		return badValue("Only one address is supported")
	}
	for _, a := range addrs {
		typ, err := strField(a, "type", "addresses.type")
		if err != nil {
			return err
		}
		if typ != "work" {
			return badValue("Address type '%s' is not supported; only 'work' is", typ)
		}
		var v address
		for _, f := range []struct {
			key string
			dst *string
		}{
			{"streetAddress", &v.street}, {"locality", &v.locality}, {"region", &v.region},
			{"postalCode", &v.postalCode}, {"country", &v.country},
		} {
			if *f.dst, err = strField(a, f.key, "addresses."+f.key); err != nil {
				return err
			}
		}
		if v, err = normalizeAddress(v); err != nil {
			return err
		}
		u.addr = &v
	}
	return nil
}

// parsePhotos reads photos of type photo.
func parsePhotos(m map[string]any, u *user) error {
	photos, err := objects(m, "photos")
	if err != nil {
		return err
	}
	for _, p := range photos {
		typ, err := strField(p, "type", "photos.type")
		if err != nil {
			return err
		}
		if typ == "" {
			typ = "photo"
		}
		if typ != "photo" {
			return badValue("Photo type '%s' is not supported; only 'photo' is", typ)
		}
		value, err := strField(p, "value", "photos.value")
		if err != nil {
			return err
		}
		u.photos = append(u.photos, photo{typ: typ, value: value})
	}
	return nil
}

// writeUser answers u.
func writeUser(c *call, status int, u *user) {
	writeRaw(c.w, status, scimContentType(c.r), appendUser(make([]byte, 0, 512), u, false))
}

// postUser is POST /Users: 201, or 409 "duplicate email", or 404 when no
// unassigned extension is left (VENDORS.md 2.3, 2.8).
func (s *Sim) postUser(c *call) error {
	m, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	u, err := s.parseUser(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName[nameKey(u.userName)] != nil {
		return scimErr(http.StatusConflict, scim.Uniqueness, duplicateDetail)
	}
	ext, ok := s.takeExtension()
	if !ok {
		return scimErr(http.StatusNotFound, "", noExtensionDetail)
	}
	now := s.now()
	u.ext, u.created, u.modified = ext, now, now
	if s.cfg.searchLag > 0 {
		u.visibleAt = now.Add(s.cfg.searchLag)
	}
	s.insert(u)
	c.w.Header().Set("Location", locationBase+u.idString())
	writeUser(c, http.StatusCreated, u)
	return nil
}

// getUser is GET /Users/{id}.
func (s *Sim) getUser(c *call) error {
	s.mu.Lock()
	u := s.lookup(c.arg)
	s.mu.Unlock()
	if u == nil {
		return notFound(c.arg)
	}
	writeUser(c, http.StatusOK, u)
	return nil
}

// putUser is PUT /Users/{id}: a full replace that keeps id, meta.created and
// the server-owned extension number (VENDORS.md 2.6).
func (s *Sim) putUser(c *call) error {
	m, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	next, err := s.parseUser(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.lookup(c.arg)
	if old == nil {
		return notFound(c.arg)
	}
	if err := s.commit(old, next); err != nil {
		return err
	}
	writeUser(c, http.StatusOK, next)
	return nil
}

// commit stores next as the new state of old: it checks the userName's
// uniqueness, keeps what the server owns and sets meta. The caller holds
// s.mu.
func (s *Sim) commit(old, next *user) error {
	if other := s.byName[nameKey(next.userName)]; other != nil && other.id != old.id {
		return scimErr(http.StatusConflict, scim.Uniqueness, duplicateDetail)
	}
	now := s.now()
	next.id, next.ext, next.created, next.modified = old.id, old.ext, old.created, now
	next.prev, next.visibleAt = nil, now
	if s.cfg.searchLag > 0 {
		if v := old.view(now); v != nil {
			snap := *v
			snap.prev = nil
			next.prev = &snap
		}
		next.visibleAt = now.Add(s.cfg.searchLag)
	}
	s.replace(old, next)
	return nil
}

// deleteUser is DELETE /Users/{id}: 204, and the extension becomes
// unassigned again (VENDORS.md 2.8).
func (s *Sim) deleteUser(c *call) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookup(c.arg)
	if u == nil {
		return notFound(c.arg)
	}
	s.remove(u)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// listUsers is GET /Users: filter, startIndex and count only; sortBy,
// attributes and the rest are ignored (VENDORS.md 2.4).
func (s *Sim) listUsers(c *call) error {
	q := c.r.URL.Query()
	start, err := intParam(q.Get("startIndex"), "startIndex", 1)
	if err != nil {
		return err
	}
	count, err := intParam(q.Get("count"), "count", DefaultPageSize)
	if err != nil {
		return err
	}
	return s.answerQuery(c, q.Get("filter"), start, count)
}

// searchUsers is POST /Users/.search with a SearchRequest body.
func (s *Sim) searchUsers(c *call) error {
	var req struct {
		Filter     *string          `json:"filter"`
		StartIndex *json.RawMessage `json:"startIndex"`
		Count      *json.RawMessage `json:"count"`
	}
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if _, err := decodeObject(c.body); err != nil {
			return err
		}
		if err := json.Unmarshal(c.body, &req); err != nil {
			return badValue("The search request is not valid: %v", err)
		}
	}
	start, err := rawIntParam(req.StartIndex, "startIndex", 1)
	if err != nil {
		return err
	}
	count, err := rawIntParam(req.Count, "count", DefaultPageSize)
	if err != nil {
		return err
	}
	filter := ""
	if req.Filter != nil {
		filter = *req.Filter
	}
	return s.answerQuery(c, filter, start, count)
}

// intParam parses a paging query parameter; empty means def.
func intParam(v, name string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badValue("Parameter '%s' must be an integer", name)
	}
	return n, nil
}

// rawIntParam parses a paging member of a SearchRequest; absent or null
// means def.
func rawIntParam(raw *json.RawMessage, name string, def int) (int, error) {
	if raw == nil || string(*raw) == "null" {
		return def, nil
	}
	var n int
	if err := json.Unmarshal(*raw, &n); err != nil {
		return 0, badValue("Member '%s' must be an integer", name)
	}
	return n, nil
}

// answerQuery answers one page of the users that filter selects: startIndex
// is 1-based (less than 1 counts as 1), count is clamped to [0, maxCount],
// and itemsPerPage is the number of users on the page.
func (s *Sim) answerQuery(c *call, filter string, start, count int) error {
	f, err := parseFilter(filter, s.cfg.emailsValueFilter)
	if err != nil {
		return err
	}
	start = max(start, 1)
	count = min(max(count, 0), s.cfg.maxCount)

	s.mu.Lock()
	total, page := s.selectPage(f, start, count)
	s.mu.Unlock()

	data := appendList(make([]byte, 0, 256+400*len(page)), total, start, page, s.cfg.shortListForm)
	writeRaw(c.w, http.StatusOK, scimContentType(c.r), data)
	return nil
}

// selectPage returns how many users f selects and the page of them from
// start (1-based) of at most count. Without a search lag it costs O(count)
// (O(1) with a filter: userName and email are the same, and indexed);
// with one, O(users). The caller holds s.mu.
func (s *Sim) selectPage(f filter, start, count int) (int, []*user) {
	if s.cfg.searchLag == 0 {
		if f.any {
			from := min(start-1, len(s.order))
			to := min(from+count, len(s.order))
			return len(s.order), append([]*user(nil), s.order[from:to]...)
		}
		u := s.byName[nameKey(f.value)]
		if u == nil || start > 1 || count == 0 {
			return btoi(u != nil), nil
		}
		return 1, []*user{u}
	}
	now := s.now()
	var match []*user
	for _, u := range s.order {
		if v := u.view(now); v != nil && (f.any || strings.EqualFold(v.userName, f.value)) {
			match = append(match, v)
		}
	}
	from := min(start-1, len(match))
	to := min(from+count, len(match))
	return len(match), match[from:to]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
