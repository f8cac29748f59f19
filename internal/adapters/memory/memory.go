// Package memory is the reference target: a concurrent in-memory SCIM store
// that implements the adapter contract natively, or with every native
// capability switched off to exercise the engine's emulation.
//
// Behaviour worth knowing:
//   - ids are random (version 4) UUIDs;
//   - User.userName is unique case-insensitively (409 uniqueness, RFC 7643
//     §4.1.1); Group.displayName is not unique, as RFC 7643 §4.2 defines it
//     with uniqueness "none" and the store advertises the standard schema;
//   - meta.version is a weak ETag W/"<n>" bumped on every change of the
//     resource's own attributes; a write that changes nothing keeps the
//     version and meta.lastModified;
//   - Group members are stored as value and type; display is filled on read
//     from the member's displayName (falling back to its userName), so a
//     rename shows at once. A member that does not exist is a 400
//     invalidValue;
//   - User.groups is derived on read from direct memberships (type
//     "direct") and is read-only; deleting a user or group removes it from
//     every group, which is a change of those groups (their version bumps).
//     A membership change is not a change of the member itself: the member's
//     version stays, since groups is derived (RFC 7643 §4.1.2);
//   - the Enterprise manager.displayName is filled on read when the manager
//     is a user of this store;
//   - passwords are not kept: the store authenticates no one, and a password
//     is never returned (RFC 7643 §4.1.1).
package memory

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// Adapter is the in-memory store. It is safe for concurrent use; every
// resource it returns is a deep copy the caller owns.
type Adapter struct {
	now     func() time.Time
	native  bool
	maxPage int

	mu     sync.RWMutex
	seq    uint64
	byType map[string]map[string]*record // resource type ID → id → record
	// userNames maps the folded userName to the user's id (RFC 7643 §4.1.1:
	// userName is unique and case-insensitive).
	userNames map[string]string
	// memberOf maps a member id to the ids of the groups that list it
	// directly; it derives User.groups and cleans up on delete.
	memberOf map[string]map[string]struct{}
}

// record is one stored resource: its own attributes (id, meta and schemas
// included), without the attributes derived on read.
type record struct {
	res     scim.Resource
	seq     uint64 // creation order: the order of an unsorted List
	version int
}

// Option configures an Adapter built by New.
type Option func(*Adapter)

// WithClock sets the clock behind meta.created and meta.lastModified; tests
// pass a fixed one. Nil keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(a *Adapter) {
		if now != nil {
			a.now = now
		}
	}
}

// WithMaxPageSize caps the page List returns (Capabilities.MaxPageSize). Zero
// or negative keeps the default, no limit.
func WithMaxPageSize(n int) Option {
	return func(a *Adapter) {
		if n > 0 {
			a.maxPage = n
		}
	}
}

// WithoutNative switches every native capability off: List refuses a filter
// or sort order, Replace and Delete ignore ifMatch, and Patch is not
// offered. The engine must then emulate them all, which is what this mode is
// for.
func WithoutNative() Option {
	return func(a *Adapter) { a.native = false }
}

