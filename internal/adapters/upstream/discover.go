package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// discover asks the upstream what it does (RFC 7644 §4):
//   - GET /ServiceProviderConfig: filter.supported declares every filter
//     native for every resource type, filter.maxResults is the page limit,
//     and sort, patch and etag say whether those run upstream;
//   - GET /ResourceTypes: the types served, their endpoints and extensions;
//   - GET /Schemas: the definitions of extension schemas and of core
//     schemas other than the standard ones, whose definitions are the
//     gateway's own (they are the normalized schema). An upstream without
//     /Schemas (404) gets the standard definitions only.
//
// A resource type whose core schema has no definition is left out (the
// gateway cannot validate or filter it); an extension without one fails
// discovery, since leaving it out would lose its attributes on the next PUT.
func (a *Adapter) discover(ctx context.Context) (adapters.Capabilities, error) {
	var caps adapters.Capabilities
	body, err := a.discoveryGet(ctx, "/ServiceProviderConfig", false)
	if err != nil {
		return caps, err
	}
	spc, err := parseServiceProviderConfig(body)
	if err != nil {
		return caps, fmt.Errorf("GET /ServiceProviderConfig: %w", err)
	}
	if body, err = a.discoveryGet(ctx, "/ResourceTypes", false); err != nil {
		return caps, err
	}
	rts, err := parseResourceTypes(body)
	if err != nil {
		return caps, fmt.Errorf("GET /ResourceTypes: %w", err)
	}
	if body, err = a.discoveryGet(ctx, "/Schemas", true); err != nil {
		return caps, err
	}
	var schemas []*scim.Schema
	if body != nil {
		if schemas, err = parseSchemas(body); err != nil {
			return caps, fmt.Errorf("GET /Schemas: %w", err)
		}
	}
	if caps.ResourceTypes, err = buildTypes(rts, schemas); err != nil {
		return caps, err
	}
	caps.Sort, caps.Patch, caps.ETag = bool(spc.Sort.Supported), bool(spc.Patch.Supported), bool(spc.ETag.Supported)
	if spc.Filter.MaxResults > 0 {
		caps.MaxPageSize = int(spc.Filter.MaxResults)
	}
	if spc.Filter.Supported {
		caps.Filter = allFilters(caps.ResourceTypes)
	}
	return caps, nil
}

// discoveryGet fetches a discovery document. With optional, a 404 returns
// nil, nil.
func (a *Adapter) discoveryGet(ctx context.Context, path string, optional bool) ([]byte, error) {
	resp, err := a.c.Do(ctx, outbound.Request{
		Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {accept}}, Op: "upstream.Discover",
	})
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	switch {
	case resp.Status == http.StatusOK:
		return resp.Body, nil
	case resp.Status == http.StatusNotFound && optional:
		return nil, nil
	}
	detail := fmt.Sprintf("status %d", resp.Status)
	switch resp.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		detail += ": the upstream refused the gateway's credentials"
	case http.StatusNotFound:
		detail += ": not served; check baseURL, or declare the capabilities in the target's settings"
	}
	if _, d, ok := parseError(resp.Body); ok && d != "" {
		detail += ": " + a.redact(d)
	}
	return nil, fmt.Errorf("GET %s: %s", path, detail)
}

// flexBool is a JSON boolean that also accepts "true" and "false" as strings.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false", "null", "":
		*b = false
	default:
		return fmt.Errorf("want a boolean, got %.40s", data)
	}
	return nil
}

// flexInt is a JSON integer that also accepts a string of digits.
type flexInt int

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != float64(int(v)) || v < 0 || v > 1<<31 {
		return fmt.Errorf("want a non-negative integer, got %.40s", data)
	}
	*n = flexInt(v)
	return nil
}

type supported struct {
	Supported flexBool `json:"supported"`
}

// serviceProviderConfig is the part of RFC 7643 §5 the adapter reads.
type serviceProviderConfig struct {
	Patch  supported `json:"patch"`
	Filter struct {
		Supported  flexBool `json:"supported"`
		MaxResults flexInt  `json:"maxResults"`
	} `json:"filter"`
	Sort supported `json:"sort"`
	ETag supported `json:"etag"`
}

