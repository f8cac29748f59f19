package translate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

// storedUser is a User as an adapter returns it: every attribute, the
// derived ones included, and a password an adapter should not return but
// the projection must drop anyway.
const storedUser = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "2819c223",
	"externalId": "bjensen",
	"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3\""},
	"userName": "bjensen",
	"name": {"givenName": "Barbara", "familyName": "Jensen"},
	"displayName": "Babs Jensen",
	"password": "t1meMa$heen",
	"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
	"groups": [{"value": "e9e30dba", "display": "Tour Guides", "type": "direct"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Smith"}}
}`

func TestProjection(t *testing.T) {
	tests := []struct {
		name           string
		rt             *scim.ResourceType
		attrs, exclude []string
		want           string // canonical JSON
	}{
		{
			"default set drops never", scim.UserType, nil, nil,
			`{"displayName":"Babs Jensen","emails":[{"primary":true,"type":"work","value":"bjensen@example.com"},{"type":"home","value":"babs@jensen.org"}],"externalId":"bjensen","groups":[{"display":"Tour Guides","type":"direct","value":"e9e30dba"}],"id":"2819c223","meta":{"created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z","resourceType":"User","version":"W/\"3\""},"name":{"familyName":"Jensen","givenName":"Barbara"},"schemas":["` + coreUser + `","` + ent + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"displayName":"John Smith","value":"26118915"}},"userName":"bjensen"}`,
		},
		{
			"attributes keeps always and schemas", scim.UserType, []string{"userName"}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"comma-separated, any case, spaces", scim.UserType, []string{" USERNAME , displayname"}, nil,
			`{"displayName":"Babs Jensen","id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"sub-attribute of a single complex", scim.UserType, []string{"name.familyName"}, nil,
			`{"id":"2819c223","name":{"familyName":"Jensen"},"schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"sub-attribute of a multi-valued", scim.UserType, []string{"emails.value"}, nil,
			`{"emails":[{"value":"bjensen@example.com"},{"value":"babs@jensen.org"}],"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"urn-qualified core attribute", scim.UserType, []string{coreUser + ":displayName"}, nil,
			`{"displayName":"Babs Jensen","id":"2819c223","schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"extension attribute", scim.UserType, []string{ent + ":manager.value"}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"26118915"}}}`,
		},
		{
			"extension schema as a whole", scim.UserType, []string{ent}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"displayName":"John Smith","value":"26118915"}}}`,
		},
		{
			"meta on request", scim.UserType, []string{"meta.version"}, nil,
			`{"id":"2819c223","meta":{"version":"W/\"3\""},"schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"never even when asked", scim.UserType, []string{"password", "userName"}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"unknown names ignored", scim.UserType, []string{"shoeSize", "urn:example:x:attr", "name.nick", "userName"}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"only unknown names select nothing but always", scim.UserType, []string{"shoeSize"}, nil,
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"excluded", scim.UserType, nil, []string{"emails,meta", "groups", ent},
			`{"displayName":"Babs Jensen","externalId":"bjensen","id":"2819c223","name":{"familyName":"Jensen","givenName":"Barbara"},"schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"excluded sub-attributes", scim.UserType, []string{"name", "emails"}, []string{"name.givenName", "emails.type", "emails.primary"},
			`{"emails":[{"value":"bjensen@example.com"},{"value":"babs@jensen.org"}],"id":"2819c223","name":{"familyName":"Jensen"},"schemas":["` + coreUser + `","` + ent + `"]}`,
		},
		{
			"excluding always keeps it", scim.UserType, []string{"userName"}, []string{"id"},
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
		{
			"excluded extension attribute", scim.UserType, []string{ent}, []string{ent + ":manager"},
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984"}}`,
		},
		{
			"all extension attributes excluded drops the object", scim.UserType, nil, []string{ent + ":employeeNumber", ent + ":manager", "name", "emails", "groups", "meta", "displayName", "externalId"},
			`{"id":"2819c223","schemas":["` + coreUser + `","` + ent + `"],"userName":"bjensen"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(t, storedUser)
			before := canon(t, in)
			got := translate.NewProjection(tt.rt, tt.attrs, tt.exclude).Apply(in)
			if g := canon(t, got); g != tt.want {
				t.Errorf("attributes=%q excludedAttributes=%q\n got %s\nwant %s", tt.attrs, tt.exclude, g, tt.want)
			}
			if canon(t, in) != before {
				t.Errorf("Apply modified its input")
			}
		})
	}
}

// TestProjectionExcludeMembers replays what Entra ID and Okta send when
// they read a group: GET /Groups/{id}?excludedAttributes=members.
func TestProjectionExcludeMembers(t *testing.T) {
	g := decode(t, `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1", "displayName": "Admins",
		"members": [{"value": "u1", "display": "Babs", "type": "User"}], "meta": {"resourceType": "Group"}}`)
	got := translate.NewProjection(scim.GroupType, nil, []string{"members"}).Apply(g)
	want := `{"displayName":"Admins","id":"g1","meta":{"resourceType":"Group"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`
	if c := canon(t, got); c != want {
		t.Errorf("excludedAttributes=members: %s, want %s", c, want)
	}
}

// TestProjectionReturnedModes covers "request" and "never" on
// sub-attributes, which the standard schemas do not use.
func TestProjectionReturnedModes(t *testing.T) {
	rt := &scim.ResourceType{ID: "T", Schema: &scim.Schema{ID: "urn:example:T", Attributes: []*scim.Attribute{
		{Name: "a", Type: scim.String, Returned: scim.ByDefault},
		{Name: "secret", Type: scim.String, Returned: scim.Never},
		{Name: "extra", Type: scim.String, Returned: scim.OnRequest},
		{Name: "c", Type: scim.Complex, Returned: scim.ByDefault, SubAttributes: []*scim.Attribute{
			{Name: "x", Type: scim.String, Returned: scim.ByDefault},
			{Name: "hidden", Type: scim.String, Returned: scim.Never},
			{Name: "more", Type: scim.String, Returned: scim.OnRequest},
			{Name: "key", Type: scim.String, Returned: scim.Always},
		}},
	}}}
	r := decode(t, `{"id": "1", "a": "A", "secret": "S", "extra": "E", "c": {"x": "X", "hidden": "H", "more": "M", "key": "K"}, "vendorOnly": 1}`)
	tests := []struct {
		attrs, exclude []string
		want           string
	}{
		{nil, nil, `{"a":"A","c":{"key":"K","x":"X"},"id":"1","vendorOnly":1}`},
		{[]string{"extra"}, nil, `{"extra":"E","id":"1"}`},
		{[]string{"c"}, nil, `{"c":{"key":"K","x":"X"},"id":"1"}`},
		{[]string{"c.more"}, nil, `{"c":{"key":"K","more":"M"},"id":"1"}`},
		{[]string{"c", "c.more"}, nil, `{"c":{"key":"K","more":"M","x":"X"},"id":"1"}`},
		{[]string{"c.hidden"}, nil, `{"c":{"key":"K"},"id":"1"}`},
		{nil, []string{"c.key", "c.x"}, `{"a":"A","c":{"key":"K"},"id":"1","vendorOnly":1}`},
		{nil, []string{"c"}, `{"a":"A","id":"1","vendorOnly":1}`},
	}
	for _, tt := range tests {
		got := translate.NewProjection(rt, tt.attrs, tt.exclude).Apply(r)
		if c := canon(t, got); c != tt.want {
			t.Errorf("attributes=%q excludedAttributes=%q: %s, want %s", tt.attrs, tt.exclude, c, tt.want)
		}
	}
}

// TestProjectionNonCanonicalKeys checks that a resource whose keys are not
// in their defined case (a vendor's) is still projected by definition.
func TestProjectionNonCanonicalKeys(t *testing.T) {
	r := decode(t, `{"ID": "1", "USERNAME": "u", "Password": "p", "Name": {"GivenName": "G", "familyName": "F"},
		"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"EmployeeNumber": "7", "department": "D"}}`)
	got := translate.NewProjection(scim.UserType, []string{"name.givenName", ent + ":employeeNumber"}, nil).Apply(r)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := "ID,Name,URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"; strings.Join(keys, ",") != want {
		t.Errorf("keys = %v, want %s", keys, want)
	}
	if c := canon(t, got["Name"]); c != `{"GivenName":"G"}` {
		t.Errorf("Name = %s, want only GivenName", c)
	}
	if c := canon(t, got["URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"]); c != `{"EmployeeNumber":"7"}` {
		t.Errorf("extension = %s, want only EmployeeNumber", c)
	}
}

// TestProjectionLongParameters builds projections whose parameters are too
// long to cache, and checks they still apply.
func TestProjectionLongParameters(t *testing.T) {
	long := strings.Repeat("noSuchAttribute,", 40) + "userName"
	for range 2 {
		got := translate.NewProjection(scim.UserType, []string{long}, nil).Apply(decode(t, storedUser))
		if c := canon(t, got); c != `{"id":"2819c223","schemas":["`+coreUser+`","`+ent+`"],"userName":"bjensen"}` {
			t.Errorf("long attributes list: %s", c)
		}
	}
	if p1, p2 := translate.NewProjection(scim.UserType, nil, []string{"members"}), translate.NewProjection(scim.UserType, nil, []string{"members"}); p1 != p2 {
		t.Errorf("the same short parameters built two projections, want the cached one")
	}
}
