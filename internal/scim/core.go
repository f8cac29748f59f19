package scim

// Builders for the attribute definitions below; the defaults are those of
// RFC 7643 §2.2 (readWrite, returned by default, not unique, case-insensitive).
func attr(name string, t Type, opts ...func(*Attribute)) *Attribute {
	a := &Attribute{Name: name, Type: t, Mutability: ReadWrite, Returned: ByDefault, Uniqueness: UniqueNone}
	for _, o := range opts {
		o(a)
	}
	return a
}

func complexAttr(name string, subs []*Attribute, opts ...func(*Attribute)) *Attribute {
	a := attr(name, Complex, opts...)
	a.SubAttributes = subs
	return a
}

func multi(a *Attribute)     { a.MultiValued = true }
func required(a *Attribute)  { a.Required = true }
func caseExact(a *Attribute) { a.CaseExact = true }
func readOnly(a *Attribute)  { a.Mutability = ReadOnly }
func immutable(a *Attribute) { a.Mutability = Immutable }
func writeOnly(a *Attribute) { a.Mutability = WriteOnly }
func always(a *Attribute)    { a.Returned = Always }
func never(a *Attribute)     { a.Returned = Never }
func unique(a *Attribute)    { a.Uniqueness = UniqueServer }
func describe(d string) func(*Attribute) {
	return func(a *Attribute) { a.Description = d }
}
func canonical(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.CanonicalValues = v }
}
func refs(v ...string) func(*Attribute) {
	return func(a *Attribute) { a.ReferenceTypes = v }
}

// multiValuedSubs are the sub-attributes RFC 7643 §2.4 gives every
// multi-valued attribute, with type's canonical values.
func multiValuedSubs(valueType Type, types ...string) []*Attribute {
	return []*Attribute{
		attr("value", valueType),
		attr("display", String),
		attr("type", String, canonical(types...)),
		attr("primary", Boolean),
	}
}

// CommonAttributes are the attributes every resource has (RFC 7643 §3.1). They
// belong to no schema and resolve without a URN.
var CommonAttributes = []*Attribute{
	attr("id", String, caseExact, readOnly, always, unique, describe("Unique identifier for the resource, assigned by the service provider.")),
	attr("externalId", String, caseExact, describe("Identifier of the resource as defined by the provisioning client.")),
	complexAttr("meta", []*Attribute{
		attr("resourceType", String, caseExact, readOnly),
		attr("created", DateTime, readOnly),
		attr("lastModified", DateTime, readOnly),
		attr("location", Reference, caseExact, readOnly, refs("uri")),
		attr("version", String, caseExact, readOnly),
	}, readOnly, describe("Resource metadata.")),
}

// UserSchemaDef is the core User schema (RFC 7643 §4.1, §8.7.1).
var UserSchemaDef = &Schema{
	ID:          UserSchema,
	Name:        "User",
	Description: "User Account",
	Attributes: []*Attribute{
		attr("userName", String, required, unique, describe("Unique identifier for the User, typically used by the user to directly authenticate.")),
		complexAttr("name", []*Attribute{
			attr("formatted", String),
			attr("familyName", String),
			attr("givenName", String),
			attr("middleName", String),
			attr("honorificPrefix", String),
			attr("honorificSuffix", String),
		}, describe("The components of the user's real name.")),
		attr("displayName", String),
		attr("nickName", String),
		attr("profileUrl", Reference, refs("external")),
		attr("title", String),
		attr("userType", String),
		attr("preferredLanguage", String),
		attr("locale", String),
		attr("timezone", String),
		attr("active", Boolean),
		attr("password", String, writeOnly, never),
		complexAttr("emails", multiValuedSubs(String, "work", "home", "other"), multi),
		complexAttr("phoneNumbers", multiValuedSubs(String, "work", "home", "mobile", "fax", "pager", "other"), multi),
		complexAttr("ims", multiValuedSubs(String, "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"), multi),
		complexAttr("photos", multiValuedSubs(Reference, "photo", "thumbnail"), multi),
		complexAttr("addresses", []*Attribute{
			attr("formatted", String),
			attr("streetAddress", String),
			attr("locality", String),
			attr("region", String),
			attr("postalCode", String),
			attr("country", String),
			attr("type", String, canonical("work", "home", "other")),
			attr("primary", Boolean),
		}, multi),
		complexAttr("groups", []*Attribute{
			attr("value", String, readOnly),
			attr("$ref", Reference, readOnly, refs("User", "Group")),
			attr("display", String, readOnly),
			attr("type", String, readOnly, canonical("direct", "indirect")),
		}, multi, readOnly, describe("Groups to which the user belongs, derived from Group membership.")),
		complexAttr("entitlements", multiValuedSubs(String), multi),
		complexAttr("roles", multiValuedSubs(String), multi),
		complexAttr("x509Certificates", multiValuedSubs(Binary), multi),
	},
}

// EnterpriseUserSchemaDef is the Enterprise User extension (RFC 7643 §4.3).
var EnterpriseUserSchemaDef = &Schema{
	ID:          EnterpriseUserSchema,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*Attribute{
		attr("employeeNumber", String),
		attr("costCenter", String),
		attr("organization", String),
		attr("division", String),
		attr("department", String),
		complexAttr("manager", []*Attribute{
			attr("value", String),
			attr("$ref", Reference, refs("User")),
			attr("displayName", String, readOnly),
		}),
	},
}

// GroupSchemaDef is the core Group schema (RFC 7643 §4.2, §8.7.1).
var GroupSchemaDef = &Schema{
	ID:          GroupSchema,
	Name:        "Group",
	Description: "Group",
	Attributes: []*Attribute{
		attr("displayName", String, required),
		complexAttr("members", []*Attribute{
			attr("value", String, immutable),
			attr("$ref", Reference, immutable, refs("User", "Group")),
			attr("display", String, readOnly),
			attr("type", String, immutable, canonical("User", "Group")),
		}, multi),
	},
}

// UserType and GroupType are the standard resource types with the standard
// schemas. Targets whose vendor adds extensions build their own ResourceType.
var (
	UserType = &ResourceType{
		ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account",
		Schema: UserSchemaDef, Extensions: []*Schema{EnterpriseUserSchemaDef},
	}
	GroupType = &ResourceType{
		ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Group",
		Schema: GroupSchemaDef,
	}
)
