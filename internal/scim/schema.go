package scim

import "strings"

// Schema URNs of RFC 7643 and RFC 7644.
const (
	UserSchema                  = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema                 = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SearchRequestSchema         = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	PatchOpSchema               = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkRequestSchema           = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseSchema          = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	ErrorSchema                 = "urn:ietf:params:scim:api:messages:2.0:Error"
	ServiceProviderConfigSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Type is an attribute data type (RFC 7643 §2.3).
type Type string

// The attribute data types of RFC 7643 §2.3.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// MutabilityMode says when a client may write an attribute (RFC 7643 §7).
type MutabilityMode string

// Mutability values.
const (
	ReadOnly  MutabilityMode = "readOnly"
	ReadWrite MutabilityMode = "readWrite"
	Immutable MutabilityMode = "immutable"
	WriteOnly MutabilityMode = "writeOnly"
)

// Returned says when an attribute appears in a response (RFC 7643 §7).
type Returned string

// Returned values.
const (
	Always    Returned = "always"
	Never     Returned = "never"
	ByDefault Returned = "default"
	OnRequest Returned = "request"
)

// Uniqueness values (RFC 7643 §7).
const (
	UniqueNone   = "none"
	UniqueServer = "server"
	UniqueGlobal = "global"
)

// Attribute is one attribute definition (RFC 7643 §7). Definitions are data:
// validation, coercion, filtering, sorting and projection all read them.
type Attribute struct {
	Name            string         `json:"name"`
	Type            Type           `json:"type"`
	MultiValued     bool           `json:"multiValued"`
	Description     string         `json:"description,omitempty"`
	Required        bool           `json:"required"`
	CanonicalValues []string       `json:"canonicalValues,omitempty"`
	CaseExact       bool           `json:"caseExact"`
	Mutability      MutabilityMode `json:"mutability"`
	Returned        Returned       `json:"returned"`
	Uniqueness      string         `json:"uniqueness"`
	ReferenceTypes  []string       `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute   `json:"subAttributes,omitempty"`
}

// Sub returns the sub-attribute named name (case-insensitive), or nil.
func (a *Attribute) Sub(name string) *Attribute {
	return find(a.SubAttributes, name)
}

// Schema is a schema definition (RFC 7643 §7) as served at /Schemas.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attr returns the top-level attribute named name (case-insensitive), or nil.
func (s *Schema) Attr(name string) *Attribute {
	return find(s.Attributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// SchemaExtension names an extension schema of a resource type.
type SchemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

// ResourceType describes one resource type (RFC 7643 §6) together with the
// schema definitions it uses. Values are immutable once built and safe to share.
type ResourceType struct {
	ID          string // "User"
	Name        string // "User"
	Endpoint    string // "/Users"
	Description string
	Schema      *Schema         // the core schema
	Extensions  []*Schema       // extension schemas, in the order of SchemaExtensions
	Required    map[string]bool // extension URN → required
}

// Extension returns the extension schema with the given URN (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, s := range rt.Extensions {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// SchemaByURN returns the core or an extension schema by URN, or nil.
func (rt *ResourceType) SchemaByURN(urn string) *Schema {
	if strings.EqualFold(rt.Schema.ID, urn) {
		return rt.Schema
	}
	return rt.Extension(urn)
}

// Schemas returns the core schema followed by the extension schemas.
func (rt *ResourceType) Schemas() []*Schema {
	return append([]*Schema{rt.Schema}, rt.Extensions...)
}

// Path is a resolved attribute path: an optional schema URN, an attribute name
// and an optional sub-attribute name (RFC 7644 §3.10 attrPath).
type Path struct {
	URN  string // empty for the core schema when not written
	Attr string
	Sub  string
}

// String renders p in its canonical form, URN-qualified when a URN is set.
func (p Path) String() string {
	s := p.Attr
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	return s
}

// ParsePath splits "urn:...:Schema:attr.sub", "attr.sub" or "attr" into a Path.
// It does not check the names against any schema; see ResourceType.Resolve.
func ParsePath(s string) Path {
	var p Path
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndexByte(s, ':')
		p.URN, s = s[:i], s[i+1:]
	}
	p.Attr, p.Sub, _ = strings.Cut(s, ".")
	return p
}

// Resolve finds the definitions for p: the schema that holds it, the
// attribute, and the sub-attribute when p names one. A path without a URN is
// looked up in the common attributes (id, externalId, meta), the core schema,
// then each extension; the canonical Path of a common attribute has no URN. It returns ok=false
// when a name is unknown. The returned Path has canonical names and its URN set.
func (rt *ResourceType) Resolve(p Path) (canon Path, attr, sub *Attribute, ok bool) {
	var s *Schema
	if p.URN != "" {
		s = rt.SchemaByURN(p.URN)
		if s == nil {
			return Path{}, nil, nil, false
		}
		attr = s.Attr(p.Attr)
	} else if attr = find(CommonAttributes, p.Attr); attr != nil {
		s = &Schema{} // common attributes belong to no schema (RFC 7643 §3.1)
	} else {
		for _, cand := range rt.Schemas() {
			if attr = cand.Attr(p.Attr); attr != nil {
				s = cand
				break
			}
		}
	}
	if attr == nil {
		return Path{}, nil, nil, false
	}
	canon = Path{URN: s.ID, Attr: attr.Name}
	if p.Sub != "" {
		if sub = attr.Sub(p.Sub); sub == nil {
			return Path{}, nil, nil, false
		}
		canon.Sub = sub.Name
	}
	return canon, attr, sub, true
}
