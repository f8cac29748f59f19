package filter_test

import (
	"encoding/json"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// device is a resource of deviceType, decoded from JSON as the engine
// decodes request bodies (numbers as float64).
func device(t *testing.T, body string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

const deviceJSON = `{
	"id": "d1",
	"serial": "SN-ABC-001",
	"label": "Lab Printer Ünit",
	"count": 42,
	"ratio": 0.25,
	"enabled": true,
	"seen": "2024-02-29T23:59:59.5+05:30",
	"firmware": "QUJD",
	"homepage": "https://Example.com/d1",
	"tags": ["Blue", "green"],
	"readings": [1.5, 3, -2],
	"ports": [
		{"value": 22, "type": "ssh", "secure": true, "key": "AbC"},
		{"value": 8080, "type": "HTTP", "secure": false}
	],
	"urn:example:scim:schemas:extension:lab-1.0:Device": {
		"site": "Zürich",
		"rack": {"row": 3, "tag": "R3"}
	}
}`

func TestMatch(t *testing.T) {
	r := device(t, deviceJSON)
	tests := []struct {
		name, in string
		want     bool
	}{
		// Strings: case-insensitive unless caseExact.
		{"string eq folds", `label eq "lab printer ünit"`, true},
		{"string eq non-ascii fold", `label eq "LAB PRINTER ÜNIT"`, true},
		{"caseExact eq", `serial eq "SN-ABC-001"`, true},
		{"caseExact eq other case", `serial eq "sn-abc-001"`, false},
		{"co folds", `label co "PRINTER"`, true},
		{"co non-ascii", `label co "ÜNIT"`, true},
		{"sw folds", `label sw "lab "`, true},
		{"ew folds", `label ew "ÜNIT"`, true},
		{"caseExact co", `serial co "abc"`, false},
		{"caseExact sw", `serial sw "SN-"`, true},
		{"caseExact ew", `serial ew "001"`, true},
		{"co empty", `label co ""`, true},
		{"string gt folds", `label gt "LAB"`, true},
		{"string lt", `label lt "laa"`, false},
		{"string ge equal other case", `label ge "LAB PRINTER ÜNIT"`, true},
		{"string le equal other case", `label le "lab printer ünit"`, true},
		{"caseExact order", `serial gt "sn"`, false}, // "S" < "s" by byte
		{"reference folds", `homepage eq "https://example.com/D1"`, true},
		{"ne", `label ne "x"`, true},
		{"ne equal", `label ne "LAB PRINTER ÜNIT"`, false},

		// Numbers.
		{"integer eq", `count eq 42`, true},
		{"integer eq decimal form", `count eq 42.0`, true},
		{"integer eq exponent", `count eq 4.2e1`, true},
		{"integer gt", `count gt 41`, true},
		{"integer gt equal", `count gt 42`, false},
		{"integer ge", `count ge 42`, true},
		{"integer lt", `count lt 42`, false},
		{"integer le", `count le 42`, true},
		{"decimal lt", `ratio lt 0.3`, true},
		{"decimal eq", `ratio eq 0.25`, true},
		{"decimal ne", `ratio ne 0.25`, false},

		// Booleans.
		{"boolean eq", `enabled eq true`, true},
		{"boolean eq false", `enabled eq false`, false},
		{"boolean ne", `enabled ne false`, true},
		{"boolean string dialect", `enabled eq "TRUE"`, true},

		// Date-times: instants, whatever the offset.
		{"dateTime eq other offset", `seen eq "2024-02-29T18:29:59.5Z"`, true},
		{"dateTime eq same text", `seen eq "2024-02-29T23:59:59.5+05:30"`, true},
		{"dateTime gt", `seen gt "2024-02-29T18:29:59Z"`, true},
		{"dateTime gt later by text", `seen gt "2024-02-29T20:00:00Z"`, false}, // lexically "23:59" > "20:00", but earlier
		{"dateTime lt", `seen lt "2024-02-29T20:00:00Z"`, true},
		{"dateTime ge", `seen ge "2024-02-29T18:29:59.5Z"`, true},
		{"dateTime le", `seen le "2024-02-29T18:29:59.4Z"`, false},
		{"dateTime sw text", `seen sw "2024-02-29T23"`, true},

		// Binary: exact.
		{"binary eq", `firmware eq "QUJD"`, true},
		{"binary eq case", `firmware eq "qujd"`, false},

		// Multi-valued: any value.
		{"multi string any", `tags eq "GREEN"`, true},
		{"multi string none", `tags eq "red"`, false},
		{"multi string ne", `tags ne "blue"`, false}, // some value equals
		{"multi string ne none", `tags ne "red"`, true},
		{"multi decimal gt", `readings gt 2.9`, true},
		{"multi decimal lt", `readings lt -2`, false},
		{"multi complex value", `ports eq 8080`, true},
		{"multi complex value gt", `ports gt 9000`, false},
		{"multi complex sub", `ports.type eq "http"`, true},
		{"multi complex sub caseExact", `ports.key eq "abc"`, false},
		{"multi complex sub pr", `ports.key pr`, true},
		{"value path", `ports[type eq "ssh" and secure eq true]`, true},
		{"value path same element", `ports[type eq "ssh" and value eq 8080]`, false},
		{"sub-attributes any element", `ports.type eq "ssh" and ports.value eq 8080`, true},
		{"value path not", `ports[not (secure eq true)]`, true},
		{"value path or", `ports[value lt 10 or value gt 10000]`, false},

		// Extension.
		{"extension unqualified", `site eq "zürich"`, true},
		{"extension qualified", labSchema + `:site sw "ZÜ"`, true},
		{"extension complex sub", `rack.row eq 3`, true},
		{"extension complex caseExact", `rack.tag eq "r3"`, false},

		// Presence.
		{"pr", `label pr`, true},
		{"pr absent", `nosuch pr`, false},
		{"pr complex", `rack pr`, true},
		{"pr multi", `readings pr`, true},

		// Logic.
		{"and", `count gt 1 and enabled eq true`, true},
		{"and false", `count gt 1 and enabled eq false`, false},
		{"or", `count gt 100 or enabled eq true`, true},
		{"not", `not (count gt 100)`, true},
		{"precedence", `count gt 100 and enabled eq true or serial pr`, true},
		{"grouping", `count gt 100 and (enabled eq true or serial pr)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			// Unknown attributes are only for the unchecked case.
			if checked, err := filter.Check(e, deviceType); err == nil {
				if got := filter.Match(checked, r, deviceType); got != tt.want {
					t.Errorf("Match(%s) = %v, want %v", checked, got, tt.want)
				}
			} else if tt.name != "pr absent" {
				t.Fatalf("Check(%q): %v", tt.in, err)
			}
			if got := filter.Match(e, r, deviceType); got != tt.want {
				t.Errorf("Match(unchecked %s) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestMatchAbsent covers attributes without a value: absent, null, "",
// empty arrays and objects.
func TestMatchAbsent(t *testing.T) {
	r := device(t, `{"id": "d2", "label": "", "tags": [], "serial": null, "rack": {}, "ports": [{"type": "ssh"}],
		"urn:example:scim:schemas:extension:lab-1.0:Device": {"rack": {}}}`)
	tests := []struct {
		in   string
		want bool
	}{
		{`label pr`, false},
		{`label eq ""`, true},
		{`label eq null`, true},
		{`label ne null`, false},
		{`tags pr`, false},
		{`tags eq null`, true},
		{`serial pr`, false},
		{`serial eq null`, true},
		{`serial ne "x"`, true},
		{`count ne 1`, true}, // ne on an absent attribute
		{`count eq 1`, false},
		{`count gt 0`, false},
		{`count lt 0`, false},
		{`not (count gt 0)`, true},
		{`rack pr`, false},
		{`rack.row pr`, false},
		{`ports pr`, true},
		{`ports.value pr`, false},
		{`ports eq null`, true}, // ports.value: no element has one
		{`ports[value pr]`, false},
		{`ports[value ne 1]`, true},
		{`site ne "x"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := filter.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if e, err = filter.Check(e, deviceType); err != nil {
				t.Fatal(err)
			}
			if got := filter.Match(e, r, deviceType); got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", e, got, tt.want)
			}
		})
	}
}

