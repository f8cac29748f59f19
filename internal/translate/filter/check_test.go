package filter_test

import (
	"reflect"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

const (
	deviceSchema = "urn:example:scim:schemas:core:1.0:Device"
	labSchema    = "urn:example:scim:schemas:extension:lab-1.0:Device"
)

// deviceType has an attribute of every type RFC 7643 §2.3 defines, which the
// standard User and Group lack (integer, decimal, ...).
var deviceType = &scim.ResourceType{
	ID: "Device", Name: "Device", Endpoint: "/Devices",
	Schema: &scim.Schema{ID: deviceSchema, Name: "Device", Attributes: []*scim.Attribute{
		{Name: "serial", Type: scim.String, CaseExact: true},
		{Name: "label", Type: scim.String},
		{Name: "count", Type: scim.Integer},
		{Name: "ratio", Type: scim.Decimal},
		{Name: "enabled", Type: scim.Boolean},
		{Name: "seen", Type: scim.DateTime},
		{Name: "firmware", Type: scim.Binary},
		{Name: "homepage", Type: scim.Reference},
		{Name: "tags", Type: scim.String, MultiValued: true},
		{Name: "readings", Type: scim.Decimal, MultiValued: true},
		{Name: "ports", Type: scim.Complex, MultiValued: true, SubAttributes: []*scim.Attribute{
			{Name: "value", Type: scim.Integer},
			{Name: "type", Type: scim.String},
			{Name: "secure", Type: scim.Boolean},
			{Name: "key", Type: scim.String, CaseExact: true},
		}},
	}},
	Extensions: []*scim.Schema{{ID: labSchema, Name: "Lab", Attributes: []*scim.Attribute{
		{Name: "site", Type: scim.String},
		{Name: "rack", Type: scim.Complex, SubAttributes: []*scim.Attribute{
			{Name: "row", Type: scim.Integer},
			{Name: "tag", Type: scim.String, CaseExact: true},
		}},
	}}},
}

func TestCheck(t *testing.T) {
	core := scim.UserSchema + ":"
	tests := []struct {
		name string
		rt   *scim.ResourceType
		in   string
		want string // String() of the checked filter
	}{
		{"core attribute", scim.UserType, `userName eq "x"`, core + `userName eq "x"`},
		{"canonical case", scim.UserType, `USERNAME Eq "x" AND Name.GivenName sw "B"`, core + `userName eq "x" and ` + core + `name.givenName sw "B"`},
		{"common attributes", scim.UserType, `id eq "1" or externalId eq "2" or meta.lastModified gt "2011-05-13T04:42:34Z"`,
			`id eq "1" or externalId eq "2" or meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{"common attributes with core urn", scim.UserType, core + `externalId eq "x" and ` + core + `meta.created pr`, `externalId eq "x" and meta.created pr`},
		{"common attributes any case", scim.UserType, `ID eq "1" and META.RESOURCETYPE eq "User"`, `id eq "1" and meta.resourceType eq "User"`},
		{"multi-valued complex means value", scim.UserType, `emails co "x"`, core + `emails.value co "x"`},
		{"multi-valued complex pr", scim.UserType, `emails pr`, core + `emails pr`},
		{"single-valued complex pr", scim.UserType, `name pr`, core + `name pr`},
		{"sub-attribute of multi-valued", scim.UserType, `emails.value eq "x"`, core + `emails.value eq "x"`},
		{"value path names", scim.UserType, `EMAILS[TYPE eq "work" and Primary eq true]`, core + `emails[type eq "work" and primary eq true]`},
		{"extension unqualified", scim.UserType, `employeeNumber eq "1"`, enterprise + `:employeeNumber eq "1"`},
		{"extension qualified any case", scim.UserType, `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.VALUE eq "x"`, enterprise + `:manager.value eq "x"`},
		{"boolean strings", scim.UserType, `active eq "True" or active ne "FALSE"`, core + `active eq true or ` + core + `active ne false`},
		{"null", scim.UserType, `title eq null and nickName ne null`, core + `title eq null and ` + core + `nickName ne null`},
		{"schemas", scim.UserType, `SCHEMAS eq "x"`, `schemas eq "x"`},
		{"group members", scim.GroupType, `members[value eq "id"] and displayName eq "x"`, scim.GroupSchema + `:members[value eq "id"] and ` + scim.GroupSchema + `:displayName eq "x"`},
		{"not", scim.UserType, `not (userName pr)`, `not (` + core + `userName pr)`},
		{"integer", deviceType, `count gt 1 and ratio le 0.5`, deviceSchema + `:count gt 1 and ` + deviceSchema + `:ratio le 0.5`},
		{"dateTime with offset", deviceType, `seen ge "2024-02-29T23:59:59.123+05:30"`, deviceSchema + `:seen ge "2024-02-29T23:59:59.123+05:30"`},
		{"dateTime substring", deviceType, `seen sw "2024-"`, deviceSchema + `:seen sw "2024-"`},
		{"binary eq", deviceType, `firmware eq "AAEC"`, deviceSchema + `:firmware eq "AAEC"`},
		{"reference order", deviceType, `homepage gt "https://a"`, deviceSchema + `:homepage gt "https://a"`},
		{"multi-valued simple", deviceType, `tags co "x" and readings gt 2`, deviceSchema + `:tags co "x" and ` + deviceSchema + `:readings gt 2`},
		{"multi-valued complex integer value", deviceType, `ports gt 1024`, deviceSchema + `:ports.value gt 1024`},
		{"extension complex", deviceType, `rack.row lt 3`, labSchema + `:rack.row lt 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			before := dump(e)
			got, err := filter.Check(e, tt.rt)
			if err != nil {
				t.Fatalf("Check(%q): %v", tt.in, err)
			}
			if s := got.String(); s != tt.want {
				t.Errorf("Check(%q) = %s, want %s", tt.in, s, tt.want)
			}
			if dump(e) != before {
				t.Errorf("Check(%q) modified its input", tt.in)
			}
			// The checked text parses and checks to the same tree.
			again, err := filter.Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(%q): %v", got.String(), err)
			}
			if again, err = filter.Check(again, tt.rt); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Check(Parse(%q)) = %s, %v, want %s", got.String(), dump(again), err, dump(got))
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	tests := []struct {
		name string
		rt   *scim.ResourceType
		in   string
		want []string
	}{
		{"unknown attribute", scim.UserType, `userName eq "x" and nosuch pr`, []string{"nosuch is not an attribute of User"}},
		{"unknown sub-attribute", scim.UserType, `name.nosuch eq "x"`, []string{"name.nosuch is not an attribute of User"}},
		{"unknown schema", scim.UserType, `urn:example:nope:User:userName eq "x"`, []string{"urn:example:nope:User is not a schema of User"}},
		{"group attribute on users", scim.UserType, `members[value eq "x"]`, []string{"members is not an attribute of User"}},
		{"complex without sub", scim.UserType, `name eq "x"`, []string{"name is a complex attribute", "name.formatted"}},
		{"multi-valued complex without value", scim.UserType, `addresses co "x"`, []string{"addresses is a complex attribute"}},
		{"boolean gt", scim.UserType, `active gt true`, []string{"active gt", "boolean attributes have no order (RFC 7644 §3.4.2.2)"}},
		{"boolean le in value path", scim.UserType, `emails[primary le false]`, []string{"emails[primary] le", "boolean attributes have no order"}},
		{"binary lt", scim.UserType, `x509Certificates.value lt "A"`, []string{"binary attributes have no order"}},
		{"boolean co", scim.UserType, `active co "t"`, []string{"co applies to strings, not to boolean attributes"}},
		{"number sw", deviceType, `count sw 1`, []string{"sw applies to strings, not to integer attributes"}},
		{"boolean string", scim.UserType, `active eq "yes"`, []string{"a boolean attribute takes true or false, not a string"}},
		{"boolean number", scim.UserType, `active eq 1`, []string{"not a number"}},
		{"string number", scim.UserType, `userName eq 42`, []string{"a string attribute takes a string, not a number"}},
		{"string boolean", scim.UserType, `userName eq true`, []string{"not a boolean"}},
		{"integer string", deviceType, `count eq "1"`, []string{"an integer attribute takes a number, not a string"}},
		{"dateTime not rfc3339", scim.UserType, `meta.created gt "2011-05-13"`, []string{`RFC 3339 date-time`, `not "2011-05-13"`}},
		{"dateTime number", scim.UserType, `meta.created gt 2011`, []string{"a dateTime attribute takes a date-time string, not a number"}},
		{"null ordering", scim.UserType, `title gt null`, []string{"null can only be compared with eq or ne"}},
		{"null substring", scim.UserType, `title co null`, []string{"null can only be compared with eq or ne"}},
		{"value path on simple", scim.UserType, `userName[value eq "x"]`, []string{"userName is not a complex attribute"}},
		{"value path unknown sub", scim.UserType, `emails[nosuch eq "x"]`, []string{"nosuch is not a sub-attribute of emails"}},
		{"value path qualified inner", scim.UserType, `emails[urn:x:type eq "x"]`, []string{"name one of its sub-attributes, such as value"}},
		{"value path dotted inner", scim.UserType, `emails[emails.type eq "x"]`, []string{"not emails.type"}},
		{"value path complex pr", scim.UserType, `name[givenName pr]`, nil}, // a single complex value is one element
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got, err := filter.Check(e, tt.rt)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Check(%q): %v, want it accepted", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) = %s, want an error", tt.in, got)
			}
			wantError(t, "Check("+quoteShort(tt.in)+")", err, scim.InvalidFilter, tt.want...)
		})
	}
}

