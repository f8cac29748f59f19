package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// The defaults of Options.
const (
	DefaultTTL  = 5 * time.Minute
	DefaultHold = 5 * time.Second
)

// maxMarks bounds the entries one write invalidates one by one; a write
// that affects more (a group of thousands losing every member) starts a
// new generation instead, which invalidates the whole target at once.
const maxMarks = 256

// Options tune Wrap; zero values take the defaults noted.
type Options struct {
	// Target names the namespace of the entries: keys are
	// scimgw:v1:<target>:<type>:... Two decorators with the same Target
	// over one Store share entries, as the replicas of one target do.
	// It is also the target label of the decorator's spans and metrics;
	// empty, the target telemetry.TargetFrom finds in the request's context.
	Target string
	// TTL bounds how long an entry lives, and so how long a change made
	// behind the gateway's back (in the vendor's console) can go unseen.
	// Default DefaultTTL.
	TTL time.Duration
	// Hold is how long a write keeps the entries it invalidated from being
	// filled again by reads that may have started before it. A read whose
	// vendor call took longer than Hold/2 fills nothing. Default
	// DefaultHold.
	Hold time.Duration
}

// Stats counts what a decorator did since Wrap, for metrics.
type Stats struct {
	Hits        uint64 // answered from the store
	Misses      uint64 // went to the vendor
	Bypassed    uint64 // went to the vendor without asking the store (store failing)
	StoreErrors uint64 // store calls that failed
	Generations uint64 // whole-target invalidations started
}

// Adapter is the caching decorator Wrap returns; see Wrap. It is safe for
// concurrent use.
type Adapter struct {
	inner   adapters.Adapter
	patcher adapters.Patcher // nil when inner does not patch natively
	bulker  adapters.Bulker  // nil when inner does not run Bulk natively
	store   Store
	ttl     time.Duration
	hold    time.Duration
	target  string // Options.Target, for telemetry
	prefix  string // scimgw:v1:<target>:
	flight  singleflight.Group

	// dirty is set when an invalidation could not be written: until a new
	// generation is written, nothing is read from the store.
	dirty atomic.Bool

	hits, misses, bypassed, storeErrors, generations atomic.Uint64
}

// checked is the decorator over an adapter that implements
// adapters.HealthChecker: the only optional interface that cannot be
// masked by Capabilities, since the gateway reports a target without it as
// "unchecked".
type checked struct {
	*Adapter
	hc adapters.HealthChecker
}

// Health forwards to the wrapped adapter's check.
func (c *checked) Health(ctx context.Context) error { return c.hc.Health(ctx) }

var (
	_ adapters.Adapter       = (*Adapter)(nil)
	_ adapters.Patcher       = (*Adapter)(nil)
	_ adapters.Bulker        = (*Adapter)(nil)
	_ adapters.HealthChecker = (*checked)(nil)
)

// Wrap returns a with reads cached in s:
//   - Get by id, for every resource type (a group with its members, a user
//     with its groups);
//   - List whose filter is exactly `userName eq "..."` or `externalId eq
//     "..."` (Users) or `displayName eq "..."` or `externalId eq "..."`
//     (Groups), the lookup identity providers make before every create. It
//     is answered from an index of value → id, only when the vendor once
//     found exactly one match, and only after the resource read by id
//     still matches the filter. A lookup that finds nothing is never
//     cached, so a create through any replica is seen by the next lookup.
//
// Every write through the returned adapter invalidates, before it returns,
// every entry it affects: the resource, its index values, the users a group
// write adds or removes (their groups), and, when the effect cannot be
// bounded (a rename that other resources display, a delete, a write whose
// outcome is unknown), every entry of the target at once, by starting a new
// generation. Concurrent misses of one key make one vendor call. Values are
// decoded afresh for each caller, who owns them.
//
// When s fails, requests go to a, and a write whose invalidation could not
// be written keeps the decorator from reading s until it has started a new
// generation there.
//
// Each Get, and each List the index answers, is one lookup: counted in
// scim_gateway_cache_requests_total with its result (hit, miss, or error when
// the store failed and the vendor answered) and, within a recorded trace, a
// cache.Get or cache.Lookup span around it (and around the vendor call of a
// miss). A write's invalidation is a cache.Invalidate span.
//
// The result implements adapters.Patcher and adapters.Bulker, and declares
// them in Capabilities only when a does; it implements
// adapters.HealthChecker only when a does.
func Wrap(a adapters.Adapter, s Store, opts Options) adapters.Adapter {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Hold <= 0 {
		opts.Hold = DefaultHold
	}
	c := &Adapter{inner: a, store: s, ttl: opts.TTL, hold: opts.Hold, target: opts.Target, prefix: "scimgw:v1:" + escapeKey(opts.Target) + ":"}
	c.patcher, _ = a.(adapters.Patcher)
	c.bulker, _ = a.(adapters.Bulker)
	if hc, ok := a.(adapters.HealthChecker); ok {
		return &checked{Adapter: c, hc: hc}
	}
	return c
}