// New returns an empty store, native unless WithoutNative is given.
func New(opts ...Option) *Adapter {
	a := &Adapter{
		now:    time.Now,
		native: true,
		byType: map[string]map[string]*record{
			scim.UserType.ID:  {},
			scim.GroupType.ID: {},
		},
		userNames: map[string]string{},
		memberOf:  map[string]map[string]struct{}{},
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Patcher = (*Adapter)(nil)
)

// errNotNative is returned when a caller uses a capability the store declared
// it lacks; it is a bug in the caller, hence not a *scim.Error (a 500).
var errNotNative = errors.New("memory: capability used although not declared")

// Capabilities reports User (with the Enterprise extension) and Group, and,
// when native, every filter, sort, ETag and PATCH.
func (a *Adapter) Capabilities() adapters.Capabilities {
	c := adapters.Capabilities{
		ResourceTypes: []*scim.ResourceType{scim.UserType, scim.GroupType},
		MaxPageSize:   a.maxPage,
	}
	if a.native {
		all := adapters.FilterSupport{Any: true, And: true, Or: true, Not: true}
		c.Filter = map[string]adapters.FilterSupport{scim.UserType.ID: all, scim.GroupType.ID: all}
		c.Sort, c.ETag, c.Patch = true, true, true
	}
	return c
}

// Get returns resource id of type rt.
func (a *Adapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	rec, err := a.lookup(rt, id)
	if err != nil {
		return nil, err
	}
	return a.view(rt, rec), nil
}

// List returns the page of rt's resources matching q. Unsorted results come
// in creation order, so paging is stable. q.Count 0 returns no resources,
// only TotalResults (RFC 7644 §3.4.2.4); a negative Count means no limit
// other than the page size cap.
func (a *Adapter) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	if err := ctx.Err(); err != nil {
		return adapters.Page{}, err
	}
	if !a.native && (q.Filter != nil || q.SortBy != (scim.Path{})) {
		return adapters.Page{}, fmt.Errorf("list %s with filter or sortBy: %w", rt.ID, errNotNative)
	}
	var by translate.SortBy
	if q.SortBy != (scim.Path{}) {
		order := "ascending"
		if q.Descending {
			order = "descending"
		}
		var err error
		if by, err = translate.ParseSort(rt, q.SortBy.String(), order); err != nil {
			return adapters.Page{}, err
		}
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	recs, err := a.table(rt)
	if err != nil {
		return adapters.Page{}, err
	}
	// Filter and sort keys read the stored attributes, unless they name a
	// derived one; only the page returned is copied.
	full := (q.Filter != nil && derived(q.Filter)) || (!by.IsZero() && derivedAttr(by.Path))
	type hit struct {
		rec  *record
		view scim.Resource // when already made
		key  translate.Key
	}
	hits := make([]hit, 0, len(recs))
	for _, rec := range recs {
		h := hit{rec: rec}
		v := rec.res
		if full {
			v = a.view(rt, rec)
			h.view = v
		}
		if q.Filter != nil && !filter.Match(q.Filter, v, rt) {
			continue
		}
		if !by.IsZero() {
			h.key = by.Key(v)
		}
		hits = append(hits, h)
	}
	slices.SortFunc(hits, func(x, y hit) int { return cmp.Compare(x.rec.seq, y.rec.seq) })
	if !by.IsZero() {
		// The order the engine uses when it sorts for an adapter that
		// cannot (RFC 7644 §3.4.2.3), stable over creation order.
		slices.SortStableFunc(hits, func(x, y hit) int { return by.Compare(x.key, y.key) })
	}

	start := max(q.StartIndex, 1) - 1
	count := q.Count
	if count < 0 || (a.maxPage > 0 && count > a.maxPage) {
		count = a.maxPage
		if count == 0 {
			count = len(hits)
		}
	}
	page := adapters.Page{TotalResults: len(hits)}
	if start < len(hits) {
		window := hits[start:min(len(hits), start+count)]
		page.Resources = make([]scim.Resource, len(window))
		for i, h := range window {
			if h.view == nil {
				h.view = a.view(rt, h.rec)
			}
			page.Resources[i] = h.view
		}
	}
	return page, nil
}

// Create stores r as a new resource of type rt. Client-supplied id, meta and
// read-only attributes are ignored (RFC 7644 §3.3).
func (a *Adapter) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	tab, err := a.table(rt)
	if err != nil {
		return nil, err
	}
	id := newID()
	attrs, err := a.normalize(rt, id, r)
	if err != nil {
		return nil, err
	}
	now := a.timestamp()
	a.seq++
	rec := &record{res: attrs, seq: a.seq, version: 1}
	rec.res["id"] = id
	rec.res["meta"] = map[string]any{
		"resourceType": rt.ID, "created": now, "lastModified": now, "version": etag(1),
	}
	tab[id] = rec
	a.index(rt, id, rec.res)
	return a.view(rt, rec), nil
}

// Replace replaces resource id with r (RFC 7644 §3.5.1), keeping id and
// meta.created. When native, a non-empty ifMatch must match the current
// version, else 412.
func (a *Adapter) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.lookup(rt, id)
	if err != nil {
		return nil, err
	}
	if err := a.checkVersion(rt, id, rec, ifMatch); err != nil {
		return nil, err
	}
	if err := a.store(rt, id, rec, r); err != nil {
		return nil, err
	}
	return a.view(rt, rec), nil
}

