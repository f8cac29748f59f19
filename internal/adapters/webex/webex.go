// Package webex is the adapter for Cisco Webex Identity SCIM 2
// (VENDORS.md section 1): org-scoped paths, the documented filter table
// pushed down and the rest left to the engine, the Cisco extension schemas,
// native Bulk in chunks of at most 100 operations, and vendor errors mapped
// to RFC 7644 errors that keep Webex's trackingId.
package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// Vendor limits (VENDORS.md 1.4, 1.7, 1.9).
const (
	defaultPageSize = 100 // the vendor's default count; it documents no maximum
	maxMembersPage  = 500 // Members endpoint maximum, and GET /Groups/{id}'s member cap
	maxBulkOps      = 100
)

// Adapter talks to one Webex organization. It is safe for concurrent use.
type Adapter struct {
	c          *outbound.Client
	maxPage    int
	userGroups bool
	log        *slog.Logger
}

// Option tunes an Adapter.
type Option func(*Adapter)

// WithMaxPageSize sets the largest count sent on a list; 0 keeps 100.
func WithMaxPageSize(n int) Option {
	return func(a *Adapter) {
		if n > 0 {
			a.maxPage = n
		}
	}
}

// WithoutUserGroups leaves groups out of GET /Users/{id}, saving the
// search that fills them.
func WithoutUserGroups() Option { return func(a *Adapter) { a.userGroups = false } }

// WithLogger sets where vendor errors are logged (with their trackingId).
func WithLogger(l *slog.Logger) Option { return func(a *Adapter) { a.log = l } }

// New returns an adapter for organization orgID (its UUID) at baseURL
// (https://webexapis.com, or a simulator), with tokens from tokens and the
// outbound client tuned by client.
func New(baseURL, orgID string, tokens outbound.TokenSource, client []outbound.Option, opts ...Option) (*Adapter, error) {
	base := strings.TrimSuffix(baseURL, "/") + "/identity/scim/" + url.PathEscape(orgID) + "/v2"
	c, err := outbound.New(base, tokens, client...)
	if err != nil {
		return nil, fmt.Errorf("webex: %w", err)
	}
	a := &Adapter{c: c, maxPage: defaultPageSize, userGroups: true, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Capabilities: the documented filter table (VENDORS.md 1.5) with and/or,
// native PATCH (1.8) and Bulk (1.9). Sorting covers only three attributes per type, and
// If-Match is not documented, so the engine does both.
func (a *Adapter) Capabilities() adapters.Capabilities {
	return adapters.Capabilities{
		ResourceTypes: []*scim.ResourceType{UserType, GroupType},
		Filter:        filterSupport,
		MaxPageSize:   a.maxPage,
		Patch:         true,
		// Bulk is native, 100 operations a request (VENDORS.md 1.9).
		BulkMaxOperations: maxBulkOps,
	}
}

// Get reads one resource. A user's groups come from a search by id
// (GET /Users/{id} does not return them, VENDORS.md 1.3); a group's members
// past the 500 that GET /Groups/{id} returns come from the Members endpoint.
func (a *Adapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	if err := checkID(rt, id); err != nil {
		return nil, err
	}
	resp, err := a.call(ctx, rt, id, outbound.Request{Method: http.MethodGet, Path: resourcePath(rt, id), Op: op("Get", rt)})
	if err != nil {
		return nil, err
	}
	return a.written(ctx, rt, resp.Body)
}

// fillGroups sets r's groups from a search by id with group details. Right
// after a create the search may not see the user yet (eventual consistency,
// VENDORS.md 1.12): it then has no groups to show, which is also the truth
// for a new user.
func (a *Adapter) fillGroups(ctx context.Context, r scim.Resource) error {
	q := url.Values{"filter": {eq("id", r.ID())}, "includeGroupDetails": {"true"}}
	resp, err := a.call(ctx, UserType, "", outbound.Request{Method: http.MethodGet, Path: "/Users", Query: q, Op: "webex.GetUserGroups"})
	if err != nil {
		return err
	}
	list, err := decodeList(resp.Body)
	if err != nil {
		return err
	}
	delete(r, "groups")
	for _, u := range list.Resources {
		if u["id"] == r.ID() {
			if groups := vendorGroups(u["groups"]); len(groups) > 0 {
				r["groups"] = groups
			}
		}
	}
	return nil
}

// fillMembers replaces a group's members with the whole list from the
// Members endpoint when GET /Groups/{id} may have cut it at 500.
func (a *Adapter) fillMembers(ctx context.Context, r scim.Resource) error {
	if len(scim.AsList(r["members"])) < maxMembersPage {
		return nil
	}
	var all []any
	for start := 1; ; {
		q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(maxMembersPage)}}
		resp, err := a.call(ctx, GroupType, r.ID(), outbound.Request{
			Method: http.MethodGet, Path: resourcePath(GroupType, r.ID()) + "/Members", Query: q, Op: "webex.GetGroupMembers",
		})
		if err != nil {
			return err
		}
		var page struct {
			MemberSize   int              `json:"memberSize"`
			ItemsPerPage int              `json:"itemsPerPage"`
			Members      []map[string]any `json:"members"` // absent on an empty page
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return badVendorBody("GET Members", err)
		}
		for _, m := range page.Members {
			all = append(all, memberFromVendor(m))
		}
		n := len(page.Members)
		if n == 0 || start+n > page.MemberSize {
			break
		}
		start += n
	}
	r["members"] = all
	return nil
}

