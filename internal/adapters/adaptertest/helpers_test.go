package adaptertest

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestOptionsCheck(t *testing.T) {
	tests := []struct {
		domain string
		ok     bool
	}{
		{"", true},
		{"example.com", true},
		{"mail.Example-1.net", true},
		{"example.org", false},
		{"corp.EXAMPLE.ORG", false},
		{"a@b.com", false},
		{"example..com", false},
		{".example.com", false},
		{"exa mple.com", false},
	}
	for _, tt := range tests {
		err := Options{UserNameDomain: tt.domain}.check()
		if (err == nil) != tt.ok {
			t.Errorf("Options{UserNameDomain: %q}.check() = %v, want ok %v", tt.domain, err, tt.ok)
		}
	}
}

func TestUserNameLocal(t *testing.T) {
	plain := &target{}
	if got := plain.un("bjensen"); got != "bjensen" {
		t.Errorf("un without a domain = %q, want bjensen", got)
	}
	if got := plain.email("bjensen"); got != "bjensen@example.com" {
		t.Errorf("email without a domain = %q, want bjensen@example.com", got)
	}
	x := &target{domain: "example.com"}
	if got := x.un("Alice.Wong"); got != "Alice.Wong@example.com" {
		t.Errorf("un = %q, want Alice.Wong@example.com", got)
	}
	if got := x.email("bjensen"); got != x.un("bjensen") {
		t.Errorf("email = %q, want the userName %q", got, x.un("bjensen"))
	}
	for in, want := range map[string]string{
		"Alice.Wong@example.com":  "Alice.Wong",
		"alice.wong@EXAMPLE.COM":  "alice.wong",
		"a@b@example.com":         "a@b",
		"bjensen":                 "bjensen",
		"bjensen@example.org":     "bjensen@example.org",
		"bjensenexample.com":      "bjensenexample.com",
		"@example.com":            "@example.com",
		"x@sub.example.com":       "x@sub.example.com",
		"u010@example.com":        "u010",
		"no-bulk-id@example.com":  "no-bulk-id",
		"TAKEN@example.com":       "TAKEN",
		"free@example.commercial": "free@example.commercial",
	} {
		if got := x.local(in); got != want {
			t.Errorf("local(%q) = %q, want %q", in, got, want)
		}
	}
	if got := x.userFilter(`userName eq %q or userName eq %q`, "zed", "jsmith"); got != `userName eq "zed@example.com" or userName eq "jsmith@example.com"` {
		t.Errorf("userFilter = %s", got)
	}
}

func TestAdvertised(t *testing.T) {
	full := &target{t: t, users: scim.UserType}
	rc := &target{t: t, users: ringcentral.UserType, requiredName: true}
	if onlyWorkEmails(scim.UserType) || !onlyWorkEmails(ringcentral.UserType) {
		t.Errorf("onlyWorkEmails: full %v, RingCentral %v; want false, true",
			onlyWorkEmails(scim.UserType), onlyWorkEmails(ringcentral.UserType))
	}
	for _, tt := range []struct {
		x          *target
		want       string
		taken      []string
		alt, upper string
		advertised bool
	}{
		{full, "displayName", nil, "displayName", scim.UserSchema + ":DISPLAYNAME", true},
		{full, "nickName", []string{"displayName", "title"}, "nickName", scim.UserSchema + ":NICKNAME", true},
		{rc, "displayName", nil, "title", scim.UserSchema + ":TITLE", false},
		{rc, "title", nil, "title", scim.UserSchema + ":TITLE", true},
		{rc, "nickName", []string{"title"}, ent + ":department", ent + ":DEPARTMENT", false},
		{rc, "nickName", []string{"title", ent + ":department"}, "externalId", "EXTERNALID", false},
	} {
		got := tt.x.alt(tt.want, tt.taken...)
		if got != tt.alt || upperURN(tt.x.users, got) != tt.upper || tt.x.advertises(tt.want) != tt.advertised {
			t.Errorf("alt(%s, %v) = %s (%s), advertises %v; want %s (%s), %v", tt.want, tt.taken, got,
				upperURN(tt.x.users, got), tt.x.advertises(tt.want), tt.alt, tt.upper, tt.advertised)
		}
	}
	if a, b, ok := rc.phoneTypes(); !ok || a != "work" || b != "mobile" {
		t.Errorf("phoneTypes = %s, %s, %v; want work, mobile", a, b, ok)
	}
	for in, want := range map[string]string{
		`{"userName": "a"}`:                                  `{"name":{"familyName":"Default","givenName":"Given"},"userName":"a"}`,
		`{"name": {"givenName": "Pat"}}`:                     `{"name":{"familyName":"Default","givenName":"Pat"}}`,
		`{"name": {"givenName": " ", "familyName": "Chee"}}`: `{"name":{"familyName":"Chee","givenName":"Given"}}`,
	} {
		if got := rc.fill(in); got != want {
			t.Errorf("fill(%s) = %s, want %s", in, got, want)
		}
		if got := full.fill(in); got != in {
			t.Errorf("fill without RequiredName changed %s to %s", in, got)
		}
	}
	r := scim.Resource{"title": "a"}
	put(r, "displayName", "b")
	put(r, ent+":department", "c")
	if str(r, "displayName") != "b" || str(r, ent+":department") != "c" || str(r, "title") != "a" {
		t.Errorf("put: %v", r)
	}
}