// StatsOf returns the counters of a, when a was made by Wrap.
func StatsOf(a adapters.Adapter) (Stats, bool) {
	var c *Adapter
	switch a := a.(type) {
	case *Adapter:
		c = a
	case *checked:
		c = a.Adapter
	default:
		return Stats{}, false
	}
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Bypassed: c.bypassed.Load(),
		StoreErrors: c.storeErrors.Load(), Generations: c.generations.Load(),
	}, true
}

// Unwrap returns the adapter c decorates.
func (c *Adapter) Unwrap() adapters.Adapter { return c.inner }

// Capabilities returns the wrapped adapter's, without Patch and Bulk when
// it does not implement Patcher or Bulker (the engine then emulates them,
// as it would have).
func (c *Adapter) Capabilities() adapters.Capabilities {
	caps := c.inner.Capabilities()
	if c.patcher == nil {
		caps.Patch = false
	}
	if c.bulker == nil {
		caps.BulkMaxOperations = 0
	}
	return caps
}

// errNotNative is returned by Patch or Bulk when the wrapped adapter lacks
// them; Capabilities did not declare them, so calling them is a bug.
var errNotNative = errors.New("cache: capability used although not declared")

// ---- keys and values ----

// The layout of keys: scimgw:v1:<target>:gen holds the target's current
// generation; scimgw:v1:<target>:<type>:id:<id> a resource;
// scimgw:v1:<target>:<type>:<attr>:<value> an index entry. "v1" names the
// value format below, so that a format change reads no old entry.
//
// A value is "<generation>\n<payload>" (payload: the resource's JSON, or an
// id); an entry of another generation is stale. "~<token>" marks a key
// invalidated by a write, for Hold.
const (
	markPrefix = "~"
	genSep     = '\n'
)

var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

func escapeKey(s string) string { return keyEscaper.Replace(s) }

func (c *Adapter) genKey() string { return c.prefix + "gen" }

func (c *Adapter) idKey(rtID, id string) string { return c.prefix + escapeKey(rtID) + ":id:" + id }

func (c *Adapter) indexKey(rtID, attr, value string) string {
	return c.prefix + escapeKey(rtID) + ":" + attr + ":" + value
}

// slot is what one key held, as read against the current generation.
type slot struct {
	payload []byte // the payload of an entry of the current generation
	ok      bool
	mark    string // the token of an invalidation mark, or ""
}

func decodeSlot(b []byte, gen string) slot {
	if b == nil {
		return slot{}
	}
	s := string(b)
	if strings.HasPrefix(s, markPrefix) {
		return slot{mark: s}
	}
	if len(b) > len(gen) && string(b[:len(gen)]) == gen && b[len(gen)] == genSep {
		return slot{payload: b[len(gen)+1:], ok: true}
	}
	return slot{} // another generation: stale
}

func encodeEntry(gen string, payload []byte) []byte {
	b := make([]byte, 0, len(gen)+1+len(payload))
	b = append(b, gen...)
	b = append(b, genSep)
	return append(b, payload...)
}

// token returns 16 random hex digits. crypto/rand.Read never fails.
func token() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ---- telemetry ----

// The decorator's own span attributes (besides telemetry's) and lookup span.
const (
	attrCacheIndex  = "cache.index"          // cache.Lookup: the indexed attribute, e.g. userName
	attrCacheMarks  = "cache.marks"          // cache.Invalidate: entries marked one by one
	attrCacheNewGen = "cache.new_generation" // cache.Invalidate: every entry of the target at once
	opLookup        = "Lookup"               // the span cache.Lookup: a List the index answers
)

