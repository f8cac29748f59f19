package adaptertest_test

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

var withDomain = adaptertest.Options{UserNameDomain: "example.com"}

// TestConformanceUserNameDomain runs the suite with email userNames against
// the reference store, natively and with everything emulated on small pages.
func TestConformanceUserNameDomain(t *testing.T) {
	adaptertest.RunWith(t, withDomain, func(t *testing.T) adapters.Adapter { return memory.New() })
}

func TestConformanceUserNameDomainNativeOff(t *testing.T) {
	adaptertest.RunWith(t, withDomain, func(t *testing.T) adapters.Adapter { return nativeOff(t) })
}

// TestConformanceEmailUserNamesEnforced runs the suite against a store that
// refuses what Webex refuses (VENDORS.md 1.6): a userName that is not an
// email address, or a work email marked primary that differs from it. With
// native PATCH off, every write of a User reaches Create or Replace.
func TestConformanceEmailUserNamesEnforced(t *testing.T) {
	adaptertest.RunWith(t, withDomain, func(t *testing.T) adapters.Adapter {
		return emailUserNames{nativeOff(t)}
	})
}

// TestEmailUserNamesRefuses checks that the store above does refuse, so the
// suite passing against it means the suite wrote only what Webex accepts.
func TestEmailUserNamesRefuses(t *testing.T) {
	a := emailUserNames{nativeOff(t)}
	tests := []struct {
		name string
		user scim.Resource
		ok   bool
	}{
		{"plain userName", scim.Resource{"userName": "bjensen"}, false},
		{"email userName", scim.Resource{"userName": "bjensen@example.com"}, true},
		{"primary work email differs", scim.Resource{"userName": "bjensen@example.com",
			"emails": []any{map[string]any{"value": "other@example.com", "type": "work", "primary": true}}}, false},
		{"primary work email equal in another case", scim.Resource{"userName": "babs@example.com",
			"emails": []any{map[string]any{"value": "Babs@example.com", "type": "Work", "primary": true}}}, true},
		{"other work email differs", scim.Resource{"userName": "x@example.com",
			"emails": []any{map[string]any{"value": "other@example.com", "type": "work"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Create(t.Context(), scim.UserType, tt.user)
			var se *scim.Error
			switch {
			case tt.ok && err != nil:
				t.Errorf("Create(%v): %v, want success", tt.user, err)
			case !tt.ok && (!errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidValue):
				t.Errorf("Create(%v): %v, want 400 invalidValue", tt.user, err)
			}
		})
	}
}

func nativeOff(t *testing.T) adapters.Adapter {
	t.Helper()
	no := false
	a, err := (&memory.Config{Native: &no, MaxPageSize: 7}).Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// emailUserNames is an adapter that applies the Webex userName rule before
// writing a User to the adapter it wraps.
type emailUserNames struct {
	adapters.Adapter
}

func (a emailUserNames) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	if err := checkUserName(rt, r); err != nil {
		return nil, err
	}
	return a.Adapter.Create(ctx, rt, r)
}

func (a emailUserNames) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error) {
	if err := checkUserName(rt, r); err != nil {
		return nil, err
	}
	return a.Adapter.Replace(ctx, rt, id, r, ifMatch)
}

func checkUserName(rt *scim.ResourceType, r scim.Resource) error {
	if rt.ID != scim.UserType.ID {
		return nil
	}
	name, _ := r["userName"].(string)
	if addr, err := mail.ParseAddress(name); err != nil || addr.Address != name || addr.Name != "" {
		return scim.BadRequest(scim.InvalidValue, "userName %q is not an email address", name)
	}
	for _, e := range scim.AsList(r["emails"]) {
		m, _ := e.(map[string]any)
		value, _ := m["value"].(string)
		typ, _ := m["type"].(string)
		if primary, _ := m["primary"].(bool); primary && strings.EqualFold(typ, "work") && !strings.EqualFold(value, name) {
			return scim.BadRequest(scim.InvalidValue, "the primary work email %q differs from userName %q", value, name)
		}
	}
	return nil
}