func parseServiceProviderConfig(body []byte) (*serviceProviderConfig, error) {
	var spc serviceProviderConfig
	if !isObject(body) {
		return nil, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(body, &spc); err != nil {
		return nil, cleanJSONError(err)
	}
	return &spc, nil
}

// resourceTypeDoc is RFC 7643 §6.
type resourceTypeDoc struct {
	ID               string                 `json:"id"`
	Name             string                 `json:"name"`
	Endpoint         string                 `json:"endpoint"`
	Description      string                 `json:"description"`
	Schema           string                 `json:"schema"`
	SchemaExtensions []scim.SchemaExtension `json:"schemaExtensions"`
}

func parseResourceTypes(body []byte) ([]resourceTypeDoc, error) {
	var docs []resourceTypeDoc
	if err := decodeDiscoveryList(body, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

func parseSchemas(body []byte) ([]*scim.Schema, error) {
	var docs []*scim.Schema
	if err := decodeDiscoveryList(body, &docs); err != nil {
		return nil, err
	}
	for i, s := range docs {
		if s == nil || s.ID == "" {
			return nil, fmt.Errorf("schema %d has no id", i)
		}
		if err := normalizeAttributes(s.Attributes, 0); err != nil {
			return nil, fmt.Errorf("schema %s: %w", s.ID, err)
		}
	}
	return docs, nil
}

// decodeDiscoveryList decodes a ListResponse's Resources into out, or a
// bare JSON array, which some providers serve instead.
func decodeDiscoveryList(body []byte, out any) error {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		return cleanJSONError(json.Unmarshal(body, out))
	}
	if !isObject(body) {
		return errors.New("not a JSON object or array")
	}
	var lr struct {
		Resources json.RawMessage `json:"Resources"`
	}
	if err := json.Unmarshal(body, &lr); err != nil {
		return cleanJSONError(err)
	}
	if len(lr.Resources) == 0 || bytes.Equal(lr.Resources, []byte("null")) {
		return nil
	}
	return cleanJSONError(json.Unmarshal(lr.Resources, out))
}

func isObject(body []byte) bool {
	body = bytes.TrimSpace(body)
	return len(body) > 0 && body[0] == '{'
}

// cleanJSONError keeps a decoding error's kind, not the offending text.
func cleanJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (at byte %d)", se.Offset)
	case errors.As(err, &te):
		at := ""
		if te.Field != "" {
			at = te.Field + ": "
		}
		return fmt.Errorf("%swant %s, got a JSON %s", at, kindName(te.Type), te.Value)
	}
	return err
}

// kindName names the JSON form a Go type decodes from.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// attrTypes maps each data type of RFC 7643 §2.3, in lower case, to its
// canonical spelling.
var attrTypes = func() map[string]scim.Type {
	m := map[string]scim.Type{}
	for _, t := range []scim.Type{scim.String, scim.Boolean, scim.Decimal, scim.Integer, scim.DateTime,
		scim.Binary, scim.Reference, scim.Complex} {
		m[strings.ToLower(string(t))] = t
	}
	return m
}()

// normalizeAttributes fills what RFC 7643 §2.2 and §7 default (type
// string, mutability readWrite, returned default, uniqueness none) and puts
// enumerated values in their canonical case, so that the definitions behave
// as the gateway's own do.
func normalizeAttributes(attrs []*scim.Attribute, depth int) error {
	if depth > 1 {
		return errors.New("sub-attributes nested more than one level (RFC 7643 §2.4)")
	}
	for i, at := range attrs {
		if at == nil || at.Name == "" {
			return fmt.Errorf("attribute %d has no name", i)
		}
		if at.Type == "" {
			at.Type = scim.String
		} else if t, ok := attrTypes[strings.ToLower(string(at.Type))]; ok {
			at.Type = t
		} else {
			return fmt.Errorf("attribute %s: unknown type %.40q", at.Name, at.Type)
		}
		at.Mutability = scim.MutabilityMode(canonical(string(at.Mutability), string(scim.ReadWrite),
			scim.ReadOnly, scim.ReadWrite, scim.Immutable, scim.WriteOnly))
		at.Returned = scim.Returned(canonical(string(at.Returned), string(scim.ByDefault),
			scim.Always, scim.Never, scim.ByDefault, scim.OnRequest))
		at.Uniqueness = canonical(at.Uniqueness, scim.UniqueNone, scim.UniqueNone, scim.UniqueServer, scim.UniqueGlobal)
		if at.Type == scim.Complex {
			if err := normalizeAttributes(at.SubAttributes, depth+1); err != nil {
				return fmt.Errorf("attribute %s: %w", at.Name, err)
			}
		} else {
			at.SubAttributes = nil
		}
	}
	return nil
}