// outcome is how a lookup was answered, for its span and metric.
type outcome struct {
	result   telemetry.CacheResult
	storeErr error // the store's failure, when result is CacheError
}

var (
	hit  = outcome{result: telemetry.CacheHit}
	miss = outcome{result: telemetry.CacheMiss}
)

func storeFailed(err error) outcome { return outcome{result: telemetry.CacheError, storeErr: err} }

// observation is one lookup's telemetry: done is StartCache's, or nil when
// the lookup is only counted.
type observation struct {
	target string
	done   func(telemetry.CacheResult, error)
}

// targetOf is the target label: Options.Target, else the request's.
func (c *Adapter) targetOf(ctx context.Context) string {
	if c.target != "" {
		return c.target
	}
	return telemetry.TargetFrom(ctx)
}

// observe starts the telemetry of a lookup named op. The span is made only
// within a recorded trace: a parent-based sampler would drop it otherwise,
// and skipping it keeps an untraced lookup free of allocations.
func (c *Adapter) observe(ctx context.Context, op string) (context.Context, observation) {
	o := observation{target: c.targetOf(ctx)}
	if trace.SpanFromContext(ctx).IsRecording() {
		ctx, o.done = telemetry.StartCache(ctx, op, o.target)
	}
	return ctx, o
}

// end records the lookup's outcome; err is what the caller gets, which
// marks the span only when the store did not fail first.
func (o observation) end(ctx context.Context, out outcome, err error) {
	if out.result == telemetry.CacheError {
		err = out.storeErr
	}
	if o.done != nil {
		o.done(out.result, err)
		return
	}
	telemetry.RecordCacheLookup(ctx, o.target, out.result)
}

// ---- reading ----

// usable returns nil when the store may be read for this request: after a
// failed invalidation it may not, until a new generation has been written,
// and the error is the store's failure to write it.
func (c *Adapter) usable(ctx context.Context) error {
	if !c.dirty.Load() {
		return nil
	}
	if err := c.newGeneration(ctx); err != nil {
		c.bypassed.Add(1)
		return err
	}
	c.dirty.Store(false)
	return nil
}

// read returns what keys hold and the current generation, starting one
// when the target has none (first use, or the store lost it).
func (c *Adapter) read(ctx context.Context, keys ...string) ([]slot, string, error) {
	vals, err := c.store.Get(ctx, append(keys, c.genKey())...)
	if err != nil {
		return nil, "", c.storeErr(err)
	}
	gen := string(vals[len(keys)])
	if gen == "" {
		fresh := token()
		added, err := c.store.Add(ctx, c.genKey(), []byte(fresh), 0)
		if err != nil {
			return nil, "", c.storeErr(err)
		}
		if added {
			// A new generation: nothing stored before it is current.
			return make([]slot, len(keys)), fresh, nil
		}
		return c.read(ctx, keys...) // another replica started one first
	}
	slots := make([]slot, len(keys))
	for i, v := range vals[:len(keys)] {
		slots[i] = decodeSlot(v, gen)
	}
	return slots, gen, nil
}

func (c *Adapter) storeErr(err error) error {
	c.storeErrors.Add(1)
	return fmt.Errorf("cache: %w", err)
}

// fill stores payload under key for the generation read before the vendor
// call that started at start, unless the key was invalidated since, holds
// a current entry, or the call took so long that a write's mark may have
// lapsed.
func (c *Adapter) fill(ctx context.Context, key, gen string, payload []byte, start time.Time) {
	if time.Since(start) > c.hold/2 {
		return
	}
	// Keep marks (a write happened) and current entries; replace stale ones.
	if _, err := c.store.Add(ctx, key, encodeEntry(gen, payload), c.ttl, []byte(markPrefix), []byte(gen+string(genSep))); err != nil {
		_ = c.storeErr(err)
	}
}

// shared runs fn once for concurrent callers with the same flight key. A
// caller whose own context is alive does not inherit another caller's
// cancellation: it calls fn itself.
func (c *Adapter) shared(ctx context.Context, key string, fn func(ctx context.Context) (any, error)) (any, error) {
	v, err, shared := c.flight.Do(key, func() (any, error) { return fn(ctx) })
	if err != nil && shared && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fn(ctx)
	}
	return v, err
}

