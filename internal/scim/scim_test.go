package scim

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("memory: get: %w", NotFound("User", "42"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is(%v, ErrNotFound) = false, want true", err)
	}
	if errors.Is(err, ErrConflict) {
		t.Errorf("errors.Is(%v, ErrConflict) = true, want false", err)
	}
	dup := Conflict("userName %q is taken", "bjensen")
	if !errors.Is(dup, &Error{Status: http.StatusConflict, ScimType: Uniqueness}) {
		t.Errorf("errors.Is(%v, 409 uniqueness) = false, want true", dup)
	}
	if errors.Is(dup, &Error{Status: http.StatusConflict, ScimType: Mutability}) {
		t.Errorf("errors.Is(%v, 409 mutability) = true, want false", dup)
	}
}

func TestAsErrorHidesCause(t *testing.T) {
	se := AsError(errors.New("dial tcp 10.0.0.1: secret detail"))
	if se.Status != http.StatusInternalServerError || se.Detail != "internal error" {
		t.Errorf("AsError(plain) = %d %q, want 500 %q", se.Status, se.Detail, "internal error")
	}
	orig := BadRequest(InvalidFilter, "bad")
	if got := AsError(fmt.Errorf("wrap: %w", orig)); got != orig {
		t.Errorf("AsError(wrapped) = %v, want the original *Error", got)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"userName", UserSchema + ":userName", true},
		{"USERNAME", UserSchema + ":userName", true},
		{"name.givenname", UserSchema + ":name.givenName", true},
		{"emails.value", UserSchema + ":emails.value", true},
		{"id", "id", true},
		{"meta.lastModified", "meta.lastModified", true},
		{"employeeNumber", EnterpriseUserSchema + ":employeeNumber", true},
		{EnterpriseUserSchema + ":manager.value", EnterpriseUserSchema + ":manager.value", true},
		{UserSchema + ":userName", UserSchema + ":userName", true},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department", EnterpriseUserSchema + ":department", true},
		{"nosuch", "", false},
		{"name.nosuch", "", false},
		{"urn:example:unknown:1.0:User:attr", "", false},
		{GroupSchema + ":displayName", "", false},
	}
	for _, tt := range tests {
		got, _, _, ok := UserType.Resolve(ParsePath(tt.in))
		if ok != tt.wantOK || (ok && got.String() != tt.want) {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.in, got.String(), ok, tt.want, tt.wantOK)
		}
	}
}

func TestResourceGet(t *testing.T) {
	r := Resource{
		"userName": "bjensen",
		"name":     map[string]any{"givenName": "Barbara"},
		EnterpriseUserSchema: map[string]any{
			"employeeNumber": "701984",
		},
	}
	tests := []struct {
		path string
		want any
	}{
		{"username", "bjensen"},
		{"name.GIVENNAME", "Barbara"},
		{EnterpriseUserSchema + ":employeeNumber", "701984"},
		{UserSchema + ":userName", "bjensen"},
	}
	for _, tt := range tests {
		if got, ok := r.Get(ParsePath(tt.path)); !ok || got != tt.want {
			t.Errorf("Get(%q) = %v, %v; want %v", tt.path, got, ok, tt.want)
		}
	}
	if _, ok := r.Get(ParsePath("name.familyName")); ok {
		t.Error(`Get("name.familyName") found a value that is not there`)
	}
}

func TestCloneIsDeep(t *testing.T) {
	r := Resource{"emails": []any{map[string]any{"value": "a@example.com"}}}
	c := r.Clone()
	c["emails"].([]any)[0].(map[string]any)["value"] = "changed"
	if got := r["emails"].([]any)[0].(map[string]any)["value"]; got != "a@example.com" {
		t.Errorf("changing the clone changed the original: %v", got)
	}
}
