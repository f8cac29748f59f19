// Package upstream adapts any SCIM 2.0 service provider (RFC 7643, RFC 7644)
// to the adapter contract: each operation is the same operation sent to the
// upstream through the shared outbound client, and what the upstream does
// natively is discovered from its /ServiceProviderConfig, /ResourceTypes and
// /Schemas, or declared in the target's settings.
package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// mediaType is the SCIM media type (RFC 7644 §3.1), sent as Content-Type
// and preferred in Accept.
const mediaType = "application/scim+json"

// accept also takes plain JSON, which some providers answer with.
const accept = mediaType + ", application/json;q=0.9"

// Adapter forwards every operation to one upstream SCIM service provider.
// It is safe for concurrent use.
type Adapter struct {
	c    *outbound.Client
	caps adapters.Capabilities
	// secrets are redacted from upstream details passed on, in case an
	// upstream echoes a credential it was sent.
	secrets []string
}

var (
	_ adapters.Adapter = (*Adapter)(nil)
	_ adapters.Patcher = (*Adapter)(nil)
)

// Option configures an Adapter built by New.
type Option func(*options)

type options struct {
	outbound []outbound.Option
	caps     *adapters.Capabilities
	secrets  []string
}

// WithOutboundOptions passes opts to the outbound client (HTTP client,
// retries, clock, logger); tests pass the loopback server's client. Nil
// options are ignored.
func WithOutboundOptions(opts ...outbound.Option) Option {
	return func(o *options) { o.outbound = append(o.outbound, opts...) }
}

// WithCapabilities declares what the upstream does, so that New does no
// discovery. Its resource types must have their Endpoint set.
func WithCapabilities(c adapters.Capabilities) Option {
	return func(o *options) { o.caps = &c }
}

// withSecrets names credentials that must never reach a caller.
func withSecrets(secrets ...string) Option {
	return func(o *options) {
		for _, s := range secrets {
			if s != "" {
				o.secrets = append(o.secrets, s)
			}
		}
	}
}

// New returns an Adapter for the SCIM service root at baseURL, authenticated
// by tokens. Unless WithCapabilities is given, it asks the upstream what it
// supports (see discover), and fails when the upstream cannot say: the error
// names the request that failed and how.
func New(ctx context.Context, baseURL string, tokens outbound.TokenSource, opts ...Option) (*Adapter, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	c, err := outbound.New(baseURL, tokens, o.outbound...)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	a := &Adapter{c: c, secrets: o.secrets}
	if o.caps != nil {
		a.caps = *o.caps
	} else if a.caps, err = a.discover(ctx); err != nil {
		return nil, fmt.Errorf("upstream: discovery at %s: %w", c.BaseURL(), err)
	}
	if len(a.caps.ResourceTypes) == 0 {
		return nil, errors.New("upstream: the upstream serves no resource type the gateway can describe")
	}
	return a, nil
}

// Capabilities returns what the upstream does natively, as discovered or
// declared when the adapter was built.
func (a *Adapter) Capabilities() adapters.Capabilities { return a.caps }

// resourcePath is the path of resource id of type rt. An id that cannot
// name a resource (empty, or a dot segment, which PathEscape keeps and a
// server would resolve to another path) is a 404 without a request.
func resourcePath(rt *scim.ResourceType, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", scim.NotFound(rt.ID, id)
	}
	return endpoint(rt) + "/" + url.PathEscape(id), nil
}

// endpoint returns rt's endpoint with one leading slash; RFC 7643 §6
// endpoints are relative ("/Users"), and some providers omit the slash.
func endpoint(rt *scim.ResourceType) string {
	return "/" + strings.TrimPrefix(rt.Endpoint, "/")
}

// Get returns resource id of type rt (GET /Users/{id}).
func (a *Adapter) Get(ctx context.Context, rt *scim.ResourceType, id string) (scim.Resource, error) {
	path, err := resourcePath(rt, id)
	if err != nil {
		return nil, err
	}
	resp, err := a.do(ctx, rt, "Get", http.MethodGet, path, nil, nil, "")
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, a.fail(rt, id, "get", resp)
	}
	return decodeResource(rt, "get", resp)
}

// List runs q as GET /Users?filter=...&sortBy=...&startIndex=...&count=...
// (RFC 7644 §3.4.2). Attribute paths of rt's core schema are sent without
// their URN, the form every provider understands.
func (a *Adapter) List(ctx context.Context, rt *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	v := url.Values{}
	if q.Filter != nil {
		v.Set("filter", unqualify(q.Filter, rt.Schema.ID).String())
	}
	if q.SortBy != (scim.Path{}) {
		v.Set("sortBy", unqualifyPath(q.SortBy, rt.Schema.ID).String())
		if q.Descending {
			v.Set("sortOrder", "descending")
		} else {
			v.Set("sortOrder", "ascending")
		}
	}
	if q.StartIndex > 0 {
		v.Set("startIndex", strconv.Itoa(q.StartIndex))
	}
	count := q.Count
	if limit := a.caps.MaxPageSize; limit > 0 && (count < 0 || count > limit) {
		count = limit // the declared limit, even if the upstream would serve more
	}
	if count >= 0 {
		v.Set("count", strconv.Itoa(count))
	}
	resp, err := a.do(ctx, rt, "List", http.MethodGet, endpoint(rt), v, nil, "")
	if err != nil {
		return adapters.Page{}, err
	}
	if resp.Status != http.StatusOK {
		return adapters.Page{}, a.fail(rt, "", "list", resp)
	}
	page, err := decodeList(rt, q, resp)
	if err == nil && count >= 0 && len(page.Resources) > count {
		page.Resources = page.Resources[:count]
	}
	return page, err
}