// Get returns resource id from the store, or from the wrapped adapter
// (once for concurrent callers), filling the store.
func (c *Adapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	ctx, o := c.observe(ctx, "Get")
	r, out, err := c.get(ctx, rt, id)
	o.end(ctx, out, err)
	return r, err
}

func (c *Adapter) get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, outcome, error) {
	if err := c.usable(ctx); err != nil {
		r, verr := c.inner.Get(ctx, rt, id)
		return r, storeFailed(err), verr
	}
	key := c.idKey(rt.ID, id)
	slots, gen, err := c.read(ctx, key)
	if err != nil {
		c.bypassed.Add(1)
		r, verr := c.inner.Get(ctx, rt, id)
		return r, storeFailed(err), verr
	}
	if r, ok := decodeResource(slots[0]); ok {
		c.hits.Add(1)
		return r, hit, nil
	}
	c.misses.Add(1)
	// The flight key holds what the store showed: a read that saw a
	// write's mark or a new generation does not join a vendor call that
	// may have started before that write.
	v, err := c.shared(ctx, "get\x00"+key+"\x00"+gen+"\x00"+slots[0].mark, func(ctx context.Context) (any, error) {
		start := time.Now()
		r, err := c.inner.Get(ctx, rt, id)
		if err != nil {
			return nil, err
		}
		if b, err := json.Marshal(r); err == nil {
			c.fill(ctx, key, gen, b, start)
		}
		return r, nil
	})
	if err != nil {
		return nil, miss, err
	}
	return v.(scim.Resource).Clone(), miss, nil
}

func decodeResource(s slot) (scim.Resource, bool) {
	if !s.ok {
		return nil, false
	}
	var r scim.Resource
	if err := json.Unmarshal(s.payload, &r); err != nil || r == nil {
		return nil, false
	}
	return r, true
}

// indexAttrs are the attributes whose `eq` lookups the index answers, per
// resource type: those identity providers look up before a create.
var indexAttrs = map[string][]string{
	scim.UserType.ID:  {"userName", "externalId"},
	scim.GroupType.ID: {"displayName", "externalId"},
}

// lookup returns the index key that filter f asks for and the indexed
// attribute, when f is exactly `attr eq "value"` on an indexed core
// attribute of rt.
func (c *Adapter) lookup(rt *scim.ResourceType, f filter.Expr) (key, attr string, ok bool) {
	cmp, ok := f.(*filter.Compare)
	if !ok || cmp.Op != filter.Eq || cmp.Path.Sub != "" || (cmp.Path.URN != "" && cmp.Path.URN != rt.Schema.ID) {
		return "", "", false
	}
	value, ok := cmp.Value.(string)
	if !ok {
		return "", "", false
	}
	for _, name := range indexAttrs[rt.ID] {
		if strings.EqualFold(cmp.Path.Attr, name) {
			return c.indexKey(rt.ID, name, indexValue(rt, name, value)), name, true
		}
	}
	return "", "", false
}

// indexValue folds value when attr compares case-insensitively (userName,
// displayName: RFC 7643 §4.1.1, §4.2), so that one key serves every case.
func indexValue(rt *scim.ResourceType, attr, value string) string {
	if a := rt.Schema.Attr(attr); a == nil || !a.CaseExact {
		return strings.ToLower(value)
	}
	return value
}

// List answers an index lookup (see Wrap) from the store when it can, and
// otherwise asks the wrapped adapter, recording a single match in the
// index.
func (c *Adapter) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	key, attr, ok := c.lookup(rt, q.Filter)
	if !ok {
		return c.inner.List(ctx, rt, q)
	}
	ctx, o := c.observe(ctx, opLookup)
	if o.done != nil {
		trace.SpanFromContext(ctx).SetAttributes(attribute.String(attrCacheIndex, attr))
	}
	page, out, err := c.list(ctx, rt, q, key)
	o.end(ctx, out, err)
	return page, err
}

