package translate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

const (
	coreUser = scim.UserSchema
	ent      = scim.EnterpriseUserSchema
)

// decode parses a JSON object literal as a resource.
func decode(t testing.TB, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

// canon renders v as JSON with sorted keys, for comparisons and messages.
func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

// wantScimError fails unless err is a 400 *scim.Error with scimType st
// whose detail contains detail.
func wantScimError(t *testing.T, what string, err error, st scim.ScimType, detail string) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: error %v, want a 400 %s", what, err, st)
		return
	}
	if se.Status != 400 || se.ScimType != st || !strings.Contains(se.Detail, detail) {
		t.Errorf("%s: error %d %s %q, want 400 %s containing %q", what, se.Status, se.ScimType, se.Detail, st, detail)
	}
}

// userBody wraps members (JSON object members without braces) in a User
// body with the core schema.
func userBody(members string) string {
	s := `{"schemas": ["` + coreUser + `"]`
	if members != "" {
		s += ", " + members
	}
	return s + "}"
}

func TestValidateUser(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical JSON of the result
	}{
		{
			"minimal",
			userBody(`"userName": "bjensen"`),
			`{"schemas":["` + coreUser + `"],"userName":"bjensen"}`,
		},
		{
			"names in any case",
			userBody(`"USERNAME": "bjensen", "Name": {"GIVENNAME": "Barbara"}, "EMAILS": [{"VALUE": "b@example.com", "Primary": true}]`),
			`{"emails":[{"primary":true,"value":"b@example.com"}],"name":{"givenName":"Barbara"},"schemas":["` + coreUser + `"],"userName":"bjensen"}`,
		},
		{
			"read-only ignored",
			userBody(`"userName": "ro", "id": "chosen", "meta": {"version": "W/\"1\"", "bogus": 1}, "groups": [{"value": "g1"}]`),
			`{"schemas":["` + coreUser + `"],"userName":"ro"}`,
		},
		{
			"read-only ignored whatever its type",
			userBody(`"userName": "ro", "id": 42, "groups": "not even an array"`),
			`{"schemas":["` + coreUser + `"],"userName":"ro"}`,
		},
		{
			"null, empty array and empty object are unassigned",
			userBody(`"userName": "u", "displayName": null, "emails": [], "name": {}, "roles": [], "addresses": [{}]`),
			`{"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"string booleans",
			userBody(`"userName": "u", "active": "False", "emails": [{"value": "a@example.com", "primary": "TRUE"}]`),
			`{"active":false,"emails":[{"primary":true,"value":"a@example.com"}],"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"single object for a multi-valued attribute",
			userBody(`"userName": "u", "emails": {"value": "a@example.com", "type": "work"}`),
			`{"emails":[{"type":"work","value":"a@example.com"}],"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"extension under its urn, any case",
			userBody(`"userName": "u", "` + strings.ToUpper(ent) + `": {"EMPLOYEENUMBER": "42", "manager": {"value": "m1", "displayName": "read-only"}}`),
			`{"schemas":["` + coreUser + `","` + ent + `"],"` + ent + `":{"employeeNumber":"42","manager":{"value":"m1"}},"userName":"u"}`,
		},
		{
			"extension object adds its schema",
			`{"schemas": ["` + coreUser + `"], "userName": "u", "` + ent + `": {"department": "Tour"}}`,
			`{"schemas":["` + coreUser + `","` + ent + `"],"` + ent + `":{"department":"Tour"},"userName":"u"}`,
		},
		{
			"empty extension object drops its schema",
			`{"schemas": ["` + coreUser + `", "` + ent + `"], "userName": "u", "` + ent + `": {"department": null}}`,
			`{"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"urn-qualified attribute keys",
			userBody(`"` + coreUser + `:userName": "u", "` + ent + `:department": "Ops"`),
			`{"schemas":["` + coreUser + `","` + ent + `"],"` + ent + `":{"department":"Ops"},"userName":"u"}`,
		},
		{
			"core attributes under the core urn",
			`{"` + coreUser + `": {"userName": "u", "externalId": "x"}}`,
			`{"externalId":"x","schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"schemas derived when absent",
			`{"userName": "u"}`,
			`{"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"unknown urn listed without attributes is ignored",
			`{"schemas": ["` + coreUser + `", "urn:example:unknown"], "userName": "u"}`,
			`{"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"write-only accepted",
			userBody(`"userName": "u", "password": "secret"`),
			`{"password":"secret","schemas":["` + coreUser + `"],"userName":"u"}`,
		},
		{
			"typed values",
			userBody(`"userName": "u", "profileUrl": "https://example.com/u", "x509Certificates": [{"value": "TUlJRA=="}]`),
			`{"profileUrl":"https://example.com/u","schemas":["` + coreUser + `"],"userName":"u","x509Certificates":[{"value":"TUlJRA=="}]}`,
		},
		{
			"one primary",
			userBody(`"userName": "u", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": false}]`),
			`{"emails":[{"primary":true,"value":"a"},{"primary":false,"value":"b"}],"schemas":["` + coreUser + `"],"userName":"u"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(t, tt.in)
			before := canon(t, in)
			got, err := translate.Validate(scim.UserType, in, nil)
			if err != nil {
				t.Fatalf("Validate(%s): %v", tt.in, err)
			}
			if g := canon(t, got); g != tt.want {
				t.Errorf("Validate(%s)\n got %s\nwant %s", tt.in, g, tt.want)
			}
			if after := canon(t, in); after != before {
				t.Errorf("Validate modified its input: %s → %s", before, after)
			}
			// The result is canonical: validating it again changes nothing.
			again, err := translate.Validate(scim.UserType, got, nil)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Validate(Validate(x)) = %s, %v; want %s", canon(t, again), err, canon(t, got))
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name     string
		rt       *scim.ResourceType
		in       string
		wantType scim.ScimType
		detail   string // part of the detail: the attribute named
	}{
		{"unknown attribute", scim.UserType, userBody(`"userName": "u", "shoeSize": 42`), scim.InvalidSyntax, `"shoeSize"`},
		{"unknown sub-attribute", scim.UserType, userBody(`"userName": "u", "name": {"nick": "x"}`), scim.InvalidSyntax, `"name.nick"`},
		{"unknown sub-attribute of an element", scim.UserType, userBody(`"userName": "u", "emails": [{"value": "a", "label": "x"}]`), scim.InvalidSyntax, `"emails.label"`},
		{"extension attribute at the top level", scim.UserType, userBody(`"userName": "u", "employeeNumber": "1"`), scim.InvalidSyntax, ent},
		{"unknown extension attribute", scim.UserType, userBody(`"userName": "u", "` + ent + `": {"shoeSize": 1}`), scim.InvalidSyntax, "shoeSize"},
		{"unknown schema key", scim.UserType, userBody(`"userName": "u", "urn:example:ext:1.0:User": {"a": 1}`), scim.InvalidSyntax, "urn:example:ext:1.0:User"},
		{"unknown urn-qualified attribute", scim.UserType, userBody(`"userName": "u", "` + ent + `:shoeSize": 1`), scim.InvalidSyntax, "shoeSize"},
		{"extension not an object", scim.UserType, userBody(`"userName": "u", "` + ent + `": "x"`), scim.InvalidSyntax, ent},
		{"duplicate attribute", scim.UserType, userBody(`"userName": "u", "USERNAME": "v"`), scim.InvalidSyntax, "userName"},
		{"duplicate through urn key", scim.UserType, userBody(`"` + ent + `": {"department": "a"}, "` + ent + `:department": "b", "userName": "u"`), scim.InvalidSyntax, "department"},
		{"duplicate schemas", scim.UserType, `{"schemas": ["` + coreUser + `"], "SCHEMAS": ["` + coreUser + `"], "userName": "u"}`, scim.InvalidSyntax, "schemas"},
		{"schemas not an array", scim.UserType, `{"schemas": "` + coreUser + `", "userName": "u"}`, scim.InvalidSyntax, "schemas"},
		{"schemas element not a string", scim.UserType, `{"schemas": [1], "userName": "u"}`, scim.InvalidSyntax, "schemas"},
		{"schemas without the core schema", scim.UserType, `{"schemas": ["` + scim.GroupSchema + `"], "userName": "u"}`, scim.InvalidSyntax, coreUser},
		{"missing userName", scim.UserType, userBody(`"displayName": "x"`), scim.InvalidValue, "userName"},
		{"null userName", scim.UserType, userBody(`"userName": null`), scim.InvalidValue, "userName"},
		{"blank userName", scim.UserType, userBody(`"userName": "  "`), scim.InvalidValue, "userName"},
		{"missing Group displayName", scim.GroupType, `{"schemas": ["` + scim.GroupSchema + `"], "members": []}`, scim.InvalidValue, "displayName"},
		{"string as number", scim.UserType, userBody(`"userName": 7`), scim.InvalidValue, "userName"},
		{"boolean not a boolean", scim.UserType, userBody(`"userName": "u", "active": "yes"`), scim.InvalidValue, "active"},
		{"boolean as number", scim.UserType, userBody(`"userName": "u", "active": 1`), scim.InvalidValue, "active"},
		{"complex not an object", scim.UserType, userBody(`"userName": "u", "name": "Babs"`), scim.InvalidValue, "name"},
		{"single-valued given an array", scim.UserType, userBody(`"userName": "u", "displayName": ["a"]`), scim.InvalidValue, "displayName"},
		{"sub-attribute type", scim.UserType, userBody(`"userName": "u", "emails": [{"value": "a", "primary": "maybe"}]`), scim.InvalidValue, "emails.primary"},
		{"two primaries", scim.UserType, userBody(`"userName": "u", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": "True"}]`), scim.InvalidValue, "emails"},
		{"null element", scim.UserType, userBody(`"userName": "u", "emails": [null]`), scim.InvalidValue, "emails"},
		{"nested array", scim.UserType, userBody(`"userName": "u", "emails": [[{"value": "a"}]]`), scim.InvalidValue, "emails"},
		{"element not an object", scim.UserType, userBody(`"userName": "u", "emails": ["a@example.com"]`), scim.InvalidValue, "emails"},
		{"binary not base64", scim.UserType, userBody(`"userName": "u", "x509Certificates": [{"value": "not base64!"}]`), scim.InvalidValue, "x509Certificates.value"},
		{"reference not a uri", scim.UserType, userBody(`"userName": "u", "profileUrl": "http://[::1"`), scim.InvalidValue, "profileUrl"},
		{"extension value type", scim.UserType, userBody(`"userName": "u", "` + ent + `": {"department": 5}`), scim.InvalidValue, ent + ":department"},
		{"body not an object", scim.UserType, ``, scim.InvalidSyntax, "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in scim.Resource
			if tt.in != "" {
				in = decode(t, tt.in)
			}
			got, err := translate.Validate(tt.rt, in, nil)
			if err == nil {
				t.Fatalf("Validate(%s) = %s, want a 400 %s", tt.in, canon(t, got), tt.wantType)
			}
			wantScimError(t, "Validate("+tt.in+")", err, tt.wantType, tt.detail)
		})
	}
}

// typesRT is a resource type whose schema has one attribute of each type,
// for the type checks the standard schemas do not exercise.
var typesRT = &scim.ResourceType{
	ID: "Thing", Name: "Thing", Endpoint: "/Things",
	Schema: &scim.Schema{ID: "urn:example:schemas:Thing", Attributes: []*scim.Attribute{
		{Name: "name", Type: scim.String, Required: true, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "count", Type: scim.Integer, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "ratio", Type: scim.Decimal, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "when", Type: scim.DateTime, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "serial", Type: scim.String, CaseExact: true, Mutability: scim.Immutable, Returned: scim.ByDefault},
		{Name: "tags", Type: scim.String, MultiValued: true, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		{Name: "codes", Type: scim.String, MultiValued: true, Mutability: scim.Immutable, Returned: scim.ByDefault},
		{Name: "origin", Type: scim.Complex, Mutability: scim.Immutable, Returned: scim.ByDefault, SubAttributes: []*scim.Attribute{
			{Name: "site", Type: scim.String, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
			{Name: "weight", Type: scim.Decimal, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
		}},
		{Name: "owner", Type: scim.Complex, Mutability: scim.ReadWrite, Returned: scim.ByDefault, SubAttributes: []*scim.Attribute{
			{Name: "value", Type: scim.String, Required: true, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
			{Name: "since", Type: scim.DateTime, Mutability: scim.Immutable, Returned: scim.ByDefault},
		}},
	}},
	Extensions: []*scim.Schema{{ID: "urn:example:schemas:ThingExt", Attributes: []*scim.Attribute{
		{Name: "code", Type: scim.String, Required: true, Mutability: scim.ReadWrite, Returned: scim.ByDefault},
	}}},
	Required: map[string]bool{"urn:example:schemas:ThingExt": true},
}

func thing(members string) string {
	return `{"name": "n", "urn:example:schemas:ThingExt": {"code": "c"}` + members + `}`
}

func TestValidateTypes(t *testing.T) {
	ok := []struct{ name, in, want string }{
		{"integer", thing(`, "count": 3`), `"count":3`},
		{"integer exponent", thing(`, "count": 3e2`), `"count":300`},
		{"decimal", thing(`, "ratio": 0.25`), `"ratio":0.25`},
		{"decimal integral", thing(`, "ratio": 2`), `"ratio":2`},
		{"dateTime", thing(`, "when": "2008-01-23T04:56:22Z"`), `"when":"2008-01-23T04:56:22Z"`},
		{"dateTime fraction and offset", thing(`, "when": "2008-01-23T04:56:22.123+02:00"`), `"when":"2008-01-23T04:56:22.123+02:00"`},
		{"simple multi-valued", thing(`, "tags": ["a", "b"]`), `"tags":["a","b"]`},
		{"single value for simple multi-valued", thing(`, "tags": "a"`), `"tags":["a"]`},
	}
	for _, tt := range ok {
		got, err := translate.Validate(typesRT, decode(t, tt.in), nil)
		if err != nil {
			t.Errorf("%s: Validate(%s): %v", tt.name, tt.in, err)
			continue
		}
		if g := canon(t, got); !strings.Contains(g, tt.want) {
			t.Errorf("%s: Validate(%s) = %s, want it to contain %s", tt.name, tt.in, g, tt.want)
		}
	}
	bad := []struct{ name, in, detail string }{
		{"integer with fraction", thing(`, "count": 1.5`), "count"},
		{"integer as string", thing(`, "count": "1"`), "count"},
		{"integer too large", thing(`, "count": 1e300`), "count"},
		{"decimal as string", thing(`, "ratio": "0.5"`), "ratio"},
		{"dateTime without zone", thing(`, "when": "2008-01-23T04:56:22"`), "when"},
		{"dateTime date only", thing(`, "when": "2008-01-23"`), "when"},
		{"dateTime as number", thing(`, "when": 1200000000`), "when"},
		{"multi-valued element type", thing(`, "tags": ["a", 1]`), "tags"},
		{"required sub-attribute", thing(`, "owner": {"since": "2008-01-23T04:56:22Z"}`), "owner.value"},
	}
	for _, tt := range bad {
		_, err := translate.Validate(typesRT, decode(t, tt.in), nil)
		wantScimError(t, tt.name, err, scim.InvalidValue, tt.detail)
	}
	_, err := translate.Validate(typesRT, decode(t, `{"name": "n"}`), nil)
	wantScimError(t, "required extension missing", err, scim.InvalidValue, "urn:example:schemas:ThingExt")
	_, err = translate.Validate(typesRT, decode(t, `{"name": "n", "urn:example:schemas:ThingExt": {"code": ""}}`), nil)
	wantScimError(t, "required extension attribute blank", err, scim.InvalidValue, "urn:example:schemas:ThingExt:code")
}

func TestValidateImmutable(t *testing.T) {
	if !translate.HasImmutable(typesRT) {
		t.Errorf("HasImmutable(typesRT) = false, want true")
	}
	// Group members.value is immutable per element only (see Validate), and
	// User has nothing immutable.
	for _, rt := range []*scim.ResourceType{scim.UserType, scim.GroupType} {
		if translate.HasImmutable(rt) {
			t.Errorf("HasImmutable(%s) = true, want false", rt.ID)
		}
	}
	current := decode(t, thing(`, "id": "1", "serial": "SN-1", "owner": {"value": "o", "since": "2020-01-01T00:00:00Z"},
		"codes": ["a", "B"], "origin": {"site": "Lab", "weight": 1.5}`))
	tests := []struct {
		name    string
		in      string
		want    string // part of the result, when no error
		wantErr string // part of the error detail
	}{
		{"same value", thing(`, "serial": "SN-1"`), `"serial":"SN-1"`, ""},
		{"omitted keeps the current value", thing(``), `"serial":"SN-1"`, ""},
		{"omitted sub-attribute kept", thing(`, "owner": {"value": "p"}`), `"owner":{"since":"2020-01-01T00:00:00Z","value":"p"}`, ""},
		{"same instant in another zone", thing(`, "owner": {"value": "o", "since": "2020-01-01T01:00:00+01:00"}`), `"since":"2020-01-01T01:00:00+01:00"`, ""},
		{"multi-valued in another order and case", thing(`, "codes": ["b", "A"]`), `"codes":["b","A"]`, ""},
		{"complex, same value", thing(`, "origin": {"site": "LAB", "weight": 1.5}`), `"origin":{"site":"LAB","weight":1.5}`, ""},
		{"changed", thing(`, "serial": "SN-2"`), "", "serial"},
		{"multi-valued element changed", thing(`, "codes": ["a", "C"]`), "", "codes"},
		{"multi-valued element added", thing(`, "codes": ["a", "B", "c"]`), "", "codes"},
		{"complex sub-attribute changed", thing(`, "origin": {"site": "Lab", "weight": 2}`), "", "origin"},
		{"complex sub-attribute dropped", thing(`, "origin": {"site": "Lab"}`), "", "origin"},
		{"changed case of a caseExact value", thing(`, "serial": "sn-1"`), "", "serial"},
		{"changed sub-attribute", thing(`, "owner": {"value": "o", "since": "2021-01-01T00:00:00Z"}`), "", "owner.since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := translate.Validate(typesRT, decode(t, tt.in), current)
			if tt.wantErr != "" {
				wantScimError(t, "Validate", err, scim.Mutability, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Validate(%s): %v", tt.in, err)
			}
			if g := canon(t, got); !strings.Contains(g, tt.want) {
				t.Errorf("Validate(%s) = %s, want it to contain %s", tt.in, g, tt.want)
			}
		})
	}
	// Not yet set: a PUT may set it.
	fresh := decode(t, thing(`, "id": "1"`))
	if _, err := translate.Validate(typesRT, decode(t, thing(`, "serial": "SN-9"`)), fresh); err != nil {
		t.Errorf("Validate setting an unset immutable attribute: %v", err)
	}
	// Group members come and go on PUT although members.value is immutable.
	cur := decode(t, `{"displayName": "G", "members": [{"value": "a"}]}`)
	if _, err := translate.Validate(scim.GroupType, decode(t, `{"displayName": "G", "members": [{"value": "b"}]}`), cur); err != nil {
		t.Errorf("Validate replacing Group members: %v", err)
	}
}

// TestValidateNumbers decodes with json.Decoder.UseNumber, as a caller
// keeping integer precision would, and passes Go numbers directly.
func TestValidateNumbers(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(thing(`, "count": 12, "ratio": 0.5`)))
	dec.UseNumber()
	var r scim.Resource
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	got, err := translate.Validate(typesRT, r, nil)
	if err != nil || got["count"] != float64(12) || got["ratio"] != 0.5 {
		t.Errorf("Validate with json.Number = %v, %v; want float64 values", got, err)
	}
	r = decode(t, thing(``))
	r["count"], r["ratio"] = 7, int64(3)
	if got, err := translate.Validate(typesRT, r, nil); err != nil || got["count"] != float64(7) || got["ratio"] != float64(3) {
		t.Errorf("Validate with Go ints = %v, %v", got, err)
	}
	r["count"] = json.Number("1.5")
	_, err = translate.Validate(typesRT, r, nil)
	wantScimError(t, "json.Number with a fraction for an integer", err, scim.InvalidValue, "count")
	r["count"] = struct{}{}
	_, err = translate.Validate(typesRT, r, nil)
	wantScimError(t, "a Go value no JSON decoder makes", err, scim.InvalidValue, "unsupported value")
}