// TestMatchMismatchedTypes feeds values of the wrong type, as a resource
// written behind the gateway's back might hold: they never match.
func TestMatchMismatchedTypes(t *testing.T) {
	r := device(t, `{"id": "d3", "label": 5, "count": "42", "enabled": "yes", "seen": "yesterday",
		"tags": [["nested"], {"a": 1}, 7], "ports": [1, "x", {"value": "22"}]}`)
	for _, in := range []string{
		`label eq "5"`, `label co "5"`, `label gt "4"`,
		`count eq 42`, `count gt 1`,
		`enabled eq true`,
		`seen gt "2000-01-01T00:00:00Z"`, `seen eq "2000-01-01T00:00:00Z"`,
		`tags eq "nested"`, `tags co "a"`, `tags eq "7"`,
		`ports eq 22`, `ports[value eq 22]`,
	} {
		e, err := filter.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = filter.Check(e, deviceType); err != nil {
			t.Fatal(err)
		}
		if filter.Match(e, r, deviceType) {
			t.Errorf("Match(%s) = true on a value of the wrong type", in)
		}
	}
	// pr only asks for a value, whatever its type.
	e, _ := filter.Parse(`seen pr and label pr`)
	if !filter.Match(e, r, deviceType) {
		t.Errorf("Match(seen pr and label pr) = false, want true")
	}
}