// List returns one page of resources matching q.Filter, which the engine
// has cut down to filterSupport.
func (a *Adapter) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	count := min(max(q.Count, 1), a.maxPage) // count=0 still needs totalResults
	v := url.Values{
		"startIndex": {strconv.Itoa(max(q.StartIndex, 1))},
		"count":      {strconv.Itoa(count)},
	}
	if q.Filter != nil {
		v.Set("filter", vendorFilter(q.Filter, rt).String())
	}
	switch rt {
	case UserType:
		if a.userGroups {
			v.Set("includeGroupDetails", "true")
		}
	case GroupType:
		v.Set("includeMembers", "true")
	}
	resp, err := a.call(ctx, rt, "", outbound.Request{Method: http.MethodGet, Path: rt.Endpoint, Query: v, Op: op("List", rt)})
	if err != nil {
		return adapters.Page{}, err
	}
	list, err := decodeList(resp.Body)
	if err != nil {
		return adapters.Page{}, err
	}
	page := adapters.Page{TotalResults: list.TotalResults}
	if q.Count == 0 {
		return page, nil
	}
	for _, item := range list.Resources {
		if item == nil {
			return adapters.Page{}, badVendorBody("a list", errors.New("a null resource"))
		}
		r := fromVendorMap(rt, item)
		if rt == GroupType {
			if err := a.fillMembers(ctx, r); err != nil {
				return adapters.Page{}, err
			}
		}
		page.Resources = append(page.Resources, r)
	}
	return page, nil
}

// Create posts r, never twice (adapters.CreateOnce): a POST whose outcome
// is unknown is followed by a lookup before anything is sent again.
func (a *Adapter) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	body, err := toVendor(rt, r)
	if err != nil {
		return nil, err
	}
	req := outbound.Request{Method: http.MethodPost, Path: rt.Endpoint, Body: body, Op: op("Create", rt)}
	return adapters.CreateOnce(ctx,
		func(ctx context.Context) (scim.Resource, error) {
			resp, err := a.call(ctx, rt, "", req)
			if err != nil {
				return nil, err
			}
			return fromVendor(rt, resp.Body)
		},
		func(ctx context.Context) (scim.Resource, error) { return a.findCreated(ctx, rt, r) })
}