// list answers an index lookup of key. Its outcome is a hit only when the
// store answered both the index and the resource.
func (c *Adapter) list(ctx context.Context, rt *scim.ResourceType, q adapters.Query, key string) (adapters.Page, outcome, error) {
	if err := c.usable(ctx); err != nil {
		page, verr := c.inner.List(ctx, rt, q)
		return page, storeFailed(err), verr
	}
	slots, gen, err := c.read(ctx, key)
	if err != nil {
		c.bypassed.Add(1)
		page, verr := c.inner.List(ctx, rt, q)
		return page, storeFailed(err), verr
	}
	out := miss
	if s := slots[0]; s.ok {
		// The index names a candidate; the answer is the resource as read
		// by id (from the store or the vendor), and only if it still
		// matches: a rename leaves the old value's entry behind.
		r, got, err := c.get(ctx, rt, string(s.payload))
		if err == nil && filter.Match(q.Filter, r, rt) {
			page := adapters.Page{TotalResults: 1}
			if max(q.StartIndex, 1) == 1 && q.Count != 0 {
				page.Resources = []scim.Resource{r}
			}
			return page, got, nil
		}
		// Otherwise (no longer matches, gone, or the read failed) the
		// vendor's List decides, as it would without the cache.
		if got.result == telemetry.CacheError {
			out = got
		}
	}
	c.misses.Add(1)
	fk := fmt.Sprintf("list\x00%s\x00%s\x00%d\x00%d\x00%s\x00%t\x00%s\x00%s", rt.ID, q.Filter, q.StartIndex, q.Count, q.SortBy, q.Descending, gen, slots[0].mark)
	v, err := c.shared(ctx, fk, func(ctx context.Context) (any, error) {
		start := time.Now()
		page, err := c.inner.List(ctx, rt, q)
		if err != nil {
			return nil, err
		}
		// One match, seen whole: record it. No match is never recorded.
		if page.TotalResults == 1 && len(page.Resources) == 1 && page.Resources[0].ID() != "" {
			c.fill(ctx, key, gen, []byte(page.Resources[0].ID()), start)
		}
		return page, nil
	})
	if err != nil {
		return adapters.Page{}, out, err
	}
	page := v.(adapters.Page)
	res := adapters.Page{TotalResults: page.TotalResults, Resources: make([]scim.Resource, len(page.Resources))}
	for i, r := range page.Resources {
		res.Resources[i] = r.Clone()
	}
	if page.Resources == nil {
		res.Resources = nil
	}
	return res, out, nil
}

// peek returns resource id as the store holds it, without asking the
// vendor; nil when the store has no current entry.
func (c *Adapter) peek(ctx context.Context, rt *scim.ResourceType, id string) scim.Resource {
	if c.dirty.Load() {
		return nil
	}
	slots, _, err := c.read(ctx, c.idKey(rt.ID, id))
	if err != nil {
		return nil
	}
	r, _ := decodeResource(slots[0])
	return r
}

// ---- writing ----

// Create creates r and invalidates its index values and, for a group, its
// members' entries.
func (c *Adapter) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	out, err := c.inner.Create(ctx, rt, r)
	e := effects{c: c, rt: rt}
	if err != nil {
		e.failed(err, "", r)
	} else {
		e.created(out, r)
	}
	e.apply(ctx)
	return out, err
}

// Replace replaces resource id and invalidates what it affects.
func (c *Adapter) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error) {
	before := c.peek(ctx, rt, id)
	out, err := c.inner.Replace(ctx, rt, id, r, ifMatch)
	e := effects{c: c, rt: rt}
	if err != nil {
		e.failed(err, id, r)
	} else {
		e.changed(id, before, out, nil)
	}
	e.apply(ctx)
	return out, err
}

// Patch patches resource id natively and invalidates what it affects.
func (c *Adapter) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error) {
	if c.patcher == nil {
		return nil, fmt.Errorf("patch %s: %w", rt.ID, errNotNative)
	}
	p := analyzePatch(rt, ops)
	var before scim.Resource
	if !p.complete {
		before = c.peek(ctx, rt, id)
	}
	out, err := c.patcher.Patch(ctx, rt, id, ops, ifMatch)
	if errors.Is(err, adapters.ErrPatchNotNative) {
		return nil, err // nothing was sent; the engine emulates through Get and Replace
	}
	e := effects{c: c, rt: rt}
	if err != nil {
		e.failed(err, id, nil)
	} else {
		e.changed(id, before, out, &p)
	}
	e.apply(ctx)
	return out, err
}

