package api_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The gateway routes /{endpoint} for every resource type a target's adapter
// declares, not only Users and Groups: the upstream adapter serves whatever
// types its SCIM server advertises. No in-process backend declares another
// type, so the session's target "devices" is deviceStore, a minimal adapter
// with one resource type, Device. It does nothing natively (no filter, sort,
// ETag or PATCH), so the engine emulates all of it, as for a bare vendor.

const deviceURN = "urn:example:scim:schemas:2.0:Device"

var deviceType = &scim.ResourceType{
	ID: "Device", Name: "Device", Endpoint: "/Devices", Description: "A managed device",
	Schema: &scim.Schema{ID: deviceURN, Name: "Device", Description: "Device", Attributes: []*scim.Attribute{
		deviceAttr("serialNumber", scim.String, true),
		deviceAttr("displayName", scim.String, false),
		deviceAttr("enrolled", scim.Boolean, false),
	}},
}

func deviceAttr(name string, typ scim.Type, required bool) *scim.Attribute {
	return &scim.Attribute{Name: name, Type: typ, Required: required, Mutability: scim.ReadWrite,
		Returned: scim.ByDefault, Uniqueness: scim.UniqueNone}
}

// deviceStore keeps devices in memory, in creation order.
type deviceStore struct {
	mu       sync.Mutex
	seq      int
	order    []string
	devices  map[string]scim.Resource
	versions map[string]int
}

var _ adapters.Adapter = (*deviceStore)(nil)

func newDeviceStore() *deviceStore {
	return &deviceStore{devices: map[string]scim.Resource{}, versions: map[string]int{}}
}

func (s *deviceStore) Capabilities() adapters.Capabilities {
	return adapters.Capabilities{ResourceTypes: []*scim.ResourceType{deviceType}}
}

func (s *deviceStore) Get(_ context.Context, _ *scim.ResourceType, id string) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	if !ok {
		return nil, scim.NotFound(deviceType.ID, id)
	}
	return clone(d), nil
}

func (s *deviceStore) List(_ context.Context, _ *scim.ResourceType, q adapters.Query) (adapters.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	page := adapters.Page{TotalResults: len(s.order), Resources: []scim.Resource{}}
	for i := max(q.StartIndex, 1) - 1; i < len(s.order) && len(page.Resources) < q.Count; i++ {
		page.Resources = append(page.Resources, clone(s.devices[s.order[i]]))
	}
	return page, nil
}

func (s *deviceStore) Create(_ context.Context, _ *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := "dev-" + strconv.Itoa(s.seq)
	now := time.Now().UTC().Format(time.RFC3339)
	d := clone(r)
	d["id"] = id
	d["meta"] = map[string]any{"resourceType": deviceType.ID, "created": now, "lastModified": now, "version": `W/"1"`}
	s.devices[id], s.versions[id] = d, 1
	s.order = append(s.order, id)
	return clone(d), nil
}

func (s *deviceStore) Replace(_ context.Context, _ *scim.ResourceType, id string, r scim.Resource, _ string) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.devices[id]
	if !ok {
		return nil, scim.NotFound(deviceType.ID, id)
	}
	s.versions[id]++
	meta := maps.Clone(old.Meta())
	meta["version"] = `W/"` + strconv.Itoa(s.versions[id]) + `"`
	meta["lastModified"] = time.Now().UTC().Format(time.RFC3339)
	d := clone(r)
	d["id"], d["meta"] = id, meta
	s.devices[id] = d
	return clone(d), nil
}

func (s *deviceStore) Delete(_ context.Context, _ *scim.ResourceType, id string, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.devices[id]; !ok {
		return scim.NotFound(deviceType.ID, id)
	}
	delete(s.devices, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	return nil
}

// clone copies a resource deeply enough for this store: its values are
// strings, booleans and the meta map.
func clone(r scim.Resource) scim.Resource {
	c := maps.Clone(r)
	if m, ok := c["meta"].(map[string]any); ok {
		c["meta"] = maps.Clone(m)
	}
	if s, ok := c["schemas"].([]any); ok {
		c["schemas"] = slices.Clone(s)
	}
	return c
}
