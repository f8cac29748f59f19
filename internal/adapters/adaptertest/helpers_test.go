package adaptertest

import "testing"

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
