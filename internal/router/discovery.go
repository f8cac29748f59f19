package router

import (
	"net/http"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The discovery documents of RFC 7644 §4, per target. They are built from
// the target's engine on each request: its options (page and Bulk limits)
// and its resource types (with their schemas), so that a config reload that
// swaps the engine is seen at once, and a target without Groups advertises
// none.

// discoveryMeta is the meta of a discovery resource (RFC 7643 §5, §6, §7).
type discoveryMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

type supported struct {
	Supported bool `json:"supported"`
}

type bulkSupport struct {
	Supported      bool  `json:"supported"`
	MaxOperations  int   `json:"maxOperations"`
	MaxPayloadSize int64 `json:"maxPayloadSize"`
}

type filterSupport struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authenticationScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SpecURI     string `json:"specUri,omitempty"`
	Primary     bool   `json:"primary,omitempty"`
}

// serviceProviderConfigDoc is RFC 7643 §5.
type serviceProviderConfigDoc struct {
	Schemas               []string               `json:"schemas"`
	Patch                 supported              `json:"patch"`
	Bulk                  bulkSupport            `json:"bulk"`
	Filter                filterSupport          `json:"filter"`
	ChangePassword        supported              `json:"changePassword"`
	Sort                  supported              `json:"sort"`
	ETag                  supported              `json:"etag"`
	AuthenticationSchemes []authenticationScheme `json:"authenticationSchemes"`
	Meta                  discoveryMeta          `json:"meta"`
}

// resourceTypeDoc is RFC 7643 §6.
type resourceTypeDoc struct {
	Schemas          []string               `json:"schemas"`
	ID               string                 `json:"id"`
	Name             string                 `json:"name"`
	Endpoint         string                 `json:"endpoint"`
	Description      string                 `json:"description,omitempty"`
	Schema           string                 `json:"schema"`
	SchemaExtensions []scim.SchemaExtension `json:"schemaExtensions,omitempty"`
	Meta             discoveryMeta          `json:"meta"`
}

// schemaDoc is RFC 7643 §7: the definition with its schemas and meta.
type schemaDoc struct {
	Schemas []string `json:"schemas"`
	*scim.Schema
	Meta discoveryMeta `json:"meta"`
}

// discoveryList is the ListResponse of /ResourceTypes and /Schemas (RFC 7644 §4).
type discoveryList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func newDiscoveryList(docs []any) discoveryList {
	return discoveryList{
		Schemas:      []string{scim.ListResponseSchema},
		TotalResults: len(docs),
		StartIndex:   1,
		ItemsPerPage: len(docs),
		Resources:    docs,
	}
}

// refuseFilter implements RFC 7644 §4: discovery ignores the query
// parameters of §3.4.2, but a filter is refused with 403 "to ensure that
// clients cannot incorrectly assume that any matching conditions specified
// in a filter are true".
func refuseFilter(r *http.Request) error {
	if r.URL.Query().Has("filter") {
		return scim.Errorf(http.StatusForbidden, "", "discovery endpoints do not support filtering (RFC 7644 §4)")
	}
	return nil
}

// serviceProviderConfig answers GET /ServiceProviderConfig. The engine
// emulates PATCH, sort and ETags on every target, so they are always
// supported; the limits are the target's.
func (s *server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	if err := refuseFilter(r); err != nil {
		return err
	}
	t := targetFrom(r.Context())
	o := t.eng.Options()
	writeJSON(w, http.StatusOK, serviceProviderConfigDoc{
		Schemas:        []string{scim.ServiceProviderConfigSchema},
		Patch:          supported{true},
		Bulk:           bulkSupport{Supported: true, MaxOperations: o.BulkMaxOperations, MaxPayloadSize: o.BulkMaxPayload},
		Filter:         filterSupport{Supported: true, MaxResults: o.MaxPageSize},
		ChangePassword: supported{false},
		Sort:           supported{true},
		ETag:           supported{true},
		AuthenticationSchemes: []authenticationScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "Authentication with a bearer token in the Authorization header: a static token or a JWT.",
			SpecURI:     "https://www.rfc-editor.org/rfc/rfc6750",
			Primary:     true,
		}},
		Meta: discoveryMeta{ResourceType: "ServiceProviderConfig", Location: t.base + "/ServiceProviderConfig"},
	})
	return nil
}