func TestMatchUserCaseExact(t *testing.T) {
	r := scim.Resource{
		"id": "2819c223", "externalId": "Ext-1", "userName": "BJensen",
		"meta": map[string]any{"location": "https://example.com/Users/2819c223", "resourceType": "User",
			"lastModified": "2011-05-13T04:42:34Z", "version": `W/"a"`},
	}
	tests := []struct {
		in   string
		want bool
	}{
		{`id eq "2819C223"`, false},
		{`id eq "2819c223"`, true},
		{`externalId eq "ext-1"`, false},
		{`externalId eq "Ext-1"`, true},
		{`userName eq "bjensen"`, true},
		{`meta.location eq "https://EXAMPLE.com/Users/2819c223"`, false},
		{`meta.resourceType eq "user"`, false},
		{`meta.version eq "W/\"a\""`, true},
		{`meta.lastModified gt "2011-05-13T04:42:33Z"`, true},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
		{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
	}
	for _, tt := range tests {
		e, err := filter.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if e, err = filter.Check(e, scim.UserType); err != nil {
			t.Fatal(err)
		}
		if got := filter.Match(e, r, scim.UserType); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMatchElement(t *testing.T) {
	emails := scim.UserSchemaDef.Attr("emails")
	elem := map[string]any{"value": "BJ@example.com", "type": "work", "primary": true}
	tests := []struct {
		in   string
		want bool
	}{
		{`type eq "WORK"`, true},
		{`TYPE eq "work"`, true},
		{`value ew "@EXAMPLE.COM" and primary eq true`, true},
		{`type eq "home" or not (primary eq false)`, true},
		{`display pr`, false},
		{`display ne "x"`, true},
		{`nosuch pr`, false},
		{`type.x pr`, false},
	}
	for _, tt := range tests {
		e, err := filter.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := filter.MatchElement(e, elem, emails); got != tt.want {
			t.Errorf("MatchElement(%s) = %v, want %v", tt.in, got, tt.want)
		}
		if got := filter.MatchElement(e, elem, nil); got != tt.want {
			t.Errorf("MatchElement(%s, nil parent) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if filter.MatchElement(vp("x", pr("y")), elem, emails) {
		t.Errorf("MatchElement(nested value path) = true")
	}
}

// TestMatchUnchecked covers trees built by hand without Check, as the memory
// store receives them, and malformed ones: Match answers without panicking.
func TestMatchUnchecked(t *testing.T) {
	r := scim.Resource{"userName": "bjensen", "Emails": []any{map[string]any{"Value": "b@x.org"}},
		"urn:x:Ext": map[string]any{"foo": "bar"}}
	tests := []struct {
		e    filter.Expr
		want bool
	}{
		{&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Pr}, true},
		{&filter.Compare{Path: scim.Path{Attr: "USERNAME"}, Op: filter.Eq, Value: "BJENSEN"}, true},
		{&filter.Compare{Path: scim.Path{Attr: "emails"}, Op: filter.Co, Value: "X.ORG"}, true},
		{&filter.Compare{Path: scim.Path{URN: "urn:x:Ext", Attr: "foo"}, Op: filter.Eq, Value: "BAR"}, true},
		{&filter.Compare{Path: scim.Path{Attr: "undefined"}, Op: filter.Ne, Value: "x"}, true},
		{&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: "bogus", Value: "x"}, false},
		{&filter.Compare{Path: scim.Path{Attr: "userName"}, Op: filter.Eq, Value: []any{"x"}}, false},
		{&filter.And{Left: nil, Right: pr("userName")}, false},
		{&filter.Or{Left: nil, Right: pr("userName")}, true},
		{&filter.Not{}, false},
		{(*filter.Compare)(nil), false},
		{&filter.ValuePath{Path: scim.Path{Attr: "emails"}}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := filter.Match(tt.e, r, scim.UserType); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", dump(tt.e), got, tt.want)
		}
	}
	if !filter.Match(pr("userName"), r, nil) {
		// Without a resource type nothing resolves; values still compare.
		t.Errorf("Match(userName pr, nil type) = false, want true")
	}
}