// canonical returns the value among known that equals s case-insensitively,
// or def.
func canonical[T ~string](s, def string, known ...T) string {
	for _, k := range known {
		if strings.EqualFold(s, string(k)) {
			return string(k)
		}
	}
	return def
}

// standardSchemas are the definitions the gateway uses for the standard
// URNs, whatever an upstream's /Schemas says.
var standardSchemas = []*scim.Schema{scim.UserSchemaDef, scim.GroupSchemaDef, scim.EnterpriseUserSchemaDef}

// buildTypes assembles the resource types from the discovery documents.
func buildTypes(docs []resourceTypeDoc, served []*scim.Schema) ([]*scim.ResourceType, error) {
	schema := func(urn string) *scim.Schema {
		for _, list := range [][]*scim.Schema{standardSchemas, served} {
			for _, s := range list {
				if strings.EqualFold(s.ID, urn) {
					return s
				}
			}
		}
		return nil
	}
	var out []*scim.ResourceType
	seen := map[string]bool{}
	for i, d := range docs {
		id := d.ID
		if id == "" {
			id = d.Name
		}
		if id == "" {
			return nil, fmt.Errorf("GET /ResourceTypes: resource type %d has no id", i)
		}
		if err := checkEndpoint(d.Endpoint); err != nil {
			return nil, fmt.Errorf("GET /ResourceTypes: %s: endpoint: %w", id, err)
		}
		if seen[strings.ToLower(id)] {
			return nil, fmt.Errorf("GET /ResourceTypes: %s is listed twice", id)
		}
		seen[strings.ToLower(id)] = true
		core := schema(d.Schema)
		if core == nil {
			continue // not describable: not served through the gateway
		}
		rt := &scim.ResourceType{
			ID: id, Name: d.Name, Endpoint: "/" + strings.TrimPrefix(d.Endpoint, "/"),
			Description: d.Description, Schema: core,
		}
		if rt.Name == "" {
			rt.Name = id
		}
		for _, ext := range d.SchemaExtensions {
			s := schema(ext.Schema)
			if s == nil {
				return nil, fmt.Errorf("resource type %s: extension %.200q has no definition at /Schemas; "+
					"declare the capabilities in the target's settings to serve the standard schemas only", id, ext.Schema)
			}
			if rt.Extension(s.ID) != nil || strings.EqualFold(s.ID, core.ID) {
				continue
			}
			rt.Extensions = append(rt.Extensions, s)
			if ext.Required {
				if rt.Required == nil {
					rt.Required = map[string]bool{}
				}
				rt.Required[s.ID] = true
			}
		}
		out = append(out, rt)
	}
	return out, nil
}

// checkEndpoint accepts a relative path such as "/Users": no scheme, host,
// query, fragment or dot segments, so that it stays under the base URL.
func checkEndpoint(ep string) error {
	trimmed := strings.Trim(ep, "/")
	if trimmed == "" {
		return errors.New("required")
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "" || u.Host != "" || u.RawQuery != "" || u.Fragment != "" ||
		strings.ContainsAny(ep, "?#%\\ ") {
		return fmt.Errorf("want a relative path such as /Users, got %.100q", ep)
	}
	for _, seg := range strings.Split(trimmed, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("want a relative path such as /Users, got %.100q", ep)
		}
	}
	return nil
}