// Delete deletes resource id. Other resources may display it (a group its
// member, a user its manager), so a delete starts a new generation.
func (c *Adapter) Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error {
	err := c.inner.Delete(ctx, rt, id, ifMatch)
	e := effects{c: c, rt: rt}
	if err != nil {
		e.failed(err, id, nil)
	} else {
		e.mark(rt.ID, id)
		e.everything = true
	}
	e.apply(ctx)
	return err
}

// Bulk runs ops natively and invalidates what they affect. A result holds
// at least the id and version, not the whole resource, so a PATCH or
// DELETE that ran starts a new generation.
func (c *Adapter) Bulk(ctx context.Context, ops []adapters.BulkOp, failOnErrors int) ([]adapters.BulkResult, error) {
	if c.bulker == nil {
		return nil, fmt.Errorf("bulk: %w", errNotNative)
	}
	results, err := c.bulker.Bulk(ctx, ops, failOnErrors)
	e := effects{c: c}
	if err != nil || len(results) != len(ops) {
		e.everything = true
	} else {
		for i, op := range ops {
			res := results[i]
			e.rt = op.Type
			switch {
			case res.Skipped:
			case res.Err != nil:
				e.failed(res.Err, op.ID, op.Resource)
			case op.Method == http.MethodPost:
				after := op.Resource.Clone()
				if after == nil {
					after = scim.Resource{}
				}
				for k, v := range res.Resource {
					after[k] = v
				}
				e.created(after, op.Resource)
			default:
				e.mark(op.Type.ID, op.ID)
				e.everything = true
			}
		}
	}
	e.apply(ctx)
	return results, err
}

// effects gathers what a write invalidates: keys to mark, or everything.
type effects struct {
	c          *Adapter
	rt         *scim.ResourceType
	keys       []string
	everything bool // start a new generation
}

func (e *effects) mark(rtID, id string) {
	if id != "" {
		e.keys = append(e.keys, e.c.idKey(rtID, id))
	}
}

// index marks the index entries of r's values that other resources may
// share. A unique value (userName) needs no mark: whatever its entry names,
// a lookup answers only after the resource read by id matches, and no
// other resource can match too.
func (e *effects) index(r scim.Resource) {
	for _, name := range indexAttrs[e.rt.ID] {
		if a := e.rt.Schema.Attr(name); a != nil && a.Uniqueness == scim.UniqueServer {
			continue
		}
		if v, ok := r.Get(scim.Path{Attr: name}); ok {
			if s, ok := v.(string); ok && s != "" {
				e.keys = append(e.keys, e.c.indexKey(e.rt.ID, name, indexValue(e.rt, name, s)))
			}
		}
	}
}

// member marks the entry of a group member whose type is typ ("User",
// "Group", or "" when unknown: both are marked).
func (e *effects) member(id, typ string) {
	switch {
	case strings.EqualFold(typ, scim.UserType.ID):
		e.mark(scim.UserType.ID, id)
	case strings.EqualFold(typ, scim.GroupType.ID):
		e.mark(scim.GroupType.ID, id)
	default:
		e.mark(scim.UserType.ID, id)
		e.mark(scim.GroupType.ID, id)
	}
}

// failed handles a write that returned err. A client error (4xx but 408)
// changed nothing, but the entry may be what led the caller astray (a
// stale version, a 404): it is marked. Otherwise the write may have
// happened, with effects unknown.
func (e *effects) failed(err error, id string, input scim.Resource) {
	var se *scim.Error
	if errors.As(err, &se) && se.Status >= 400 && se.Status < 500 && se.Status != http.StatusRequestTimeout {
		e.mark(e.rt.ID, id)
		return
	}
	e.mark(e.rt.ID, id)
	if input != nil {
		e.index(input)
	}
	e.everything = true
}

// created handles a create whose result is after (input: what was sent).
// The new id needs no mark: no read can have found it before it existed,
// and a 404 is never stored.
func (e *effects) created(after, input scim.Resource) {
	e.index(after)
	if input != nil {
		e.index(input)
	}
	if e.rt.ID == scim.GroupType.ID {
		for _, m := range members(after) {
			e.member(m.value, m.typ)
			if strings.EqualFold(m.typ, scim.GroupType.ID) || m.typ == "" {
				e.everything = true // nested: indirect memberships change
			}
		}
	}
}