// TestCheckBuilt checks trees built by hand, as the engine and the
// conformance suite build them.
func TestCheckBuilt(t *testing.T) {
	if got, err := filter.Check(nil, scim.UserType); got != nil || err != nil {
		t.Errorf("Check(nil) = %v, %v, want nil, nil", got, err)
	}
	got, err := filter.Check(&filter.Compare{Path: scim.Path{URN: scim.UserSchema, Attr: "userName"}, Op: "EQ", Value: "x"}, scim.UserType)
	if err != nil || got.String() != scim.UserSchema+`:userName eq "x"` {
		t.Errorf("Check(EQ) = %v, %v", got, err)
	}
	got, err = filter.Check(&filter.Compare{Path: scim.Path{Attr: "count"}, Op: filter.Gt, Value: 3}, deviceType)
	if err != nil || got.(*filter.Compare).Value != 3.0 {
		t.Errorf("Check(count gt int 3) = %v, %v, want the value as float64 3", got, err)
	}
	for _, e := range []filter.Expr{
		&filter.And{Left: pr("userName")},
		&filter.Or{Right: pr("userName")},
		&filter.Not{},
		&filter.ValuePath{Path: scim.Path{Attr: "emails"}},
		(*filter.Compare)(nil),
		&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: "xx", Value: "a"},
		&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Pr, Value: "a"},
		&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Eq, Value: []any{"a"}},
		&filter.ValuePath{Path: scim.Path{Attr: "emails"}, Filter: vp("emails", pr("value"))},
		&filter.ValuePath{Path: scim.Path{Attr: "name", Sub: "givenName"}, Filter: pr("value")},
	} {
		if got, err := filter.Check(e, scim.UserType); err == nil {
			t.Errorf("Check(%s) = %s, want an error", dump(e), got)
		} else {
			wantError(t, "Check("+dump(e)+")", err, scim.InvalidFilter)
		}
	}
}