func (t *target) resourceTypeDoc(rt *scim.ResourceType) resourceTypeDoc {
	d := resourceTypeDoc{
		Schemas:     []string{scim.ResourceTypeSchema},
		ID:          rt.ID,
		Name:        rt.Name,
		Endpoint:    rt.Endpoint,
		Description: rt.Description,
		Schema:      rt.Schema.ID,
		Meta:        discoveryMeta{ResourceType: "ResourceType", Location: t.base + "/ResourceTypes/" + rt.ID},
	}
	for _, ext := range rt.Extensions {
		d.SchemaExtensions = append(d.SchemaExtensions, scim.SchemaExtension{Schema: ext.ID, Required: rt.Required[ext.ID]})
	}
	return d
}

// listResourceTypes answers GET /ResourceTypes.
func (s *server) listResourceTypes(w http.ResponseWriter, r *http.Request) error {
	if err := refuseFilter(r); err != nil {
		return err
	}
	t := targetFrom(r.Context())
	docs := []any{}
	for _, rt := range t.eng.ResourceTypes() {
		docs = append(docs, t.resourceTypeDoc(rt))
	}
	writeJSON(w, http.StatusOK, newDiscoveryList(docs))
	return nil
}

// getResourceType answers GET /ResourceTypes/{id}.
func (s *server) getResourceType(w http.ResponseWriter, r *http.Request) error {
	if err := refuseFilter(r); err != nil {
		return err
	}
	t := targetFrom(r.Context())
	id := resourceID(r)
	for _, rt := range t.eng.ResourceTypes() {
		if strings.EqualFold(rt.ID, id) {
			writeJSON(w, http.StatusOK, t.resourceTypeDoc(rt))
			return nil
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "target %q has no resource type %q", t.name, id)
}

// schemas returns the schemas of the target's resource types, each once,
// in the order the resource types name them.
func (t *target) schemas() []*scim.Schema {
	var out []*scim.Schema
	seen := map[string]bool{}
	for _, rt := range t.eng.ResourceTypes() {
		for _, sc := range rt.Schemas() {
			if !seen[sc.ID] {
				seen[sc.ID] = true
				out = append(out, sc)
			}
		}
	}
	return out
}

func (t *target) schemaDoc(sc *scim.Schema) schemaDoc {
	return schemaDoc{
		Schemas: []string{scim.SchemaSchema},
		Schema:  sc,
		Meta:    discoveryMeta{ResourceType: "Schema", Location: t.base + "/Schemas/" + sc.ID},
	}
}

// listSchemas answers GET /Schemas.
func (s *server) listSchemas(w http.ResponseWriter, r *http.Request) error {
	if err := refuseFilter(r); err != nil {
		return err
	}
	t := targetFrom(r.Context())
	docs := []any{}
	for _, sc := range t.schemas() {
		docs = append(docs, t.schemaDoc(sc))
	}
	writeJSON(w, http.StatusOK, newDiscoveryList(docs))
	return nil
}

// getSchema answers GET /Schemas/{id}; the id is a schema URN, matched
// case-insensitively like every URN (RFC 8141 §3.1 for the "urn" prefix and
// RFC 7643 for attribute names).
func (s *server) getSchema(w http.ResponseWriter, r *http.Request) error {
	if err := refuseFilter(r); err != nil {
		return err
	}
	t := targetFrom(r.Context())
	id := resourceID(r)
	for _, sc := range t.schemas() {
		if strings.EqualFold(sc.ID, id) {
			writeJSON(w, http.StatusOK, t.schemaDoc(sc))
			return nil
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "target %q has no schema %q", t.name, id)
}
