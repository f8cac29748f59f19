// Package ringcentral is the adapter for RingCentral SCIM (VENDORS.md
// section 2), the minimal vendor: Users only, filters on userName or email
// with eq, PATCH with string values, and usage-plan rate limits with a
// penalty that restarts on every request made during it. The engine
// emulates the rest; this adapter keeps RingCentral's limits so that
// callers who can wait never see a 429.
package ringcentral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

const defaultPageSize = 100

// Adapter talks to one RingCentral account. It is safe for concurrent use.
//
// Reads and writes go through separate clients, one per usage group (Light
// and Heavy, VENDORS.md 2.10): each paces its requests to stay inside the
// group's window, and a 429 pauses every request of its group, and only
// that group, until the penalty has passed, since a request sent during it
// would restart it.
type Adapter struct {
	light, heavy *group
	limits       Limits
	tokens       outbound.TokenSource
	maxPage      int
	shortList    bool
	limiter      func(group string, r rate.Limit, burst int) outbound.Limiter
	log          *slog.Logger
}

// Option tunes an Adapter.
type Option func(*Adapter)

// WithLimits sets the usage-plan limits; zero fields keep the defaults.
func WithLimits(l Limits) Option { return func(a *Adapter) { a.limits = l.withDefaults() } }

// WithMaxPageSize sets the count sent on a list; 0 keeps 100.
func WithMaxPageSize(n int) Option {
	return func(a *Adapter) {
		if n > 0 {
			a.maxPage = n
		}
	}
}

// WithShortListItems reads every listed user by id, for accounts whose
// list results lack phoneNumbers and addresses.
func WithShortListItems() Option { return func(a *Adapter) { a.shortList = true } }

// WithLimiters makes each usage group's pacing a limit shared by the
// gateway's replicas: limiter returns the limit for group "light" or
// "heavy" at the rate and burst the group would pace itself at.
func WithLimiters(limiter func(group string, r rate.Limit, burst int) outbound.Limiter) Option {
	return func(a *Adapter) { a.limiter = limiter }
}

// WithLogger sets where vendor errors are logged.
func WithLogger(l *slog.Logger) Option { return func(a *Adapter) { a.log = l } }

// New returns an adapter for the account behind tokens at baseURL
// (https://platform.ringcentral.com, or a simulator), with the outbound
// clients tuned by client.
func New(baseURL string, tokens outbound.TokenSource, client []outbound.Option, opts ...Option) (*Adapter, error) {
	a := &Adapter{tokens: tokens, limits: defaultLimits, maxPage: defaultPageSize, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(a)
	}
	base := strings.TrimSuffix(baseURL, "/") + "/scim/v2"
	var err error
	if a.light, err = a.newGroup("light", base, tokens, a.limits.Light, client); err != nil {
		return nil, fmt.Errorf("ringcentral: %w", err)
	}
	if a.heavy, err = a.newGroup("heavy", base, tokens, a.limits.Heavy, client); err != nil {
		return nil, fmt.Errorf("ringcentral: %w", err)
	}
	return a, nil
}

// group is the client of one usage group: requests one at a time (a
// request in flight when a 429 comes back would arrive during the penalty
// and restart it), paced so that no sliding window holds more than the
// limit.
type group struct {
	c    *outbound.Client
	turn chan struct{} // holds a token while a request is in flight
	gap  time.Duration // the pacing interval
}

// jitter is how much closer together two requests may arrive at the vendor
// than they were sent (scheduling, the network); the pacing leaves room for
// it on top of 5% of the window.
const jitter = 25 * time.Millisecond

// newGroup builds the client of usage group name. A 429 without
// Retry-After waits 30 seconds (VENDORS.md 2.10). The pacing is shared by
// the replicas when a.limiter is set. The target's own client settings
// come last and win.
func (a *Adapter) newGroup(name, base string, tokens outbound.TokenSource, limit int, client []outbound.Option) (*group, error) {
	window := a.limits.Window
	gap := (window + window/20 + jitter) / time.Duration(limit)
	pace := outbound.WithRateLimit(rate.Every(gap), 1)
	if a.limiter != nil {
		pace = outbound.WithLimiter(a.limiter(name, rate.Every(gap), 1))
	}
	opts := append([]outbound.Option{
		pace,
		outbound.WithRetry(outbound.RetryPolicy{Wait429: 30 * time.Second}),
	}, client...)
	c, err := outbound.New(base, tokens, opts...)
	if err != nil {
		return nil, err
	}
	return &group{c: c, turn: make(chan struct{}, 1), gap: gap}, nil
}

// do sends req when it is the group's turn. A caller whose deadline comes
// first gets a 429 with the time a turn takes as Retry-After.
func (g *group) do(ctx context.Context, req outbound.Request) (*outbound.Response, error) {
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, &scim.Error{Status: http.StatusTooManyRequests, RetryAfter: max(1, int(g.gap.Seconds()+0.999)),
			Detail: "requests to RingCentral are queued under its rate limit; retry later", Err: ctx.Err()}
	}
	defer func() { <-g.turn }()
	return g.c.Do(ctx, req)
}

// Capabilities: Users only; userName eq and emails eq pushed down (one
// term: RingCentral has no and/or); PATCH sent natively when RingCentral
// takes it, emulated in the adapter otherwise; Bulk emulated by the engine
// and capped at one write window.
func (a *Adapter) Capabilities() adapters.Capabilities {
	return adapters.Capabilities{
		ResourceTypes: []*scim.ResourceType{UserType},
		Filter: map[string]adapters.FilterSupport{"User": {Ops: map[string][]filter.Op{
			scim.UserSchema + ":userName":     {filter.Eq},
			scim.UserSchema + ":emails.value": {filter.Eq},
		}}},
		MaxPageSize: a.maxPage,
		Patch:       true,
		BulkLimit:   a.limits.Heavy,
	}
}

