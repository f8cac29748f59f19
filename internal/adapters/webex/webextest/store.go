package webextest

import (
	"strconv"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// entry is one stored resource. res is what GET by id sees. List and
// search see view(now): until visibleAt, the resource as it was before its
// latest writes (prev, nil for a resource created since), so that a write
// reaches search only after the search lag (VENDORS.md 1.12).
type entry struct {
	res       scim.Resource
	prev      scim.Resource
	visibleAt time.Time
	seq       int64
}

// view returns what list and search show of e at now, or nil.
func (e *entry) view(now time.Time) scim.Resource {
	if now.Before(e.visibleAt) {
		return e.prev
	}
	return e.res
}

// put stores res as the new state of e (nil e: a new resource) and returns
// the entry. The caller holds s.mu.
func (s *Sim) put(m map[string]*entry, e *entry, res scim.Resource, now time.Time) *entry {
	if e == nil {
		s.seq++
		e = &entry{seq: s.seq}
		m[res.ID()] = e
	} else if s.cfg.searchLag > 0 {
		e.prev = e.view(now)
	}
	e.res = res
	if s.cfg.searchLag > 0 {
		e.visibleAt = now.Add(s.cfg.searchLag)
	}
	return e
}

// timeFormat is the form of meta.created and meta.lastModified.
const timeFormat = "2006-01-02T15:04:05.000Z"

// setMeta sets r's meta for a write at now: created is kept from old (nil
// on create), lastModified is now, and version a new weak ETag. The caller
// holds s.mu (New calls it before the Sim is shared).
func (s *Sim) setMeta(r scim.Resource, resourceType string, old scim.Resource, now time.Time) {
	created := now.Format(timeFormat)
	if c, ok := old.Meta()["created"].(string); ok {
		created = c
	}
	s.version++
	endpoint := "Users"
	if resourceType != "User" {
		endpoint = "Groups"
	}
	r["meta"] = map[string]any{
		"resourceType": resourceType,
		"location":     s.location(endpoint, r.ID()),
		"version":      `W/"` + strconv.FormatInt(s.version, 10) + `"`,
		"created":      created,
		"lastModified": now.Format(timeFormat),
	}
	// The Cisco extension's read-only meta names the org; groups spell it
	// organizationID (VENDORS.md 1.6, 1.7).
	urn, key := webex.UserExtension, "organizationId"
	if resourceType != "User" {
		urn, key = webex.GroupExtension, "organizationID"
	}
	ext, _ := r[urn].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		r[urn] = ext
	}
	ext["meta"] = map[string]any{key: s.cfg.orgID}
}

// location is the meta.location of a resource.
func (s *Sim) location(endpoint, id string) string {
	return s.cfg.locationBase + "/identity/scim/" + s.cfg.orgID + "/v2/" + endpoint + "/" + id
}
