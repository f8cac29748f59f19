package webextest

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// userTypes are the documented values of userType (VENDORS.md 1.6).
var userTypes = []string{"user", "room", "external_calling", "calling_service"}

// emailPattern is what the simulator takes for an email address: userName
// must be the user's primary work email (VENDORS.md 1.6).
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// userSchemas is the schemas list of every user response, in the documented
// order: core, Cisco, enterprise (VENDORS.md 1.6).
var userSchemas = []string{scim.UserSchema, webex.UserExtension, scim.EnterpriseUserSchema}

func (s *Sim) postUser(c *call) error {
	body, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	res, err := s.createUserLocked(body, s.now())
	var out scim.Resource
	if err == nil {
		out = s.renderUserLocked(res, nil)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", s.location("Users", res.ID()))
	writeJSON(c.w, http.StatusCreated, out)
	return nil
}

func (s *Sim) getUser(c *call, id string) error {
	s.mu.Lock()
	e := s.users[id]
	var out scim.Resource
	if e != nil {
		// GET by id never carries groups (VENDORS.md 1.3, WX-TEST).
		out = s.renderUserLocked(e.res, nil)
	}
	s.mu.Unlock()
	if e == nil {
		return notFound("User", id)
	}
	writeJSON(c.w, http.StatusOK, project(webex.UserType, out, c.r.URL.Query()))
	return nil
}

func (s *Sim) putUser(c *call, id string) error {
	body, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	return s.writeUser(c, id, func(e *entry, now time.Time) (scim.Resource, error) {
		return s.replaceUserLocked(e, body, now)
	})
}

func (s *Sim) patchUser(c *call, id string) error {
	return s.writeUser(c, id, func(e *entry, now time.Time) (scim.Resource, error) {
		return s.patchUserLocked(e, c.body, now)
	})
}

// writeUser runs a PUT or PATCH of user id and answers the result.
func (s *Sim) writeUser(c *call, id string, write func(*entry, time.Time) (scim.Resource, error)) error {
	s.mu.Lock()
	e := s.users[id]
	if e == nil {
		s.mu.Unlock()
		return notFound("User", id)
	}
	res, err := write(e, s.now())
	var out scim.Resource
	if err == nil {
		out = s.renderUserLocked(res, nil)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (s *Sim) deleteUser(c *call, id string) error {
	s.mu.Lock()
	err := s.deleteUserLocked(id, s.now())
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// createUserLocked stores a new user from a POST body. The caller holds s.mu.
func (s *Sim) createUserLocked(body map[string]any, now time.Time) (scim.Resource, error) {
	if err := requireSchema(body, scim.UserSchema); err != nil {
		return nil, err
	}
	res, err := translate.Validate(webex.UserType, prune(webex.UserType, body), nil)
	if err != nil {
		return nil, err
	}
	res["id"] = newUUID()
	if err := s.checkUser(res, nil, false); err != nil {
		return nil, err
	}
	s.setMeta(res, "User", nil, now)
	s.put(s.users, nil, res, now)
	return res, nil
}

// replaceUserLocked is PUT: the body replaces the user; attributes it
// leaves out are cleared, id and meta.created stay (VENDORS.md 1.6). The
// caller holds s.mu.
func (s *Sim) replaceUserLocked(e *entry, body map[string]any, now time.Time) (scim.Resource, error) {
	if err := requireSchema(body, scim.UserSchema); err != nil {
		return nil, err
	}
	res, err := translate.Validate(webex.UserType, prune(webex.UserType, body), e.res)
	if err != nil {
		return nil, err
	}
	res["id"] = e.res.ID()
	if err := s.checkUser(res, e.res, false); err != nil {
		return nil, err
	}
	s.setMeta(res, "User", e.res, now)
	s.put(s.users, e, res, now)
	return res, nil
}

// patchUserLocked applies a PatchOp body (VENDORS.md 1.8). The caller
// holds s.mu.
func (s *Sim) patchUserLocked(e *entry, body []byte, now time.Time) (scim.Resource, error) {
	ops, err := patch.Parse(body)
	if err != nil {
		return nil, err
	}
	res, err := patch.Apply(webex.UserType, e.res, ops)
	if err != nil {
		return nil, err
	}
	res["id"] = e.res.ID()
	if err := s.checkUser(res, e.res, true); err != nil {
		return nil, err
	}
	s.setMeta(res, "User", e.res, now)
	s.put(s.users, e, res, now)
	return res, nil
}

// deleteUserLocked removes a user and its group memberships. The caller
// holds s.mu.
func (s *Sim) deleteUserLocked(id string, now time.Time) error {
	if s.users[id] == nil {
		return notFound("User", id)
	}
	delete(s.users, id)
	s.dropMemberLocked(id, now)
	return nil
}

// checkUser enforces Webex's user rules on r, the user as it would be
// stored (old is the stored user on PUT and PATCH), and settles the emails
// (VENDORS.md 1.6). The caller holds s.mu.
func (s *Sim) checkUser(r scim.Resource, old scim.Resource, patched bool) error {
	userName := str(r, "userName")
	if !emailPattern.MatchString(userName) {
		return badRequest(scim.InvalidValue, "userName must be the user's email address.")
	}
	switch t := str(r, "userType"); {
	case t == "":
		return badRequest(scim.InvalidValue, "userType is required; use one of %s.", strings.Join(userTypes, ", "))
	case !slices.Contains(userTypes, t):
		return badRequest(scim.InvalidValue, "userType %q is not valid; use one of %s.", t, strings.Join(userTypes, ", "))
	}
	if err := settleEmails(r, old, patched); err != nil {
		return err
	}
	if err := s.checkManager(r); err != nil {
		return err
	}
	for id, e := range s.users {
		if id != r.ID() && strings.EqualFold(str(e.res, "userName"), userName) {
			return scimErr(http.StatusConflict, scim.Uniqueness, "User with the same userName already exists.")
		}
	}
	return nil
}

// settleEmails applies the email rules: a work email marked primary must
// equal userName, and when there is none the server adds one (the create
// example of VENDORS.md 1.6). When a PATCH changes userName, the work
// primary email that equalled the old userName follows it.
func settleEmails(r, old scim.Resource, patched bool) error {
	userName := str(r, "userName")
	emails := objects(r["emails"])
	if patched && old != nil {
		if prev := str(old, "userName"); !strings.EqualFold(prev, userName) {
			for _, m := range emails {
				if isWorkPrimary(m) && strings.EqualFold(str(m, "value"), prev) {
					m["value"] = userName
				}
			}
		}
	}
	found := false
	for _, m := range emails {
		if isWorkPrimary(m) {
			if !strings.EqualFold(str(m, "value"), userName) {
				return badRequest(scim.InvalidValue, "The work email marked primary must equal userName.")
			}
			found = true
		}
	}
	if !found {
		// Promote a work email equal to userName, or add one; the new
		// primary replaces any other.
		for _, m := range emails {
			delete(m, "primary")
		}
		promoted := false
		for _, m := range emails {
			if strings.EqualFold(str(m, "type"), "work") && strings.EqualFold(str(m, "value"), userName) {
				m["primary"] = true
				promoted = true
				break
			}
		}
		if !promoted {
			emails = append(emails, map[string]any{"value": userName, "type": "work", "primary": true})
		}
	}
	list := make([]any, len(emails))
	for i, m := range emails {
		list[i] = m
	}
	r["emails"] = list
	return nil
}

func isWorkPrimary(m map[string]any) bool {
	p, _ := m["primary"].(bool)
	return p && strings.EqualFold(str(m, "type"), "work")
}

// checkManager requires the enterprise manager to be a user of the org and
// keeps only its value; displayName and $ref are added on output.
func (s *Sim) checkManager(r scim.Resource) error {
	ext, _ := r[scim.EnterpriseUserSchema].(map[string]any)
	m, _ := ext["manager"].(map[string]any)
	if m == nil {
		return nil
	}
	v := str(m, "value")
	if v == "" {
		delete(ext, "manager")
		return nil
	}
	if v == r.ID() || s.users[v] == nil {
		return badRequest(scim.InvalidValue, "The manager %s is not a user of this org.", v)
	}
	ext["manager"] = map[string]any{"value": v}
	return nil
}

// renderUserLocked is the response form of a stored user: the three
// schemas, manager displayName and $ref, groups when given (list and search
// only), and the undocumented firstAdmin flag the live service sends. The
// caller holds s.mu; the result shares nothing with res.
func (s *Sim) renderUserLocked(res scim.Resource, groups []any) scim.Resource {
	out := s.renderUserPlain(res)
	if ext, ok := out[scim.EnterpriseUserSchema].(map[string]any); ok {
		if m, ok := ext["manager"].(map[string]any); ok {
			id := str(m, "value")
			m["$ref"] = s.location("Users", id)
			if me := s.users[id]; me != nil {
				m["displayName"] = displayOf(me.res)
			}
		}
	}
	if len(groups) > 0 {
		out["groups"] = groups
	}
	return out
}

// renderUserPlain sets a user's schemas and drops what is never returned.
func (s *Sim) renderUserPlain(res scim.Resource) scim.Resource {
	out := res.Clone()
	out["schemas"] = anyList(userSchemas)
	out["firstAdmin"] = false
	delete(out, "password")
	return out
}

// displayOf is the display text of a user or group.
func displayOf(r scim.Resource) string {
	if d := str(r, "displayName"); d != "" {
		return d
	}
	return str(r, "userName")
}

// listUsers is GET /Users: list or search (VENDORS.md 1.4, 1.5). It sees
// the search view, so writes appear after the search lag.
func (s *Sim) listUsers(c *call) error {
	q := c.r.URL.Query()
	expr, err := parseFilter(webex.UserType, q.Get("filter"))
	if err != nil {
		return err
	}
	p, err := parsePage(q, 100, s.cfg.maxCount)
	if err != nil {
		return err
	}
	withGroups := boolParam(q, "includeGroupDetails") || boolParam(q, "returnGroups")
	var usages []string
	for u := range strings.SplitSeq(q.Get("groupUsageTypes"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			usages = append(usages, u)
		}
	}

	s.mu.Lock()
	now := s.now()
	var memberships map[string][]any
	if withGroups {
		memberships = s.membershipsLocked(now, usages)
	}
	var matched []scim.Resource
	for _, e := range sortedEntries(s.users) {
		v := e.view(now)
		if v == nil {
			continue
		}
		r := s.renderUserLocked(v, memberships[v.ID()])
		if expr == nil || filter.Match(expr, r, webex.UserType) {
			matched = append(matched, r)
		}
	}
	s.mu.Unlock()

	if err := sortResources(webex.UserType, matched, q, "userName", "id", "meta.lastModified"); err != nil {
		return err
	}
	from, to := p.slice(len(matched))
	resources := make([]any, 0, to-from)
	for _, r := range matched[from:to] {
		resources = append(resources, project(webex.UserType, r, q))
	}
	writeJSON(c.w, http.StatusOK, listResponse(len(matched), p, resources))
	return nil
}

// membershipsLocked maps each user id to its groups as search shows them
// ([{value, display, $ref}]), narrowed to groups whose Cisco usage is in
// usages when usages is not empty. The caller holds s.mu.
func (s *Sim) membershipsLocked(now time.Time, usages []string) map[string][]any {
	out := map[string][]any{}
	for _, g := range sortedEntries(s.groups) {
		v := g.view(now)
		if v == nil {
			continue
		}
		if len(usages) > 0 {
			ext, _ := v[webex.GroupExtension].(map[string]any)
			u := str(ext, "usage")
			if !slices.ContainsFunc(usages, func(x string) bool { return strings.EqualFold(x, u) }) {
				continue
			}
		}
		ref := map[string]any{"value": v.ID(), "display": str(v, "displayName"), "$ref": s.location("Groups", v.ID())}
		for _, m := range objects(v["members"]) {
			if strings.EqualFold(str(m, "type"), "user") {
				id := str(m, "value")
				out[id] = append(out[id], scim.CloneValue(ref))
			}
		}
	}
	return out
}

// sortedEntries returns m's entries in creation order.
func sortedEntries(m map[string]*entry) []*entry {
	out := make([]*entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return int(a.seq - b.seq) })
	return out
}