// Patch applies ops to resource id atomically under the store lock (RFC 7644
// §3.5.2): the version check, the application and the uniqueness and
// membership checks see one state, and a failure changes nothing.
func (a *Adapter) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !a.native {
		return nil, fmt.Errorf("patch %s: %w", rt.ID, errNotNative)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.lookup(rt, id)
	if err != nil {
		return nil, err
	}
	if err := a.checkVersion(rt, id, rec, ifMatch); err != nil {
		return nil, err
	}
	// Apply to the full representation, so that value filters on derived
	// sub-attributes (members[display eq "..."]) select what a client sees.
	cur := a.view(rt, rec)
	out, err := patch.Apply(rt, cur, ops)
	if err != nil {
		return nil, err
	}
	// The result is checked as the engine checks a PUT body: the engine
	// validates what it sends, but with native PATCH it sends operations.
	in, err := translate.Validate(rt, out, cur)
	if err != nil {
		return nil, err
	}
	if err := a.store(rt, id, rec, in); err != nil {
		return nil, err
	}
	return a.view(rt, rec), nil
}

// Delete removes resource id, and removes it from every group that lists it.
func (a *Adapter) Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.lookup(rt, id)
	if err != nil {
		return err
	}
	if err := a.checkVersion(rt, id, rec, ifMatch); err != nil {
		return err
	}
	a.unindex(rt, id, rec.res)
	delete(a.byType[rt.ID], id)
	// Groups that listed the deleted resource lose it: their members change,
	// so their version does too.
	now := a.timestamp()
	for gid := range a.memberOf[id] {
		g := a.byType[scim.GroupType.ID][gid]
		g.res["members"] = slices.DeleteFunc(members(g.res), func(m any) bool { return memberValue(m) == id })
		if len(members(g.res)) == 0 {
			delete(g.res, "members")
		}
		a.touch(g, now)
	}
	delete(a.memberOf, id)
	return nil
}

// table returns the records of rt, or a 404 for a type the store does not
// serve.
func (a *Adapter) table(rt *scim.ResourceType) (map[string]*record, error) {
	if rt == nil {
		return nil, scim.Errorf(http.StatusNotFound, "", "resource type not served")
	}
	tab, ok := a.byType[rt.ID]
	if !ok {
		return nil, scim.Errorf(http.StatusNotFound, "", "resource type %q not served", rt.ID)
	}
	return tab, nil
}

func (a *Adapter) lookup(rt *scim.ResourceType, id string) (*record, error) {
	tab, err := a.table(rt)
	if err != nil {
		return nil, err
	}
	rec, ok := tab[id]
	if !ok {
		return nil, scim.NotFound(rt.ID, id)
	}
	return rec, nil
}

// checkVersion enforces ifMatch when native. ifMatch is an If-Match value:
// "*", or one or more entity tags; weak and strong forms compare equal
// (RFC 7644 §3.14 uses weak tags with If-Match).
func (a *Adapter) checkVersion(rt *scim.ResourceType, id string, rec *record, ifMatch string) error {
	if !a.native || ifMatch == "" || etagMatches(ifMatch, etag(rec.version)) {
		return nil
	}
	return scim.PreconditionFailed(rt.ID, id)
}

// etagMatches reports whether the If-Match header value ifMatch matches the
// entity tag current: "*" matches any, a list matches when one member does,
// and the weak prefix W/ is ignored on both sides.
func etagMatches(ifMatch, current string) bool {
	cur := strings.TrimPrefix(strings.TrimSpace(current), "W/")
	for tag := range strings.SplitSeq(ifMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == cur {
			return true
		}
	}
	return false
}

// store writes r as the new attributes of rec (resource id), keeping id and
// meta.created, and bumps the version when something changed.
func (a *Adapter) store(rt *scim.ResourceType, id string, rec *record, r scim.Resource) error {
	attrs, err := a.normalize(rt, id, r)
	if err != nil {
		return err
	}
	attrs["id"] = id
	attrs["meta"] = rec.res["meta"]
	if reflect.DeepEqual(attrs, rec.res) {
		return nil
	}
	a.unindex(rt, id, rec.res)
	a.index(rt, id, attrs)
	rec.res = attrs
	a.touch(rec, a.timestamp())
	return nil
}

// touch bumps rec's version and lastModified.
func (a *Adapter) touch(rec *record, now string) {
	rec.version++
	meta := rec.res.Meta()
	meta["lastModified"] = now
	meta["version"] = etag(rec.version)
}