// changed handles a replace or patch of resource id: before is the
// resource as the store held it (nil: unknown), after the result, p the
// patch when it was one.
func (e *effects) changed(id string, before, after scim.Resource, p *patchEffects) {
	e.mark(e.rt.ID, id)
	e.index(after)
	if before != nil {
		e.index(before)
	}
	switch e.rt.ID {
	case scim.UserType.ID:
		// Groups show their members' names, and users their manager's: a
		// user's new name reaches resources the write does not list.
		if p != nil && p.complete {
			return // the patch touched no name
		}
		if before == nil || display(before) != display(after) {
			e.everything = true
		}
	case scim.GroupType.ID:
		now := members(after)
		for _, m := range now {
			if strings.EqualFold(m.typ, scim.GroupType.ID) || m.typ == "" {
				e.everything = true // nested: indirect memberships change
			}
		}
		switch {
		case p != nil && p.complete:
			for _, id := range p.members {
				e.member(id, "")
			}
		case before == nil:
			e.everything = true
		default:
			if display(before) != display(after) {
				e.everything = true // members show their groups' names
			}
			was := make(map[string]string)
			for _, m := range members(before) {
				was[m.value] = m.typ
			}
			for _, m := range now {
				if _, ok := was[m.value]; ok {
					delete(was, m.value)
					continue
				}
				e.member(m.value, m.typ) // added
			}
			for id, typ := range was {
				e.member(id, typ) // removed
			}
		}
	}
}

// apply writes the marks, or a new generation, within a cache.Invalidate
// span when the write's trace is recorded. A failure leaves the decorator
// dirty: it reads nothing from the store until a new generation is
// written. The write has happened, so a client that goes away does not
// cancel its invalidation.
func (e *effects) apply(ctx context.Context) {
	gen := e.everything || len(e.keys) > maxMarks
	if !gen && len(e.keys) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if !trace.SpanFromContext(ctx).IsRecording() {
		e.write(ctx, gen)
		return
	}
	marks := len(e.keys)
	if gen {
		marks = 0
	}
	ctx, span := telemetry.Start(ctx, "cache.Invalidate",
		attribute.String(telemetry.AttrSCIMTarget, e.c.targetOf(ctx)),
		attribute.Bool(attrCacheNewGen, gen), attribute.Int(attrCacheMarks, marks))
	telemetry.End(span, e.write(ctx, gen))
}

func (e *effects) write(ctx context.Context, gen bool) error {
	c := e.c
	if gen {
		err := c.newGeneration(ctx)
		if err != nil {
			c.dirty.Store(true)
		}
		return err
	}
	m := []byte(markPrefix + token())
	entries := make([]Entry, len(e.keys))
	for i, k := range e.keys {
		entries[i] = Entry{Key: k, Value: m}
	}
	if err := c.store.Set(ctx, c.hold, entries...); err != nil {
		c.dirty.Store(true)
		return c.storeErr(err)
	}
	return nil
}

// newGeneration makes every entry of the target stale at once.
func (c *Adapter) newGeneration(ctx context.Context) error {
	if err := c.store.Set(context.WithoutCancel(ctx), 0, Entry{Key: c.genKey(), Value: []byte(token())}); err != nil {
		return c.storeErr(err)
	}
	c.generations.Add(1)
	return nil
}

// display is the name other resources show for r: its displayName, else
// its userName (a group member's display, a manager's displayName).
func display(r scim.Resource) string {
	d, _ := r["displayName"].(string)
	u, _ := r["userName"].(string)
	return d + "\x00" + u
}

type member struct{ value, typ string }

// members returns the members of group r.
func members(r scim.Resource) []member {
	list, _ := r["members"].([]any)
	out := make([]member, 0, len(list))
	for _, m := range list {
		mm, _ := m.(map[string]any)
		v, _ := mm["value"].(string)
		t, _ := mm["type"].(string)
		if v != "" {
			out = append(out, member{v, t})
		}
	}
	return out
}
