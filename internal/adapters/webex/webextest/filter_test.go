package webextest

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

// userFilterCases are checked against the table, and the accepted ones
// against a stored user over HTTP.
var userFilterCases = []struct {
	filter string
	ok     bool
	match  bool // with ok: whether the test user matches
	both   bool // with ok: both stored users match
}{
	{`id eq "ID"`, true, true, false},
	{`userName eq "jane.doe@example.com"`, true, true, false},
	{`userName Eq "JANE.DOE@example.com"`, true, true, false},
	{`userName SW "jane" and userName ew "example.com"`, true, true, false},
	{`userName eq "x@example.com" or userName eq "jane.doe@example.com"`, true, true, false},
	{`(userName sw "x") or (displayName sw "Jane")`, true, true, false},
	{`name.familyName ew "oe"`, true, true, false},
	{`name.givenName sw "Ja"`, true, true, false},
	{`name.middleName sw "Q"`, true, false, false},
	{`name.formatted eq "Jane Doe"`, true, true, false},
	{`displayName ew "Doe"`, true, true, false},
	{`nickName eq "JD"`, true, true, false},
	{`emails.value eq "jane.doe@example.com"`, true, true, false},
	{`emails eq "jane@home.example"`, true, true, false},
	{`emails.display sw "x"`, true, false, false},
	{`phoneNumbers.value ew "0100"`, true, true, false},
	{`phoneNumbers.display eq "x"`, true, false, false},
	{`phoneNumbers [ type eq "mobile" and value eq "+14085550100"]`, true, true, false},
	{`phoneNumbers[type eq "work_extension"]`, true, false, false},
	{`emails[type eq "home" and value sw "jane"]`, true, true, false},
	{`emails[primary eq true]`, true, true, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D"`, true, true, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw "70"`, true, true, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter ew "30"`, true, true, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization eq "O"`, true, false, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division eq "D"`, true, false, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, true, false, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "x"`, true, false, false},
	{`urn:scim:schemas:extension:cisco:webexidentity:2.0:User:meta.organizationId eq "ORG"`, true, true, true},

	{`externalId pr`, false, false, false},
	{`externalId eq "idp-1"`, false, false, false},
	{`active eq true`, false, false, false},
	{`userName co "jane"`, false, false, false},
	{`userName ne "x"`, false, false, false},
	{`userName pr`, false, false, false},
	{`userName gt "a"`, false, false, false},
	{`not (userName eq "x")`, false, false, false},
	{`id sw "a"`, false, false, false},
	{`name.givenName ew "e"`, false, false, false},
	{`title eq "Dr."`, false, false, false},
	{`meta.lastModified gt "2020-01-01T00:00:00Z"`, false, false, false},
	{`emails.type eq "work"`, false, false, false},
	{`emails pr`, false, false, false},
	{`addresses[type eq "work"]`, false, false, false},
	{`emails[value co "x"]`, false, false, false},
	{`emails[not (type eq "work")]`, false, false, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value sw "x"`, false, false, false},
	{`userName eq "x" and active eq true`, false, false, false},
	{`shoeSize eq "9"`, false, false, false},
	{`userName eq`, false, false, false},
	{`userName eq "unterminated`, false, false, false},
}

func TestUserFilterTable(t *testing.T) {
	c := newClient(t)
	b := user("jane.doe@example.com")
	b["displayName"] = "Jane Doe"
	b["nickName"] = "JD"
	b["name"] = map[string]any{"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe"}
	b["emails"] = []any{map[string]any{"value": "jane@home.example", "type": "home"}}
	b["phoneNumbers"] = []any{map[string]any{"value": "+14085550100", "type": "mobile"}}
	b[scim.EnterpriseUserSchema] = map[string]any{"department": "R&D", "employeeNumber": "701984", "costCenter": "4130"}
	id := c.create("/Users", b)
	c.create("/Users", user("other@example.com"))

	for _, tt := range userFilterCases {
		t.Run(tt.filter, func(t *testing.T) {
			f := strings.NewReplacer(`"ID"`, `"`+id+`"`, `"ORG"`, `"`+c.srv.OrgID()+`"`).Replace(tt.filter)
			r := c.do(http.MethodGet, "/Users?filter="+url.QueryEscape(f), nil)
			if !tt.ok {
				r.wantSCIMError(t, http.StatusBadRequest, scim.InvalidFilter)
				return
			}
			r.want(t, http.StatusOK)
			got := ids(r)
			if tt.both {
				if len(got) != 2 {
					t.Errorf("filter %s matched %v, want both users", f, got)
				}
				return
			}
			if matched := len(got) == 1 && got[0] == id; matched != tt.match || len(got) > 1 {
				t.Errorf("filter %s matched %v, want the user: %v", f, got, tt.match)
			}
		})
	}
}

func TestUnsupportedFilterDetail(t *testing.T) {
	_, err := parseFilter(webex.UserType, `externalId pr`)
	var ae *apiError
	if !errors.As(err, &ae) || ae.detail != "The user's externalid, operator: PR is not supported search." {
		t.Errorf("parseFilter(externalId pr) = %v, want the live service's text", err)
	}
}

func TestGroupFilterTable(t *testing.T) {
	for _, tt := range []struct {
		filter string
		ok     bool
	}{
		{`displayName eq "g1"`, true},
		{`displayName Eq "g1" or displayName Eq "g2"`, true},
		{`id eq "x"`, true},
		{`id eq "x" and displayName eq "y"`, true},
		{`displayName sw "g"`, false},
		{`displayName co "g"`, false},
		{`externalId eq "x"`, false},
		{`members.value eq "x"`, false},
		{`members[value eq "x"]`, false},
		{`not (displayName eq "x")`, false},
		{`urn:scim:schemas:extension:cisco:webexidentity:2.0:Group:usage eq "policy"`, false},
	} {
		_, err := parseFilter(webex.GroupType, tt.filter)
		if (err == nil) != tt.ok {
			t.Errorf("group filter %s: err = %v, want ok %v", tt.filter, err, tt.ok)
		}
	}
}

// FuzzParseFilter: for any input the table check answers nil or a 400
// invalidFilter, never panics, and what it accepts can be matched.
func FuzzParseFilter(f *testing.F) {
	for _, tt := range userFilterCases {
		f.Add(tt.filter)
	}
	f.Add(`displayName eq "g1" or displayName eq "g2"`)
	f.Add(`phoneNumbers[type eq "work"].value eq "1"`)
	probe := scim.Resource{"id": "x", "userName": "a@example.com", "displayName": "g1",
		"emails": []any{map[string]any{"value": "a@example.com", "type": "work", "primary": true}}}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1024 {
			return
		}
		for _, rt := range []*scim.ResourceType{webex.UserType, webex.GroupType} {
			e, err := parseFilter(rt, in)
			if err != nil {
				ae := asAPIError(err)
				if ae.status != http.StatusBadRequest || ae.scimType != scim.InvalidFilter || ae.platform {
					t.Fatalf("parseFilter(%s, %q) = %v, want a family-1 400 invalidFilter", rt.ID, in, err)
				}
				continue
			}
			if e != nil {
				_ = filter.Match(e, probe, rt)
			}
		}
	})
}