// Replace sends PUT /Users/{id} (RFC 7644 §3.5.1), with If-Match when
// ifMatch is set and the upstream supports ETags.
func (a *Adapter) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("upstream: replace %s: %w", rt.ID, err)
	}
	path, err := resourcePath(rt, id)
	if err != nil {
		return nil, err
	}
	resp, err := a.do(ctx, rt, "Replace", http.MethodPut, path, nil, body, ifMatch)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, a.fail(rt, id, "replace", resp)
	}
	return decodeResource(rt, "replace", resp)
}

// Patch sends PATCH /Users/{id} with a PatchOp body (RFC 7644 §3.5.2). An
// upstream that answers 204 No Content is asked for the resource after.
// A PATCH whose outcome is unknown is not sent again (adding to a
// multi-valued attribute twice is not the same as once): its error, a 502 or
// 504, is returned.
func (a *Adapter) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error) {
	body, err := json.Marshal(struct {
		Schemas    []string       `json:"schemas"`
		Operations []scim.PatchOp `json:"Operations"`
	}{[]string{scim.PatchOpSchema}, ops})
	if err != nil {
		return nil, fmt.Errorf("upstream: patch %s: %w", rt.ID, err)
	}
	path, err := resourcePath(rt, id)
	if err != nil {
		return nil, err
	}
	resp, err := a.do(ctx, rt, "Patch", http.MethodPatch, path, nil, body, ifMatch)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.Status == http.StatusNoContent,
		resp.Status == http.StatusOK && len(bytes.TrimSpace(resp.Body)) == 0:
		return a.Get(ctx, rt, id)
	case resp.Status != http.StatusOK:
		return nil, a.fail(rt, id, "patch", resp)
	}
	return decodeResource(rt, "patch", resp)
}

// Delete sends DELETE /Users/{id} (RFC 7644 §3.6), with If-Match when ifMatch
// is set and the upstream supports ETags. A 404 after the outbound client re-sent the request counts as
// success: an earlier attempt whose answer was lost may have deleted it.
func (a *Adapter) Delete(ctx context.Context, rt *scim.ResourceType, id string, ifMatch string) error {
	path, err := resourcePath(rt, id)
	if err != nil {
		return err
	}
	resp, err := a.do(ctx, rt, "Delete", http.MethodDelete, path, nil, nil, ifMatch)
	if err != nil {
		return err
	}
	switch {
	case resp.Status == http.StatusNoContent || resp.Status == http.StatusOK:
		return nil
	case resp.Status == http.StatusNotFound && resp.Attempts > 1:
		return nil
	}
	return a.fail(rt, id, "delete", resp)
}

// do sends one request through the outbound client. Its errors are already
// *scim.Error values (or an *outbound.OutcomeError carrying one); they get
// the operation as context.
func (a *Adapter) do(ctx context.Context, rt *scim.ResourceType, op, method, path string, q url.Values, body []byte, ifMatch string) (*outbound.Response, error) {
	h := http.Header{"Accept": {accept}}
	if body != nil {
		h.Set("Content-Type", mediaType)
	}
	// An upstream without ETags gets no If-Match: the engine has checked
	// the version itself, and such a server may refuse what it cannot
	// evaluate.
	if ifMatch != "" && a.caps.ETag {
		h.Set("If-Match", ifMatch)
	}
	resp, err := a.c.Do(ctx, outbound.Request{
		Method: method, Path: path, Query: q, Header: h, Body: body,
		Op: "upstream." + op + rt.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("upstream: %s %s: %w", strings.ToLower(op), rt.ID, err)
	}
	return resp, nil
}

// unqualify returns e with the URN of the core schema core dropped from its
// attribute paths; e itself is not modified.
func unqualify(e filter.Expr, core string) filter.Expr {
	switch x := e.(type) {
	case *filter.Compare:
		c := *x
		c.Path = unqualifyPath(x.Path, core)
		return &c
	case *filter.And:
		return &filter.And{Left: unqualify(x.Left, core), Right: unqualify(x.Right, core)}
	case *filter.Or:
		return &filter.Or{Left: unqualify(x.Left, core), Right: unqualify(x.Right, core)}
	case *filter.Not:
		return &filter.Not{X: unqualify(x.X, core)}
	case *filter.ValuePath:
		return &filter.ValuePath{Path: unqualifyPath(x.Path, core), Filter: unqualify(x.Filter, core)}
	}
	return e
}

func unqualifyPath(p scim.Path, core string) scim.Path {
	if strings.EqualFold(p.URN, core) {
		p.URN = ""
	}
	return p
}