// Get reads one user.
func (a *Adapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	resp, err := a.call(ctx, a.light, id, outbound.Request{Method: http.MethodGet, Path: "/Users/" + id, Op: "ringcentral.GetUser"})
	if err != nil {
		return nil, err
	}
	return fromVendor(resp.Body)
}

// List returns one page of users matching q.Filter, which the engine has
// cut down to one userName or emails equality.
func (a *Adapter) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	v := url.Values{
		"startIndex": {strconv.Itoa(max(q.StartIndex, 1))},
		"count":      {strconv.Itoa(min(max(q.Count, 1), a.maxPage))},
	}
	if q.Filter != nil {
		f, err := vendorFilter(q.Filter)
		if err != nil {
			return adapters.Page{}, err
		}
		v.Set("filter", f)
	}
	resp, err := a.call(ctx, a.light, "", outbound.Request{Method: http.MethodGet, Path: "/Users", Query: v, Op: "ringcentral.ListUsers"})
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
			return adapters.Page{}, badVendorBody("a list", errors.New("a null user"))
		}
		r := fromVendorMap(item)
		if a.shortList {
			if r, err = a.Get(ctx, rt, r.ID()); err != nil {
				return adapters.Page{}, err
			}
		}
		page.Resources = append(page.Resources, r)
	}
	return page, nil
}

// vendorFilter renders the one comparison RingCentral takes.
func vendorFilter(e filter.Expr) (string, error) {
	c, ok := e.(*filter.Compare)
	s, isString := c.Value.(string)
	if !ok || c.Op != filter.Eq || !isString {
		return "", fmt.Errorf("ringcentral: filter %s cannot be pushed down", e)
	}
	switch {
	case strings.EqualFold(c.Path.Attr, "userName"):
		return eq("userName", s), nil
	case strings.EqualFold(c.Path.Attr, "emails"):
		return eq("emails", s), nil
	}
	return "", fmt.Errorf("ringcentral: filter %s cannot be pushed down", e)
}

// eq is the filter `attr eq "value"`, in the filter package's rendering.
func eq(attr, value string) string {
	return (&filter.Compare{Path: scim.Path{Attr: attr}, Op: filter.Eq, Value: value}).String()
}

// Create posts r, never twice (adapters.CreateOnce): a POST whose outcome
// is unknown is followed by a lookup by userName.
func (a *Adapter) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	body, err := toVendor(r)
	if err != nil {
		return nil, err
	}
	req := outbound.Request{Method: http.MethodPost, Path: "/Users", Body: body, Op: "ringcentral.CreateUser"}
	return adapters.CreateOnce(ctx,
		func(ctx context.Context) (scim.Resource, error) {
			resp, err := a.call(ctx, a.heavy, "", req)
			if err != nil {
				return nil, err
			}
			return fromVendor(resp.Body)
		},
		func(ctx context.Context) (scim.Resource, error) { return a.findByUserName(ctx, r) })
}

// findByUserName returns the user with r's userName, or nil, nil.
func (a *Adapter) findByUserName(ctx context.Context, r scim.Resource) (scim.Resource, error) {
	name, _ := r["userName"].(string)
	f := &filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Eq, Value: name}
	page, err := a.List(ctx, UserType, adapters.Query{Filter: f, StartIndex: 1, Count: 1})
	if err != nil || len(page.Resources) == 0 {
		return nil, err
	}
	return page.Resources[0], nil
}

// Replace puts r in place of user id.
func (a *Adapter) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, _ string) (scim.Resource, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	body, err := toVendor(r)
	if err != nil {
		return nil, err
	}
	resp, err := a.call(ctx, a.heavy, id, outbound.Request{Method: http.MethodPut, Path: "/Users/" + id, Body: body, Op: "ringcentral.ReplaceUser"})
	if err != nil {
		return nil, err
	}
	return fromVendor(resp.Body)
}

// Delete deletes user id; RingCentral turns its extension back into an
// unassigned one (VENDORS.md 2.8).
func (a *Adapter) Delete(ctx context.Context, rt *scim.ResourceType, id string, _ string) error {
	if err := checkID(id); err != nil {
		return err
	}
	_, err := a.call(ctx, a.heavy, id, outbound.Request{Method: http.MethodDelete, Path: "/Users/" + id, Op: "ringcentral.DeleteUser"})
	return err
}

// call sends req through c and maps an error status to a *scim.Error. id
// names the user, for 404s.
func (a *Adapter) call(ctx context.Context, g *group, id string, req outbound.Request) (*outbound.Response, error) {
	req.Header = http.Header{"Accept": {"application/scim+json, application/json"}}
	if req.Body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := g.do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Status < 300 {
		return resp, nil
	}
	return nil, a.vendorError(ctx, req, resp, id)
}

// checkID refuses what cannot be a RingCentral id (a numeric string)
// before it reaches a path: such a user does not exist.
func checkID(id string) error {
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return scim.NotFound("User", id)
	}
	return nil
}

// Health checks that a token can be had and that RingCentral's SCIM health
// endpoint answers. It takes nothing from the usage groups' quotas (the
// endpoint is in none, VENDORS.md 2.3), so /readyz costs no user reads.
func (a *Adapter) Health(ctx context.Context) error {
	if _, err := a.tokens.Token(ctx); err != nil {
		return err
	}
	resp, err := a.light.c.Do(ctx, outbound.Request{Method: http.MethodGet, Path: "/health", Op: "ringcentral.Health"})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("ringcentral: health endpoint answered %d", resp.Status)
	}
	return nil
}