// normalize checks r and returns the attributes to store for resource id
// (empty when creating): without id, meta, read-only and derived attributes,
// with schemas recomputed and members reduced to value and type. It fails
// with 409 for a taken userName and 400 for a member that does not exist.
// The caller holds the write lock.
func (a *Adapter) normalize(rt *scim.ResourceType, id string, r scim.Resource) (scim.Resource, error) {
	attrs := r.Clone()
	if attrs == nil {
		attrs = scim.Resource{}
	}
	delete(attrs, "id")
	delete(attrs, "meta")
	delete(attrs, "schemas")
	schemas := []any{rt.Schema.ID}
	for _, ext := range rt.Extensions {
		m, ok := attrs[ext.ID].(map[string]any)
		if !ok || len(m) == 0 {
			delete(attrs, ext.ID)
			continue
		}
		schemas = append(schemas, ext.ID)
	}
	attrs["schemas"] = schemas

	switch rt.ID {
	case scim.UserType.ID:
		// groups is read-only and derived (RFC 7643 §4.1.2), and the store
		// keeps no password (see the package comment).
		delete(attrs, "groups")
		delete(attrs, "password")
		name, _ := attrs["userName"].(string)
		if strings.TrimSpace(name) == "" {
			return nil, scim.BadRequest(scim.InvalidValue, "userName is required")
		}
		if other, taken := a.userNames[foldName(name)]; taken && other != id {
			return nil, scim.Conflict("userName %q is already taken", name)
		}
		if ext, ok := attrs[scim.EnterpriseUserSchema].(map[string]any); ok {
			if m, ok := ext["manager"].(map[string]any); ok {
				delete(m, "displayName") // read-only; filled on read
			}
		}
	case scim.GroupType.ID:
		name, _ := attrs["displayName"].(string)
		if strings.TrimSpace(name) == "" {
			return nil, scim.BadRequest(scim.InvalidValue, "displayName is required")
		}
		ms, err := a.normalizeMembers(id, attrs["members"])
		if err != nil {
			return nil, err
		}
		if len(ms) == 0 {
			delete(attrs, "members")
		} else {
			attrs["members"] = ms
		}
	}
	return attrs, nil
}

// normalizeMembers checks every member of group gid exists and returns them
// as {value, type}, in the order given, without duplicates.
func (a *Adapter) normalizeMembers(gid string, v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidValue, "members must be an array")
	}
	out := make([]any, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, scim.BadRequest(scim.InvalidValue, "each member must be an object")
		}
		value, _ := m["value"].(string)
		if value == "" {
			return nil, scim.BadRequest(scim.InvalidValue, "member value is required")
		}
		if value == gid {
			return nil, scim.BadRequest(scim.InvalidValue, "a group cannot be a member of itself")
		}
		typ := ""
		switch {
		case a.byType[scim.UserType.ID][value] != nil:
			typ = scim.UserType.ID
		case a.byType[scim.GroupType.ID][value] != nil:
			typ = scim.GroupType.ID
		default:
			return nil, scim.BadRequest(scim.InvalidValue, "member %q does not exist", value)
		}
		if given, _ := m["type"].(string); given != "" && !strings.EqualFold(given, typ) {
			return nil, scim.BadRequest(scim.InvalidValue, "member %q is a %s, not a %s", value, typ, given)
		}
		if seen[value] {
			continue
		}
		seen[value] = true
		out = append(out, map[string]any{"value": value, "type": typ})
	}
	return out, nil
}

// index records the unique userName and the group memberships of res, the
// attributes of resource id.
func (a *Adapter) index(rt *scim.ResourceType, id string, res scim.Resource) {
	switch rt.ID {
	case scim.UserType.ID:
		name, _ := res["userName"].(string)
		a.userNames[foldName(name)] = id
	case scim.GroupType.ID:
		for _, m := range members(res) {
			v := memberValue(m)
			if a.memberOf[v] == nil {
				a.memberOf[v] = map[string]struct{}{}
			}
			a.memberOf[v][id] = struct{}{}
		}
	}
}

// unindex removes what index recorded for res, the attributes of resource id.
func (a *Adapter) unindex(rt *scim.ResourceType, id string, res scim.Resource) {
	switch rt.ID {
	case scim.UserType.ID:
		name, _ := res["userName"].(string)
		if a.userNames[foldName(name)] == id {
			delete(a.userNames, foldName(name))
		}
	case scim.GroupType.ID:
		for _, m := range members(res) {
			v := memberValue(m)
			delete(a.memberOf[v], id)
			if len(a.memberOf[v]) == 0 {
				delete(a.memberOf, v)
			}
		}
	}
}

