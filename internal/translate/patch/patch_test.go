package patch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

const (
	core  = scim.UserSchema
	ent   = scim.EnterpriseUserSchema
	badge = "urn:example:params:scim:schemas:extension:badge:2.0:User"
)

// badgeSchema is an extension with what the standard schemas lack at the
// top level: an immutable attribute, an integer, a dateTime and a
// multi-valued simple attribute. badgeType requires it.
var (
	badgeSchema = &scim.Schema{ID: badge, Name: "Badge", Attributes: []*scim.Attribute{
		{Name: "badge", Type: scim.String, Mutability: scim.Immutable, Returned: scim.ByDefault},
		{Name: "level", Type: scim.Integer, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "issued", Type: scim.DateTime, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "tags", Type: scim.String, MultiValued: true, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
	}}
	badgeType = &scim.ResourceType{
		ID: "User", Name: "User", Endpoint: "/Users", Schema: scim.UserSchemaDef,
		Extensions: []*scim.Schema{scim.EnterpriseUserSchemaDef, badgeSchema},
		Required:   map[string]bool{badge: true},
	}
)

// Resources the table cases start from, by name.
var resources = map[string]string{
	"user": `{"schemas": ["` + core + `"], "id": "u1", "externalId": "ext-1", "userName": "bjensen",
		"displayName": "Babs Jensen", "title": "Clerk", "active": true,
		"name": {"givenName": "Barbara", "familyName": "Jensen"},
		"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
		"phoneNumbers": [{"value": "555-0100", "type": "work"}],
		"groups": [{"value": "g1", "display": "Admins", "type": "direct"}],
		"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"1\""}}`,
	"entUser": `{"schemas": ["` + core + `", "` + ent + `"], "id": "u1", "userName": "bjensen",
		"` + ent + `": {"employeeNumber": "701984", "costCenter": "4130", "manager": {"value": "m1", "displayName": "John Smith"}},
		"meta": {"resourceType": "User"}}`,
	"group": `{"schemas": ["` + scim.GroupSchema + `"], "id": "g1", "displayName": "Admins",
		"members": [{"value": "u1", "display": "Babs Jensen", "type": "User"}, {"value": "u2", "display": "Jim Smith", "type": "User"}],
		"meta": {"resourceType": "Group"}}`,
	"badgeUser": `{"schemas": ["` + core + `", "` + badge + `"], "id": "u1", "userName": "bjensen",
		"` + badge + `": {"badge": "B-1", "level": 3}}`,
	"levelOnly": `{"schemas": ["` + core + `", "` + badge + `"], "id": "u1", "userName": "bjensen",
		"` + badge + `": {"level": 3}}`,
}

// applyCase is one PATCH applied to a named resource. want lists the
// top-level attributes the result holds where it differs from the input
// (null: removed); every other attribute must come out unchanged. When
// wantErr is set, the PATCH must fail with a 400 of that scimType.
type applyCase struct {
	name    string
	res     string // a key of resources
	ops     string // the Operations array
	want    string
	wantErr scim.ScimType
}

var applyCases = []applyCase{
	// RFC 7644 §3.5.2.1 add.
	{name: "add simple", res: "user", ops: `[{"op": "add", "path": "nickName", "value": "Babs"}]`, want: `{"nickName": "Babs"}`},
	{name: "add replaces a single value", res: "user", ops: `[{"op": "add", "path": "title", "value": "Boss"}]`, want: `{"title": "Boss"}`},
	{name: "add sub-attribute", res: "user", ops: `[{"op": "add", "path": "name.middleName", "value": "Jane"}]`,
		want: `{"name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"}}`},
	{name: "add complex merges", res: "user", ops: `[{"op": "add", "path": "name", "value": {"honorificPrefix": "Ms.", "givenName": "Babs"}}]`,
		want: `{"name": {"givenName": "Babs", "familyName": "Jensen", "honorificPrefix": "Ms."}}`},
	{name: "add appends to multi-valued", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "b@example.org", "type": "other"}]}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}, {"value": "b@example.org", "type": "other"}]}`},
	{name: "add equal value is no change", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "BJENSEN@example.com", "type": "work"}]}]`, want: `{}`},
	{name: "add merges into the element with that value", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "display": "Home"}]}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home", "display": "Home"}]}`},
	{name: "add same value of another type is a new element", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "other"}]}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}, {"value": "babs@jensen.org", "type": "other"}]}`},
	{name: "add primary clears the others", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "n@example.com", "type": "other", "primary": true}]}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false}, {"value": "babs@jensen.org", "type": "home"}, {"value": "n@example.com", "type": "other", "primary": true}]}`},
	{name: "add two primaries", res: "user", ops: `[{"op": "add", "path": "emails", "value": [{"value": "a@example.com", "primary": true}, {"value": "b@example.com", "primary": "True"}]}]`, wantErr: scim.InvalidValue},
	{name: "add single object to multi-valued", res: "user", ops: `[{"op": "add", "path": "phoneNumbers", "value": {"value": "555-0101", "type": "mobile"}}]`,
		want: `{"phoneNumbers": [{"value": "555-0100", "type": "work"}, {"value": "555-0101", "type": "mobile"}]}`},
	{name: "add null is no change", res: "user", ops: `[{"op": "add", "path": "title", "value": null}]`, want: `{}`},
	{name: "add empty array is no change", res: "user", ops: `[{"op": "add", "path": "emails", "value": []}]`, want: `{}`},
	{name: "add without path, RFC example", res: "user", ops: `[{"op": "add", "value": {"emails": [{"value": "babs@example.org", "type": "home"}], "nickname": "Babs"}}]`,
		want: `{"nickName": "Babs", "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}, {"value": "babs@example.org", "type": "home"}]}`},
	{name: "add without path, dotted key", res: "user", ops: `[{"op": "add", "value": {"name.middleName": "Jane"}}]`,
		want: `{"name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"}}`},
	{name: "add without path, URN key creates the extension", res: "user", ops: `[{"op": "add", "value": {"` + ent + `:employeeNumber": "42"}}]`,
		want: `{"schemas": ["` + core + `", "` + ent + `"], "` + ent + `": {"employeeNumber": "42"}}`},
	{name: "add without path, extension object", res: "entUser", ops: `[{"op": "add", "value": {"` + ent + `": {"department": "Sales", "costCenter": "5000"}}}]`,
		want: `{"` + ent + `": {"employeeNumber": "701984", "costCenter": "5000", "department": "Sales", "manager": {"value": "m1", "displayName": "John Smith"}}}`},
	{name: "add extension by its URN", res: "entUser", ops: `[{"op": "add", "path": "` + ent + `", "value": {"division": "North"}}]`,
		want: `{"` + ent + `": {"employeeNumber": "701984", "costCenter": "4130", "division": "North", "manager": {"value": "m1", "displayName": "John Smith"}}}`},
	{name: "add manager as a bare string", res: "user", ops: `[{"op": "Add", "path": "` + ent + `:manager", "value": "m2"}]`,
		want: `{"schemas": ["` + core + `", "` + ent + `"], "` + ent + `": {"manager": {"value": "m2"}}}`},
	{name: "add manager.value", res: "entUser", ops: `[{"op": "add", "path": "` + ent + `:manager.value", "value": "m2"}]`,
		want: `{"` + ent + `": {"employeeNumber": "701984", "costCenter": "4130", "manager": {"value": "m2", "displayName": "John Smith"}}}`},
	{name: "add through a matching filter", res: "user", ops: `[{"op": "add", "path": "emails[type eq \"work\"].value", "value": "w@example.com"}]`,
		want: `{"emails": [{"value": "w@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}`},
	{name: "add through a filter that matches nothing creates the element", res: "user", ops: `[{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@example.com"}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}, {"value": "o@example.com", "type": "other"}]}`},
	{name: "add through an and filter creates the element", res: "user", ops: `[{"op": "add", "path": "emails[type eq \"other\" and primary eq true]", "value": {"value": "o@example.com"}}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false}, {"value": "babs@jensen.org", "type": "home"}, {"value": "o@example.com", "type": "other", "primary": true}]}`},
	{name: "add through a filter that describes no element", res: "user", ops: `[{"op": "add", "path": "emails[value co \"zzz\"].type", "value": "other"}]`, wantErr: scim.NoTarget},
	{name: "add member", res: "group", ops: `[{"op": "add", "path": "members", "value": [{"value": "u3", "display": "ignored"}]}]`,
		want: `{"members": [{"value": "u1", "display": "Babs Jensen", "type": "User"}, {"value": "u2", "display": "Jim Smith", "type": "User"}, {"value": "u3"}]}`},
	{name: "add existing member", res: "group", ops: `[{"op": "add", "path": "members", "value": [{"value": "u1"}]}]`, want: `{}`},
	{name: "add a member twice in one value", res: "group", ops: `[{"op": "add", "path": "members", "value": [{"value": "u3"}, {"value": "u3", "type": "User"}]}]`,
		want: `{"members": [{"value": "u1", "display": "Babs Jensen", "type": "User"}, {"value": "u2", "display": "Jim Smith", "type": "User"}, {"value": "u3", "type": "User"}]}`},

	// RFC 7644 §3.5.2.3 replace.
	{name: "replace simple", res: "user", ops: `[{"op": "replace", "path": "displayName", "value": "B"}]`, want: `{"displayName": "B"}`},
	{name: "replace names the attribute in its defined case", res: "user", ops: `[{"op": "Replace", "path": "DISPLAYNAME", "value": "B"}]`, want: `{"displayName": "B"}`},
	{name: "replace complex merges", res: "user", ops: `[{"op": "replace", "path": "name", "value": {"familyName": "Doe"}}]`,
		want: `{"name": {"givenName": "Barbara", "familyName": "Doe"}}`},
	{name: "replace multi-valued replaces all", res: "user", ops: `[{"op": "replace", "path": "emails", "value": [{"value": "only@example.com"}]}]`,
		want: `{"emails": [{"value": "only@example.com"}]}`},
	{name: "replace value path sub-attribute", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@example.com"}]`,
		want: `{"emails": [{"value": "w@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}`},
	{name: "replace value path record", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@example.com", "type": "work"}}]`,
		want: `{"emails": [{"value": "w@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]}`},
	{name: "replace value path with no match", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]`, wantErr: scim.NoTarget},
	{name: "replace value path record with no match", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"fax\"]", "value": {"value": "x"}}]`, wantErr: scim.NoTarget},
	{name: "replace value path with an array", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"home\"]", "value": [{"value": "x"}]}]`, wantErr: scim.InvalidValue},
	{name: "replace primary through a filter", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false}, {"value": "babs@jensen.org", "type": "home", "primary": true}]}`},
	{name: "replace primary on every element", res: "user", ops: `[{"op": "replace", "path": "emails.primary", "value": true}]`, wantErr: scim.InvalidValue},
	{name: "replace a sub-attribute of every element", res: "user", ops: `[{"op": "replace", "path": "emails.type", "value": "other"}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "other", "primary": true}, {"value": "babs@jensen.org", "type": "other"}]}`},
	{name: "replace a sub-attribute of no element adds one", res: "user", ops: `[{"op": "replace", "path": "ims.value", "value": "babs"}]`, want: `{"ims": [{"value": "babs"}]}`},
	{name: "replace without path, Okta deactivation", res: "user", ops: `[{"op": "replace", "value": {"active": false}}]`, want: `{"active": false}`},
	{name: "replace boolean given as False", res: "user", ops: `[{"op": "Replace", "path": "active", "value": "False"}]`, want: `{"active": false}`},
	{name: "replace boolean given as TRUE", res: "user", ops: `[{"op": "replace", "path": "active", "value": "False"}, {"op": "replace", "path": "active", "value": "TRUE"}]`, want: `{}`},
	{name: "replace boolean with another string", res: "user", ops: `[{"op": "replace", "path": "active", "value": "yes"}]`, wantErr: scim.InvalidValue},
	{name: "replace string with a number", res: "user", ops: `[{"op": "replace", "path": "displayName", "value": 42}]`, wantErr: scim.InvalidValue},
	{name: "replace single-valued with an array", res: "user", ops: `[{"op": "replace", "path": "title", "value": ["a"]}]`, wantErr: scim.InvalidValue},
	{name: "replace complex with a string", res: "user", ops: `[{"op": "replace", "path": "name", "value": "Babs"}]`, wantErr: scim.InvalidValue},
	{name: "replace sub-attribute of the wrong type", res: "user", ops: `[{"op": "replace", "path": "emails", "value": [{"value": 5}]}]`, wantErr: scim.InvalidValue},
	{name: "replace binary that is not base64", res: "user", ops: `[{"op": "replace", "path": "x509Certificates", "value": [{"value": "not base64!"}]}]`, wantErr: scim.InvalidValue},
	{name: "replace reference", res: "user", ops: `[{"op": "replace", "path": "profileUrl", "value": "https://login.example.com/bjensen"}]`, want: `{"profileUrl": "https://login.example.com/bjensen"}`},
	{name: "replace with null unassigns", res: "user", ops: `[{"op": "replace", "path": "title", "value": null}]`, want: `{"title": null}`},
	{name: "replace required with null", res: "user", ops: `[{"op": "replace", "path": "userName", "value": null}]`, wantErr: scim.Mutability},
	{name: "replace required with blank", res: "user", ops: `[{"op": "replace", "path": "userName", "value": "  "}]`, wantErr: scim.InvalidValue},
	{name: "replace what does not exist adds it", res: "user", ops: `[{"op": "replace", "path": "nickName", "value": "Babs"}]`, want: `{"nickName": "Babs"}`},
	{name: "replace id", res: "user", ops: `[{"op": "replace", "path": "id", "value": "u2"}]`, wantErr: scim.Mutability},
	{name: "replace id with its own value", res: "user", ops: `[{"op": "replace", "path": "id", "value": "u1"}]`, want: `{}`},
	{name: "replace meta.created", res: "user", ops: `[{"op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"}]`, wantErr: scim.Mutability},
	{name: "replace meta without path", res: "user", ops: `[{"op": "replace", "value": {"meta": {"resourceType": "Group"}}}]`, wantErr: scim.Mutability},
	{name: "replace groups", res: "user", ops: `[{"op": "replace", "path": "groups", "value": [{"value": "g2"}]}]`, wantErr: scim.Mutability},
	{name: "add groups", res: "user", ops: `[{"op": "add", "path": "groups", "value": [{"value": "g2"}]}]`, wantErr: scim.Mutability},
	{name: "replace without path repeating the id, Okta rename", res: "group", ops: `[{"op": "replace", "value": {"id": "g1", "displayName": "Renamed"}}]`, want: `{"displayName": "Renamed"}`},
	{name: "replace without path with another id", res: "group", ops: `[{"op": "replace", "value": {"id": "g9", "displayName": "Renamed"}}]`, wantErr: scim.Mutability},
	{name: "replace without path ignores schemas", res: "user", ops: `[{"op": "replace", "value": {"schemas": ["` + core + `"], "title": "T"}}]`, want: `{"title": "T"}`},
	{name: "replace URN-qualified extension attribute", res: "entUser", ops: `[{"op": "replace", "path": "` + ent + `:employeeNumber", "value": "42"}]`,
		want: `{"` + ent + `": {"employeeNumber": "42", "costCenter": "4130", "manager": {"value": "m1", "displayName": "John Smith"}}}`},
	{name: "replace extension attribute written in upper case", res: "entUser", ops: `[{"op": "replace", "path": "` + ent + `:Manager", "value": {"value": "m3"}}]`,
		want: `{"` + ent + `": {"employeeNumber": "701984", "costCenter": "4130", "manager": {"value": "m3", "displayName": "John Smith"}}}`},
	{name: "replace extension URN spelt in another case", res: "entUser", ops: `[{"op": "replace", "path": "` + strings.ToUpper(ent) + `:COSTCENTER", "value": "1"}]`,
		want: `{"` + ent + `": {"employeeNumber": "701984", "costCenter": "1", "manager": {"value": "m1", "displayName": "John Smith"}}}`},
	{name: "replace core URN-qualified attribute", res: "user", ops: `[{"op": "replace", "path": "` + core + `:displayName", "value": "B"}]`, want: `{"displayName": "B"}`},
	{name: "replace core URN-qualified common attribute", res: "user", ops: `[{"op": "replace", "path": "` + core + `:externalId", "value": "ext-2"}]`, want: `{"externalId": "ext-2"}`},
	{name: "replace core schema object", res: "user", ops: `[{"op": "replace", "path": "` + core + `", "value": {"title": "T", "nickName": "N"}}]`, want: `{"title": "T", "nickName": "N"}`},
	{name: "replace readOnly manager.displayName", res: "entUser", ops: `[{"op": "replace", "path": "` + ent + `:manager.displayName", "value": "X"}]`, wantErr: scim.Mutability},
	{name: "replace manager ignores its readOnly displayName", res: "entUser", ops: `[{"op": "replace", "path": "` + ent + `:manager", "value": {"value": "m1", "displayName": "X"}}]`, want: `{}`},

	// RFC 7644 §3.5.2.2 remove.
	{name: "remove simple", res: "user", ops: `[{"op": "remove", "path": "title"}]`, want: `{"title": null}`},
	{name: "remove absent attribute", res: "user", ops: `[{"op": "remove", "path": "nickName"}]`, want: `{}`},
	{name: "remove sub-attribute", res: "user", ops: `[{"op": "remove", "path": "name.givenName"}]`, want: `{"name": {"familyName": "Jensen"}}`},
	{name: "remove last sub-attribute removes the attribute", res: "user", ops: `[{"op": "remove", "path": "name.givenName"}, {"op": "REMOVE", "path": "name.familyName"}]`, want: `{"name": null}`},
	{name: "remove value path", res: "user", ops: `[{"op": "remove", "path": "emails[type eq \"home\"]"}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]}`},
	{name: "remove value path sub-attribute", res: "user", ops: `[{"op": "remove", "path": "emails[type eq \"work\"].primary"}]`,
		want: `{"emails": [{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]}`},
	{name: "remove value path with no match", res: "user", ops: `[{"op": "remove", "path": "emails[type eq \"fax\"]"}]`, wantErr: scim.NoTarget},
	{name: "remove every element through a filter", res: "user", ops: `[{"op": "remove", "path": "emails[value pr]"}]`, want: `{"emails": null}`},
	{name: "remove multi-valued", res: "user", ops: `[{"op": "remove", "path": "emails"}]`, want: `{"emails": null}`},
	{name: "remove without path", res: "user", ops: `[{"op": "remove"}]`, wantErr: scim.NoTarget},
	{name: "remove required", res: "user", ops: `[{"op": "remove", "path": "userName"}]`, wantErr: scim.Mutability},
	{name: "remove id", res: "user", ops: `[{"op": "remove", "path": "id"}]`, wantErr: scim.Mutability},
	{name: "remove meta", res: "user", ops: `[{"op": "remove", "path": "meta"}]`, wantErr: scim.Mutability},
	{name: "remove groups", res: "user", ops: `[{"op": "remove", "path": "groups[value eq \"g1\"]"}]`, wantErr: scim.Mutability},
	{name: "remove with a value on a single-valued attribute", res: "user", ops: `[{"op": "remove", "path": "title", "value": "Clerk"}]`, wantErr: scim.InvalidValue},
	{name: "remove members by value array, Entra", res: "group", ops: `[{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]`,
		want: `{"members": [{"value": "u2", "display": "Jim Smith", "type": "User"}]}`},
	{name: "remove members by value array, member absent", res: "group", ops: `[{"op": "remove", "path": "members", "value": [{"value": "u9"}]}]`, want: `{}`},
	{name: "remove every member by value array", res: "group", ops: `[{"op": "remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]`, want: `{"members": null}`},
	{name: "remove member by filter", res: "group", ops: `[{"op": "remove", "path": "members[value eq \"u2\"]"}]`,
		want: `{"members": [{"value": "u1", "display": "Babs Jensen", "type": "User"}]}`},
	{name: "remove all members", res: "group", ops: `[{"op": "remove", "path": "members"}]`, want: `{"members": null}`},
	{name: "remove last extension attribute removes the extension", res: "entUser",
		ops:  `[{"op": "remove", "path": "` + ent + `:employeeNumber"}, {"op": "remove", "path": "` + ent + `:costCenter"}, {"op": "remove", "path": "` + ent + `:manager"}]`,
		want: `{"schemas": ["` + core + `"], "` + ent + `": null}`},
	{name: "remove extension by its URN", res: "entUser", ops: `[{"op": "remove", "path": "` + ent + `"}]`, want: `{"schemas": ["` + core + `"], "` + ent + `": null}`},
	{name: "remove core schema", res: "user", ops: `[{"op": "remove", "path": "` + core + `"}]`, wantErr: scim.InvalidPath},
	{name: "remove from an absent extension", res: "user", ops: `[{"op": "remove", "path": "` + ent + `:department"}]`, want: `{}`},

	// Group members: value, $ref and type are immutable, display readOnly.
	{name: "replace member display", res: "group", ops: `[{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "X"}]`, wantErr: scim.Mutability},
	{name: "replace display of every member", res: "group", ops: `[{"op": "replace", "path": "members.display", "value": "X"}]`, wantErr: scim.Mutability},
	{name: "replace member value", res: "group", ops: `[{"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u9"}]`, wantErr: scim.Mutability},
	{name: "replace member record with another value", res: "group", ops: `[{"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u9"}}]`, wantErr: scim.Mutability},
	{name: "replace member record keeping its value", res: "group", ops: `[{"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u1"}}]`, want: `{}`},
	{name: "replace member record with its value in another case", res: "group", ops: `[{"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "U1", "type": "user"}}]`, want: `{}`},
	{name: "replace readWrite value in another case writes it", res: "user", ops: `[{"op": "replace", "path": "displayName", "value": "BABS JENSEN"}]`, want: `{"displayName": "BABS JENSEN"}`},
	{name: "remove member type", res: "group", ops: `[{"op": "remove", "path": "members[value eq \"u1\"].type"}]`, wantErr: scim.Mutability},
	{name: "replace all members", res: "group", ops: `[{"op": "replace", "path": "members", "value": [{"value": "u9", "type": "User"}]}]`,
		want: `{"members": [{"value": "u9", "type": "User"}]}`},

	// An extension with an immutable attribute, required by its type.
	{name: "set immutable once", res: "levelOnly", ops: `[{"op": "add", "path": "` + badge + `:badge", "value": "B-2"}]`,
		want: `{"` + badge + `": {"badge": "B-2", "level": 3}}`},
	{name: "change immutable", res: "badgeUser", ops: `[{"op": "replace", "path": "` + badge + `:badge", "value": "B-9"}]`, wantErr: scim.Mutability},
	{name: "write immutable with its value", res: "badgeUser", ops: `[{"op": "replace", "path": "` + badge + `:badge", "value": "b-1"}]`, want: `{}`},
	{name: "remove immutable", res: "badgeUser", ops: `[{"op": "remove", "path": "` + badge + `:badge"}]`, wantErr: scim.Mutability},
	{name: "remove extension holding an immutable value", res: "badgeUser", ops: `[{"op": "remove", "path": "` + badge + `"}]`, wantErr: scim.Mutability},
	{name: "remove a required extension", res: "levelOnly", ops: `[{"op": "remove", "path": "` + badge + `:level"}]`, wantErr: scim.Mutability},
	{name: "integer with a fraction", res: "badgeUser", ops: `[{"op": "replace", "path": "` + badge + `:level", "value": 1.5}]`, wantErr: scim.InvalidValue},
	{name: "integer", res: "badgeUser", ops: `[{"op": "replace", "path": "` + badge + `:level", "value": 4}]`, want: `{"` + badge + `": {"badge": "B-1", "level": 4}}`},
	{name: "dateTime that is not RFC 3339", res: "badgeUser", ops: `[{"op": "add", "path": "` + badge + `:issued", "value": "yesterday"}]`, wantErr: scim.InvalidValue},
	{name: "dateTime", res: "badgeUser", ops: `[{"op": "add", "path": "` + badge + `:issued", "value": "2024-01-02T03:04:05Z"}]`,
		want: `{"` + badge + `": {"badge": "B-1", "level": 3, "issued": "2024-01-02T03:04:05Z"}}`},
	{name: "multi-valued simple attribute", res: "badgeUser", ops: `[{"op": "add", "path": "` + badge + `:tags", "value": "a"}, {"op": "add", "path": "` + badge + `:tags", "value": ["A", "b"]}]`,
		want: `{"` + badge + `": {"badge": "B-1", "level": 3, "tags": ["a", "b"]}}`},

	// Paths.
	{name: "unknown attribute", res: "user", ops: `[{"op": "replace", "path": "noSuchAttribute", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "unknown sub-attribute", res: "user", ops: `[{"op": "replace", "path": "name.noSuch", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "sub-attribute of a simple attribute", res: "user", ops: `[{"op": "replace", "path": "title.x", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "unknown schema", res: "user", ops: `[{"op": "replace", "path": "urn:example:nothing:2.0:User:x", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "unknown schema by URN", res: "user", ops: `[{"op": "add", "path": "urn:example:nothing:2.0:User", "value": {"x": 1}}]`, wantErr: scim.InvalidPath},
	{name: "group attribute on a user", res: "user", ops: `[{"op": "add", "path": "members", "value": [{"value": "u2"}]}]`, wantErr: scim.InvalidPath},
	{name: "bad path syntax", res: "user", ops: `[{"op": "replace", "path": "emails[type eq", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "filter on a single-valued attribute", res: "user", ops: `[{"op": "replace", "path": "name[givenName eq \"B\"]", "value": {"givenName": "C"}}]`, wantErr: scim.InvalidPath},
	{name: "filter on a simple attribute", res: "user", ops: `[{"op": "remove", "path": "title[value eq \"Clerk\"]"}]`, wantErr: scim.InvalidPath},
	{name: "filter naming an unknown sub-attribute", res: "user", ops: `[{"op": "remove", "path": "emails[nope eq \"x\"]"}]`, wantErr: scim.InvalidPath},
	{name: "filter with a value of the wrong type", res: "user", ops: `[{"op": "remove", "path": "emails[primary eq \"maybe\"]"}]`, wantErr: scim.InvalidPath},
	{name: "unknown sub-attribute after a filter", res: "user", ops: `[{"op": "replace", "path": "emails[type eq \"work\"].nope", "value": "x"}]`, wantErr: scim.InvalidPath},
	{name: "unknown key without path", res: "user", ops: `[{"op": "add", "value": {"noSuch": 1}}]`, wantErr: scim.InvalidPath},
	{name: "unknown sub-attribute in a value", res: "user", ops: `[{"op": "add", "path": "name", "value": {"nope": "x"}}]`, wantErr: scim.InvalidPath},
	{name: "schemas as a path", res: "user", ops: `[{"op": "replace", "path": "schemas", "value": ["` + core + `"]}]`, wantErr: scim.InvalidPath},

	// All or nothing: the last operation fails, so none applies.
	{name: "atomic", res: "user", ops: `[{"op": "replace", "path": "displayName", "value": "After"}, {"op": "add", "path": "nickName", "value": "N"},
		{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]`, wantErr: scim.NoTarget},
}

func TestApply(t *testing.T) {
	for _, tt := range applyCases {
		t.Run(tt.name, func(t *testing.T) {
			rt := resourceType(tt.res)
			in := resource(t, tt.res)
			ops := parse(t, tt.ops)
			inJSON, opsJSON := mustJSON(t, in), mustJSON(t, ops)
			got, err := patch.Apply(rt, in, ops)
			if mustJSON(t, in) != inJSON {
				t.Fatalf("Apply modified its input resource")
			}
			if mustJSON(t, ops) != opsJSON {
				t.Fatalf("Apply modified its operations")
			}
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Apply(%s) = %v, want success", tt.ops, err)
			}
			if got.ID() != in.ID() {
				t.Errorf("Apply changed the id to %q", got.ID())
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want %s: %v", tt.want, err)
			}
			keys := map[string]bool{}
			for _, m := range []map[string]any{in, got, want} {
				for k := range m {
					keys[k] = true
				}
			}
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				w, changed := want[k]
				if !changed {
					w = in[k]
				}
				if g := mustJSON(t, got[k]); g != mustJSON(t, w) {
					t.Errorf("Apply(%s): %s = %s, want %s", tt.ops, k, g, mustJSON(t, w))
				}
			}
			// The result holds no map or slice of the input or the
			// operations: changing it changes neither.
			scrub(got)
			if mustJSON(t, in) != inJSON || mustJSON(t, ops) != opsJSON {
				t.Errorf("the result shares memory with the input or the operations")
			}
		})
	}
}

// TestApplyIsRepeatable applies the same operations twice: the engine retries
// a read-apply-replace PATCH when the version moved, with the same ops.
func TestApplyIsRepeatable(t *testing.T) {
	for _, tt := range applyCases {
		if tt.wantErr != "" {
			continue
		}
		rt, in, ops := resourceType(tt.res), resource(t, tt.res), parse(t, tt.ops)
		first, err1 := patch.Apply(rt, in, ops)
		second, err2 := patch.Apply(rt, in, ops)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(first, second) {
			t.Errorf("%s: Apply twice gave %v (%v) then %v (%v)", tt.name, first, err1, second, err2)
		}
	}
}

func TestApplyUnknownOp(t *testing.T) {
	in := resource(t, "user")
	for _, op := range []string{"move", "", "copy"} {
		_, err := patch.Apply(scim.UserType, in, []scim.PatchOp{{Op: op, Path: "title", Value: "x"}})
		wantError(t, err, scim.InvalidSyntax)
	}
	// Apply takes op in any case, like Parse.
	got, err := patch.Apply(scim.UserType, in, []scim.PatchOp{{Op: "REPLACE", Path: "title", Value: "x"}})
	if err != nil || got["title"] != "x" {
		t.Errorf("Apply with op REPLACE = %v, %v; want title x", got["title"], err)
	}
}

func TestApplyNilResource(t *testing.T) {
	got, err := patch.Apply(scim.UserType, nil, []scim.PatchOp{{Op: "add", Path: "title", Value: "x"}})
	if err != nil || got["title"] != "x" {
		t.Errorf("Apply to nil = %v, %v; want title x", got, err)
	}
	if _, err := patch.Apply(nil, scim.Resource{}, nil); err == nil {
		t.Errorf("Apply with no resource type succeeded")
	}
}

type parseCase struct {
	name    string
	body    string
	want    string // the normalized operations as JSON
	wantErr scim.ScimType
}

var parseCases = []parseCase{
	{name: "standard", body: `{"schemas": ["` + scim.PatchOpSchema + `"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}`,
		want: `[{"op": "add", "path": "title", "value": "x"}]`},
	{name: "op in any case", body: `{"schemas": ["` + scim.PatchOpSchema + `"], "Operations": [{"op": "Add", "path": "a", "value": 1}, {"op": "REPLACE", "path": "b", "value": 2}, {"op": "Remove", "path": "c"}]}`,
		want: `[{"op": "add", "path": "a", "value": 1}, {"op": "replace", "path": "b", "value": 2}, {"op": "remove", "path": "c"}]`},
	{name: "member names in any case", body: `{"SCHEMAS": ["` + strings.ToUpper(scim.PatchOpSchema) + `"], "operations": [{"OP": "add", "Path": "title", "VALUE": "x"}]}`,
		want: `[{"op": "add", "path": "title", "value": "x"}]`},
	{name: "schemas missing", body: `{"Operations": [{"op": "remove", "path": "title"}]}`, want: `[{"op": "remove", "path": "title"}]`},
	{name: "schemas null", body: `{"schemas": null, "Operations": [{"op": "remove", "path": "title"}]}`, want: `[{"op": "remove", "path": "title"}]`},
	{name: "schemas without PatchOp", body: `{"schemas": ["` + core + `"], "Operations": [{"op": "remove", "path": "title"}]}`, wantErr: scim.InvalidSyntax},
	{name: "schemas not an array", body: `{"schemas": "` + scim.PatchOpSchema + `", "Operations": [{"op": "remove", "path": "title"}]}`, wantErr: scim.InvalidSyntax},
	{name: "schemas holding a number", body: `{"schemas": [1], "Operations": [{"op": "remove", "path": "title"}]}`, wantErr: scim.InvalidSyntax},
	{name: "schemas twice", body: `{"schemas": ["` + scim.PatchOpSchema + `"], "Schemas": ["` + scim.PatchOpSchema + `"], "Operations": [{"op": "remove", "path": "t"}]}`, wantErr: scim.InvalidSyntax},
	{name: "malformed JSON", body: `{"Operations": [{"op": "add"`, wantErr: scim.InvalidSyntax},
	{name: "trailing data", body: `{"Operations": [{"op": "remove", "path": "t"}]} x`, wantErr: scim.InvalidSyntax},
	{name: "empty body", body: ``, wantErr: scim.InvalidSyntax},
	{name: "not an object", body: `[{"op": "remove", "path": "t"}]`, wantErr: scim.InvalidSyntax},
	{name: "no operations", body: `{"schemas": ["` + scim.PatchOpSchema + `"]}`, wantErr: scim.InvalidSyntax},
	{name: "operations null", body: `{"Operations": null}`, wantErr: scim.InvalidSyntax},
	{name: "operations empty", body: `{"Operations": []}`, wantErr: scim.InvalidSyntax},
	{name: "operations not an array", body: `{"Operations": {"op": "remove", "path": "t"}}`, wantErr: scim.InvalidSyntax},
	{name: "operations twice", body: `{"Operations": [{"op": "remove", "path": "t"}], "operations": [{"op": "remove", "path": "t"}]}`, wantErr: scim.InvalidSyntax},
	{name: "too many operations", body: `{"Operations": [` + strings.Repeat(`{"op": "remove", "path": "t"},`, patch.MaxOperations) + `{"op": "remove", "path": "t"}]}`, wantErr: scim.InvalidSyntax},
	{name: "as many operations as allowed", body: `{"Operations": [` + strings.Repeat(`{"op": "remove", "path": "t"},`, patch.MaxOperations-1) + `{"op": "remove", "path": "t"}]}`},
	{name: "operation not an object", body: `{"Operations": ["add"]}`, wantErr: scim.InvalidSyntax},
	{name: "unknown op", body: `{"Operations": [{"op": "move", "path": "t", "value": 1}]}`, wantErr: scim.InvalidSyntax},
	{name: "op missing", body: `{"Operations": [{"path": "t", "value": 1}]}`, wantErr: scim.InvalidSyntax},
	{name: "op not a string", body: `{"Operations": [{"op": 1, "path": "t", "value": 1}]}`, wantErr: scim.InvalidSyntax},
	{name: "op null", body: `{"Operations": [{"op": null, "path": "t", "value": 1}]}`, wantErr: scim.InvalidSyntax},
	{name: "op twice", body: `{"Operations": [{"op": "add", "OP": "remove", "path": "t", "value": 1}]}`, wantErr: scim.InvalidSyntax},
	{name: "path not a string", body: `{"Operations": [{"op": "remove", "path": ["t"]}]}`, wantErr: scim.InvalidSyntax},
	{name: "path null is no path", body: `{"Operations": [{"op": "add", "path": null, "value": {"title": "x"}}]}`, want: `[{"op": "add", "value": {"title": "x"}}]`},
	{name: "path empty is no path", body: `{"Operations": [{"op": "add", "path": " ", "value": {"title": "x"}}]}`, want: `[{"op": "add", "value": {"title": "x"}}]`},
	{name: "unknown member", body: `{"Operations": [{"op": "remove", "path": "members", "valeu": [{"value": "u1"}]}]}`, wantErr: scim.InvalidSyntax},
	{name: "add without value", body: `{"Operations": [{"op": "add", "path": "t"}]}`, wantErr: scim.InvalidValue},
	{name: "replace without value", body: `{"Operations": [{"op": "replace", "path": "t"}]}`, wantErr: scim.InvalidValue},
	{name: "add null value", body: `{"Operations": [{"op": "add", "path": "t", "value": null}]}`, want: `[{"op": "add", "path": "t"}]`},
	{name: "path-less value not an object", body: `{"Operations": [{"op": "replace", "value": "x"}]}`, wantErr: scim.InvalidValue},
	{name: "path-less value empty", body: `{"Operations": [{"op": "replace", "value": {}}]}`, wantErr: scim.InvalidValue},
	{name: "remove without path parses", body: `{"Operations": [{"op": "remove"}]}`, want: `[{"op": "remove"}]`},
	{name: "malformed path parses", body: `{"Operations": [{"op": "remove", "path": "emails[type eq"}]}`, want: `[{"op": "remove", "path": "emails[type eq"}]`},
	{name: "path-less dotted and URN keys split", body: `{"Operations": [{"op": "replace", "value": {"displayName": "B", "name.givenName": "K", "` + ent + `:employeeNumber": "A", "` + ent + `": {"department": "D"}, "schemas": ["x"]}}]}`,
		want: `[{"op": "replace", "value": {"displayName": "B", "` + ent + `": {"department": "D"}}}, {"op": "replace", "path": "name.givenName", "value": "K"}, {"op": "replace", "path": "` + ent + `:employeeNumber", "value": "A"}]`},
	{name: "path-less with only split keys", body: `{"Operations": [{"op": "add", "value": {"name.givenName": "K"}}]}`,
		want: `[{"op": "add", "path": "name.givenName", "value": "K"}]`},
	{name: "path-less with only schemas", body: `{"Operations": [{"op": "add", "value": {"schemas": ["x"]}}, {"op": "remove", "path": "t"}]}`,
		want: `[{"op": "remove", "path": "t"}]`},
	{name: "path-less key that is no path stays", body: `{"Operations": [{"op": "add", "value": {"a.b.c[": 1}}]}`,
		want: `[{"op": "add", "value": {"a.b.c[": 1}}]`},
	{name: "other top-level members are ignored", body: `{"Operations": [{"op": "remove", "path": "t"}], "id": "x"}`, want: `[{"op": "remove", "path": "t"}]`},
}

func TestParse(t *testing.T) {
	for _, tt := range parseCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patch.Parse([]byte(tt.body))
			if tt.wantErr != "" {
				wantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s) = %v, want success", short(tt.body), err)
			}
			var want []scim.PatchOp
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				if tt.want != "" {
					t.Fatalf("bad want: %v", err)
				}
				if len(got) != patch.MaxOperations {
					t.Fatalf("Parse gave %d operations, want %d", len(got), patch.MaxOperations)
				}
				return
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("Parse(%s) = %s, want %s", short(tt.body), g, w)
			}
		})
	}
}

// TestParseErrorNamesOperation checks that a failure says which operation.
func TestParseErrorNamesOperation(t *testing.T) {
	_, err := patch.Parse([]byte(`{"Operations": [{"op": "remove", "path": "t"}, {"op": "jump"}]}`))
	var se *scim.Error
	if !errors.As(err, &se) || !strings.HasPrefix(se.Detail, "Operations[1]: ") {
		t.Errorf("Parse error %v, want a detail starting with Operations[1]", err)
	}
}

func resourceType(res string) *scim.ResourceType {
	switch res {
	case "group":
		return scim.GroupType
	case "badgeUser", "levelOnly":
		return badgeType
	}
	return scim.UserType
}

func resource(t testing.TB, name string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(resources[name]), &r); err != nil {
		t.Fatalf("resource %s: %v", name, err)
	}
	return r
}

// parse parses a PatchOp body holding operations, a JSON array.
func parse(t testing.TB, operations string) []scim.PatchOp {
	t.Helper()
	ops, err := patch.Parse([]byte(body(operations)))
	if err != nil {
		t.Fatalf("Parse(%s): %v", operations, err)
	}
	return ops
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func body(operations string) string {
	return fmt.Sprintf(`{"schemas": [%q], "Operations": %s}`, scim.PatchOpSchema, operations)
}

// wantError fails unless err is a 400 *scim.Error with scimType st.
func wantError(t *testing.T, err error, st scim.ScimType) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a 400 %s *scim.Error", err, st)
	}
	if se.Status != 400 || se.ScimType != st {
		t.Errorf("error %d %s (%s), want 400 %s", se.Status, se.ScimType, se.Detail, st)
	}
	if se.Detail == "" {
		t.Errorf("error %d %s has no detail", se.Status, se.ScimType)
	}
}

// scrub overwrites every string, number and boolean inside v, so that a
// later check sees whether v shared memory with anything.
func scrub(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				scrub(e)
			default:
				x[k] = "scrubbed"
			}
		}
	case []any:
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				scrub(e)
			default:
				x[i] = "scrubbed"
			}
		}
	case scim.Resource:
		scrub(map[string]any(x))
	}
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
