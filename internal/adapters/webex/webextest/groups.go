package webextest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// Group limits (VENDORS.md 1.3, 1.7).
const (
	// MaxGroupMembers is the most members GET /Groups/{id} (and a list
	// with includeMembers=true) returns per group.
	MaxGroupMembers = 500
	// MaxMembersCount is the largest count of the Members endpoint, and
	// its default; a larger count is clamped.
	MaxMembersCount = 500
)

// GroupMembersSchema is the schema of the Members endpoint's answer.
const GroupMembersSchema = "urn:scim:schemas:extension:cisco:webexidentity:2.0:GroupMembers"

// memberTypes are the documented member types.
var memberTypes = []string{"user", "group", "machine"}

// groupSchemas is the schemas list of every group response.
var groupSchemas = []string{scim.GroupSchema, webex.GroupExtension}

func (s *Sim) postGroup(c *call) error {
	body, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	s.mu.Lock()
	res, err := s.createGroupLocked(body, s.now())
	var out scim.Resource
	if err == nil {
		out = s.renderGroupLocked(res, "", true)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c.w.Header().Set("Location", s.location("Groups", res.ID()))
	writeJSON(c.w, http.StatusCreated, out)
	return nil
}

func (s *Sim) getGroup(c *call, id string) error {
	q := c.r.URL.Query()
	s.mu.Lock()
	e := s.groups[id]
	var out scim.Resource
	if e != nil {
		out = s.renderGroupLocked(e.res, q.Get("memberType"), true)
	}
	s.mu.Unlock()
	if e == nil {
		return notFound("Group", id)
	}
	writeJSON(c.w, http.StatusOK, project(webex.GroupType, out, q))
	return nil
}

func (s *Sim) putGroup(c *call, id string) error {
	body, err := decodeObject(c.body)
	if err != nil {
		return err
	}
	return s.writeGroup(c, id, func(e *entry, now time.Time) (scim.Resource, error) {
		return s.replaceGroupLocked(e, body, now)
	})
}

func (s *Sim) patchGroup(c *call, id string) error {
	return s.writeGroup(c, id, func(e *entry, now time.Time) (scim.Resource, error) {
		return s.patchGroupLocked(e, c.body, now)
	})
}

func (s *Sim) writeGroup(c *call, id string, write func(*entry, time.Time) (scim.Resource, error)) error {
	s.mu.Lock()
	e := s.groups[id]
	if e == nil {
		s.mu.Unlock()
		return notFound("Group", id)
	}
	res, err := write(e, s.now())
	var out scim.Resource
	if err == nil {
		out = s.renderGroupLocked(res, "", true)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

func (s *Sim) deleteGroup(c *call, id string) error {
	s.mu.Lock()
	err := s.deleteGroupLocked(id, s.now())
	s.mu.Unlock()
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// createGroupLocked stores a new group from a POST body. The caller holds s.mu.
func (s *Sim) createGroupLocked(body map[string]any, now time.Time) (scim.Resource, error) {
	if err := requireSchema(body, scim.GroupSchema); err != nil {
		return nil, err
	}
	res, err := translate.Validate(webex.GroupType, prune(webex.GroupType, body), nil)
	if err != nil {
		return nil, err
	}
	res["id"] = newUUID()
	if err := s.checkGroup(res); err != nil {
		return nil, err
	}
	s.setMeta(res, "group", nil, now)
	s.put(s.groups, nil, res, now)
	return res, nil
}

// replaceGroupLocked is PUT: "all attributes are cleaned up if a new value
// is not provided" (VENDORS.md 1.3). The caller holds s.mu.
func (s *Sim) replaceGroupLocked(e *entry, body map[string]any, now time.Time) (scim.Resource, error) {
	if err := requireSchema(body, scim.GroupSchema); err != nil {
		return nil, err
	}
	res, err := translate.Validate(webex.GroupType, prune(webex.GroupType, body), e.res)
	if err != nil {
		return nil, err
	}
	res["id"] = e.res.ID()
	if err := s.checkGroup(res); err != nil {
		return nil, err
	}
	s.setMeta(res, "group", e.res, now)
	s.put(s.groups, e, res, now)
	return res, nil
}

// patchGroupLocked applies a PatchOp body. The caller holds s.mu.
func (s *Sim) patchGroupLocked(e *entry, body []byte, now time.Time) (scim.Resource, error) {
	ops, err := patch.Parse(body)
	if err != nil {
		return nil, err
	}
	res, err := patch.Apply(webex.GroupType, e.res, ops)
	if err != nil {
		return nil, err
	}
	res["id"] = e.res.ID()
	if err := s.checkGroup(res); err != nil {
		return nil, err
	}
	s.setMeta(res, "group", e.res, now)
	s.put(s.groups, e, res, now)
	return res, nil
}

// deleteGroupLocked removes a group and its memberships in other groups.
// The caller holds s.mu.
func (s *Sim) deleteGroupLocked(id string, now time.Time) error {
	if s.groups[id] == nil {
		return notFound("Group", id)
	}
	delete(s.groups, id)
	s.dropMemberLocked(id, now)
	return nil
}

// dropMemberLocked removes id from every group's members; each group that
// changes is a write (new version, search lag). The caller holds s.mu.
func (s *Sim) dropMemberLocked(id string, now time.Time) {
	for _, g := range sortedEntries(s.groups) {
		members := objects(g.res["members"])
		kept := slices.DeleteFunc(slices.Clone(members), func(m map[string]any) bool { return str(m, "value") == id })
		if len(kept) == len(members) {
			continue
		}
		res := g.res.Clone()
		if len(kept) == 0 {
			delete(res, "members")
		} else {
			list := make([]any, len(kept))
			for i, m := range kept {
				list[i] = scim.CloneValue(m)
			}
			res["members"] = list
		}
		s.setMeta(res, "group", g.res, now)
		s.put(s.groups, g, res, now)
	}
}

// checkGroup enforces the group rules on r, the group as it would be
// stored: members reference users or groups of the org, with type user,
// group or machine (inferred when absent), and keep only value and type;
// display and $ref are added on output (VENDORS.md 1.7). The caller holds s.mu.
func (s *Sim) checkGroup(r scim.Resource) error {
	name := str(r, "displayName")
	if strings.TrimSpace(name) == "" {
		return badRequest(scim.InvalidValue, "displayName is required.")
	}
	if s.cfg.uniqueGroupNames {
		for id, e := range s.groups {
			if id != r.ID() && strings.EqualFold(str(e.res, "displayName"), name) {
				return scimErr(http.StatusConflict, scim.Uniqueness, "Group with the same displayName already exists.")
			}
		}
	}
	members := objects(r["members"])
	if len(members) == 0 {
		delete(r, "members")
		return nil
	}
	seen := map[string]bool{}
	list := make([]any, 0, len(members))
	for _, m := range members {
		v := str(m, "value")
		if v == "" {
			return badRequest(scim.InvalidValue, "A member needs a value (the id of a user or group).")
		}
		t := strings.ToLower(str(m, "type"))
		if t != "" && !slices.Contains(memberTypes, t) {
			return badRequest(scim.InvalidValue, "Member type %q is not valid; use user, group or machine.", str(m, "type"))
		}
		switch {
		case v == r.ID():
			return badRequest(scim.InvalidValue, "A group cannot be a member of itself.")
		case (t == "" || t == "user") && s.users[v] != nil:
			t = "user"
		case (t == "" || t == "group") && s.groups[v] != nil:
			t = "group"
		default:
			// Machines are not simulated, so a machine member never exists.
			return badRequest(scim.InvalidValue, "Member %s is not a user or group of this org.", v)
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		list = append(list, map[string]any{"value": v, "type": t})
	}
	r["members"] = list
	return nil
}

// renderGroupLocked is the response form of a stored group. With members
// set, members (of memberType when given, at most MaxGroupMembers) carry
// display and $ref; without, they are left out. The caller holds s.mu; the
// result shares nothing with res.
func (s *Sim) renderGroupLocked(res scim.Resource, memberType string, members bool) scim.Resource {
	out := res.Clone()
	out["schemas"] = anyList(groupSchemas)
	delete(out, "members")
	if !members {
		return out
	}
	list := s.renderMembersLocked(res, memberType)
	if len(list) > MaxGroupMembers {
		list = list[:MaxGroupMembers]
	}
	if len(list) > 0 {
		out["members"] = list
	}
	return out
}

// renderMembersLocked returns res's members of memberType (all when empty)
// with display and $ref. The caller holds s.mu.
func (s *Sim) renderMembersLocked(res scim.Resource, memberType string) []any {
	var out []any
	for _, m := range objects(res["members"]) {
		t, id := str(m, "type"), str(m, "value")
		if memberType != "" && !strings.EqualFold(memberType, t) {
			continue
		}
		rm := map[string]any{"value": id, "type": t}
		switch t {
		case "user":
			rm["$ref"] = s.location("Users", id)
			if u := s.users[id]; u != nil {
				rm["display"] = displayOf(u.res)
			}
		case "group":
			rm["$ref"] = s.location("Groups", id)
			if g := s.groups[id]; g != nil {
				rm["display"] = displayOf(g.res)
			}
		}
		out = append(out, rm)
	}
	return out
}

// listGroups is GET /Groups (VENDORS.md 1.3, 1.5): members only with
// includeMembers=true, narrowed by memberType.
func (s *Sim) listGroups(c *call) error {
	q := c.r.URL.Query()
	expr, err := parseFilter(webex.GroupType, q.Get("filter"))
	if err != nil {
		return err
	}
	p, err := parsePage(q, 100, s.cfg.maxCount)
	if err != nil {
		return err
	}
	withMembers := boolParam(q, "includeMembers")
	s.mu.Lock()
	now := s.now()
	var matched []scim.Resource
	for _, e := range sortedEntries(s.groups) {
		v := e.view(now)
		if v == nil {
			continue
		}
		r := s.renderGroupLocked(v, q.Get("memberType"), withMembers)
		if expr == nil || filter.Match(expr, r, webex.GroupType) {
			matched = append(matched, r)
		}
	}
	s.mu.Unlock()
	if err := sortResources(webex.GroupType, matched, q, "displayName", "id", "meta.lastModified"); err != nil {
		return err
	}
	from, to := p.slice(len(matched))
	resources := make([]any, 0, to-from)
	for _, r := range matched[from:to] {
		resources = append(resources, project(webex.GroupType, r, q))
	}
	writeJSON(c.w, http.StatusOK, listResponse(len(matched), p, resources))
	return nil
}

// getMembers is GET /Groups/{id}/Members (VENDORS.md 1.7): the Cisco
// GroupMembers shape, memberSize instead of totalResults, count at most
// 500 (clamped), and no members key at all when the page is empty. The
// group must exist now; its members are the search view's, so membership
// changes show after the search lag.
func (s *Sim) getMembers(c *call, id string) error {
	q := c.r.URL.Query()
	p, err := parsePage(q, MaxMembersCount, MaxMembersCount)
	if err != nil {
		return err
	}
	memberType := q.Get("memberType")
	if memberType != "" && !slices.Contains(memberTypes, strings.ToLower(memberType)) {
		return badRequest(scim.InvalidValue, "memberType %q is not valid; use user, group or machine.", memberType)
	}
	s.mu.Lock()
	e := s.groups[id]
	var all []any
	var name string
	if e != nil {
		name = str(e.res, "displayName")
		if v := e.view(s.now()); v != nil {
			all = s.renderMembersLocked(v, memberType)
		}
	}
	s.mu.Unlock()
	if e == nil {
		return notFound("Group", id)
	}
	from, to := p.slice(len(all))
	body := map[string]any{
		"schemas":      []any{GroupMembersSchema},
		"displayName":  name,
		"memberSize":   len(all),
		"itemsPerPage": to - from,
		"startIndex":   p.start,
	}
	if to > from {
		body["members"] = all[from:to]
	}
	writeJSON(c.w, http.StatusOK, body)
	return nil
}