// view returns the representation of rec a client sees: a deep copy with
// the derived attributes filled in. The caller holds the lock.
func (a *Adapter) view(rt *scim.ResourceType, rec *record) scim.Resource {
	v := rec.res.Clone()
	switch rt.ID {
	case scim.UserType.ID:
		if gs := a.groupsOf(v.ID()); len(gs) > 0 {
			v["groups"] = gs
		}
		if name := a.managerName(v); name != "" {
			v[scim.EnterpriseUserSchema].(map[string]any)["manager"].(map[string]any)["displayName"] = name
		}
	case scim.GroupType.ID:
		for _, m := range members(v) {
			mm := m.(map[string]any)
			typ, _ := mm["type"].(string)
			if target := a.byType[typ][memberValue(mm)]; target != nil {
				if d := displayOf(target.res); d != "" {
					mm["display"] = d
				}
			}
		}
	}
	return v
}

// managerName is the display name of the Enterprise manager of user u when
// the manager is a user of this store, else "".
func (a *Adapter) managerName(u scim.Resource) string {
	ext, _ := u[scim.EnterpriseUserSchema].(map[string]any)
	m, _ := ext["manager"].(map[string]any)
	mid, _ := m["value"].(string)
	if boss := a.byType[scim.UserType.ID][mid]; boss != nil && mid != "" {
		return displayOf(boss.res)
	}
	return ""
}

// derived reports whether filter e names an attribute the store derives on
// read (User.groups, the manager's displayName, Group members' display), so
// that List must match it against the full view rather than the stored
// attributes, which spares a deep copy per resource for every other filter.
func derived(e filter.Expr) bool {
	switch e := e.(type) {
	case *filter.Compare:
		return derivedAttr(e.Path)
	case *filter.ValuePath:
		return derivedAttr(e.Path)
	case *filter.And:
		return derived(e.Left) || derived(e.Right)
	case *filter.Or:
		return derived(e.Left) || derived(e.Right)
	case *filter.Not:
		return derived(e.X)
	}
	return true // an unknown node: be safe
}

func derivedAttr(p scim.Path) bool {
	switch {
	case strings.EqualFold(p.Attr, "groups"), strings.EqualFold(p.Attr, "members"):
		return true
	case strings.EqualFold(p.Attr, "manager"):
		return strings.EqualFold(p.URN, scim.EnterpriseUserSchema) || p.URN == ""
	}
	return false
}

// groupsOf returns User.groups for member id: its direct memberships, in the
// groups' creation order (RFC 7643 §4.1.2).
func (a *Adapter) groupsOf(id string) []any {
	gids := a.memberOf[id]
	if len(gids) == 0 {
		return nil
	}
	recs := make([]*record, 0, len(gids))
	for gid := range gids {
		recs = append(recs, a.byType[scim.GroupType.ID][gid])
	}
	slices.SortFunc(recs, func(x, y *record) int { return cmp.Compare(x.seq, y.seq) })
	out := make([]any, len(recs))
	for i, g := range recs {
		out[i] = map[string]any{"value": g.res.ID(), "display": displayOf(g.res), "type": "direct"}
	}
	return out
}

// displayOf is the display name of a member: displayName, else userName.
func displayOf(r scim.Resource) string {
	if d, _ := r["displayName"].(string); d != "" {
		return d
	}
	s, _ := r["userName"].(string)
	return s
}

func members(r scim.Resource) []any {
	ms, _ := r["members"].([]any)
	return ms
}

func memberValue(m any) string {
	mm, _ := m.(map[string]any)
	s, _ := mm["value"].(string)
	return s
}

// foldName is the key of the case-insensitive userName index.
func foldName(s string) string { return strings.ToLower(s) }

// timestamp formats the clock for meta dates: RFC 3339 in UTC with a fixed
// millisecond fraction, so that the text orders as the time does.
func (a *Adapter) timestamp() string {
	return a.now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func etag(n int) string { return `W/"` + strconv.Itoa(n) + `"` }

// newID returns a random version 4 UUID (RFC 9562 §5.4). crypto/rand.Read
// never fails: it crashes the program rather than return weak bytes.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