// findCreated looks for the resource a POST of r would have created: a user
// by userName (unique across Webex), a group by displayName and externalId.
// It returns nil, nil when there is none.
func (a *Adapter) findCreated(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	var f filter.Expr
	key := func(attr string) *filter.Compare {
		s, _ := r[attr].(string)
		return &filter.Compare{Path: scim.Path{Attr: attr}, Op: filter.Eq, Value: s}
	}
	if rt == UserType {
		f = key("userName")
	} else {
		f = key("displayName")
	}
	page, err := a.List(ctx, rt, adapters.Query{Filter: f, StartIndex: 1, Count: a.maxPage})
	if err != nil {
		return nil, err
	}
	ext, _ := r["externalId"].(string)
	for _, res := range page.Resources {
		if rt == UserType || res["externalId"] == ext || ext == "" {
			return res, nil
		}
	}
	return nil, nil
}

// Replace puts r in place of resource id. Webex keeps id and meta.created,
// and clears what r leaves out (VENDORS.md 1.6).
func (a *Adapter) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, _ string) (scim.Resource, error) {
	if err := checkID(rt, id); err != nil {
		return nil, err
	}
	body, err := toVendor(rt, r)
	if err != nil {
		return nil, err
	}
	resp, err := a.call(ctx, rt, id, outbound.Request{Method: http.MethodPut, Path: resourcePath(rt, id), Body: body, Op: op("Replace", rt)})
	if err != nil {
		return nil, err
	}
	return a.written(ctx, rt, resp.Body)
}

// written reads the resource a write answered with, completed as Get
// completes it: a user's groups, a group's members past 500.
func (a *Adapter) written(ctx context.Context, rt *scim.ResourceType, body []byte) (scim.Resource, error) {
	r, err := fromVendor(rt, body)
	if err != nil {
		return nil, err
	}
	switch {
	case rt == UserType && a.userGroups:
		err = a.fillGroups(ctx, r)
	case rt == GroupType:
		err = a.fillMembers(ctx, r)
	}
	return r, err
}

// Patch sends ops as a native PatchOp (VENDORS.md 1.8).
func (a *Adapter) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, _ string) (scim.Resource, error) {
	if err := checkID(rt, id); err != nil {
		return nil, err
	}
	body, err := json.Marshal(patchBody(rt, ops))
	if err != nil {
		return nil, scim.BadRequest(scim.InvalidValue, "PATCH value cannot be encoded: %v", err)
	}
	resp, err := a.call(ctx, rt, id, outbound.Request{Method: http.MethodPatch, Path: resourcePath(rt, id), Body: body, Op: op("Patch", rt)})
	if err != nil {
		return nil, err
	}
	return a.written(ctx, rt, resp.Body)
}

// Delete deletes resource id.
func (a *Adapter) Delete(ctx context.Context, rt *scim.ResourceType, id string, _ string) error {
	if err := checkID(rt, id); err != nil {
		return err
	}
	_, err := a.call(ctx, rt, id, outbound.Request{Method: http.MethodDelete, Path: resourcePath(rt, id), Op: op("Delete", rt)})
	return err
}

// call sends req with a fresh TrackingID and maps a vendor error status to
// a *scim.Error. id names the resource, for 404s.
func (a *Adapter) call(ctx context.Context, rt *scim.ResourceType, id string, req outbound.Request) (*outbound.Response, error) {
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("TrackingID", "SCIMGW_"+uuid.NewString())
	resp, err := a.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Status < 300 {
		return resp, nil
	}
	verr := a.vendorError(ctx, req, resp, rt, id)
	return nil, verr
}

// checkID refuses an id that cannot be a Webex id before it reaches a path.
func checkID(rt *scim.ResourceType, id string) error {
	if id == "" || strings.ContainsAny(id, "/?#%") {
		return scim.NotFound(rt.ID, id)
	}
	return nil
}

func resourcePath(rt *scim.ResourceType, id string) string {
	return rt.Endpoint + "/" + url.PathEscape(id)
}

// op names a call for logs and metrics: "webex.GetUser".
func op(verb string, rt *scim.ResourceType) string { return "webex." + verb + rt.ID }

// Health makes the lightest authenticated read Webex has: one user id.
func (a *Adapter) Health(ctx context.Context) error {
	q := url.Values{"count": {"1"}, "attributes": {"id"}}
	_, err := a.call(ctx, UserType, "", outbound.Request{Method: http.MethodGet, Path: "/Users", Query: q, Op: "webex.Health"})
	return err
}
