package adaptertest_test

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/adaptertest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
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

// ringCentralOptions are the Options a RingCentral target runs with:
// userNames are work emails, and a user needs a given and a family name.
var ringCentralOptions = adaptertest.Options{UserNameDomain: "example.com", RequiredName: true}

// TestConformanceRequiredName runs the suite with RequiredName against the
// reference store, which advertises every attribute: the default name
// parts must not disturb any case.
func TestConformanceRequiredName(t *testing.T) {
	adaptertest.RunWith(t, ringCentralOptions, func(t *testing.T) adapters.Adapter { return memory.New() })
}

// TestConformanceRingCentralLike runs the suite against the reference store
// cut down to what a RingCentral target advertises and refusing what the
// RingCentral adapter refuses (ringCentralLike), so that the suite passing
// means it wrote, filtered on and asserted only what such a target has.
func TestConformanceRingCentralLike(t *testing.T) {
	adaptertest.RunWith(t, ringCentralOptions, newRingCentralLike)
}

// TestRingCentralLikeRefuses checks that the store above does refuse, so the
// suite passing against it means the suite wrote only what RingCentral
// accepts.
func TestRingCentralLikeRefuses(t *testing.T) {
	named := func(r scim.Resource) scim.Resource {
		r["name"] = map[string]any{"givenName": "Babs", "familyName": "Jensen"}
		return r
	}
	email := func(value, typ string) map[string]any { return map[string]any{"value": value, "type": typ} }
	tests := []struct {
		name string
		user scim.Resource
		ok   bool
	}{
		{"name given and family", named(scim.Resource{"userName": "bj@example.com"}), true},
		{"no name", scim.Resource{"userName": "bj@example.com"}, false},
		{"no familyName", scim.Resource{"userName": "bj@example.com", "name": map[string]any{"givenName": "Babs"}}, false},
		{"blank givenName", scim.Resource{"userName": "bj@example.com", "name": map[string]any{"givenName": " ", "familyName": "J"}}, false},
		{"work email equal to userName", named(scim.Resource{"userName": "bj@example.com",
			"emails": []any{email("BJ@example.com", "work")}}), true},
		{"work email differs", named(scim.Resource{"userName": "bj@example.com",
			"emails": []any{email("other@example.com", "work")}}), false},
		{"home email", named(scim.Resource{"userName": "bj@example.com",
			"emails": []any{email("bj@example.com", "home")}}), false},
		{"two emails", named(scim.Resource{"userName": "bj@example.com",
			"emails": []any{email("bj@example.com", "work"), email("bj@example.com", "work")}}), false},
		{"home address", named(scim.Resource{"userName": "bj@example.com",
			"addresses": []any{map[string]any{"locality": "Paris", "type": "home"}}}), false},
		{"work address", named(scim.Resource{"userName": "bj@example.com",
			"addresses": []any{map[string]any{"locality": "Paris", "type": "work"}}}), true},
		{"phone numbers of two types", named(scim.Resource{"userName": "bj@example.com",
			"phoneNumbers": []any{email("+15550100", "work"), email("+15550101", "mobile")}}), true},
		{"two phone numbers of one type", named(scim.Resource{"userName": "bj@example.com",
			"phoneNumbers": []any{email("+15550100", "mobile"), email("+15550101", "mobile")}}), false},
		{"fax", named(scim.Resource{"userName": "bj@example.com",
			"phoneNumbers": []any{email("+15550100", "fax")}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newRingCentralLike(t)
			got, err := a.Create(t.Context(), ringcentral.UserType, tt.user)
			var se *scim.Error
			switch {
			case tt.ok && err != nil:
				t.Fatalf("Create(%v): %v, want success", tt.user, err)
			case !tt.ok && (!errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidValue):
				t.Fatalf("Create(%v): %v, want 400 invalidValue", tt.user, err)
			case !tt.ok:
				return
			}
			// What Create accepts, Replace does, and a PATCH that breaks a
			// rule is refused and changes nothing.
			if _, err := a.Replace(t.Context(), ringcentral.UserType, got.ID(), tt.user, ""); err != nil {
				t.Errorf("Replace with what Create accepted: %v", err)
			}
			_, err = a.(adapters.Patcher).Patch(t.Context(), ringcentral.UserType, got.ID(),
				[]scim.PatchOp{{Op: "remove", Path: "name.familyName"}}, "")
			if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidValue {
				t.Errorf("Patch removing familyName: %v, want 400 invalidValue", err)
			}
			if after, err := a.Get(t.Context(), ringcentral.UserType, got.ID()); err != nil || after["name"].(map[string]any)["familyName"] != "Jensen" {
				t.Errorf("after a refused Patch: %v, %v", after, err)
			}
		})
	}
}

// ringCentralLike is the reference store seen as a RingCentral target
// (VENDORS.md 2): Users only, of ringcentral.UserType; the filters and
// PATCH the RingCentral adapter declares native, no native sort or ETag,
// small pages; and each write of a User checked as the RingCentral adapter
// checks it (ringCentralUser).
type ringCentralLike struct {
	adapters.Adapter // a memory store, native
}

func newRingCentralLike(t *testing.T) adapters.Adapter {
	t.Helper()
	a, err := (&memory.Config{MaxPageSize: 7}).Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ringCentralLike{a}
}

func (a ringCentralLike) Capabilities() adapters.Capabilities {
	return adapters.Capabilities{
		ResourceTypes: []*scim.ResourceType{ringcentral.UserType},
		Filter: map[string]adapters.FilterSupport{"User": {Ops: map[string][]filter.Op{
			scim.UserSchema + ":userName":     {filter.Eq},
			scim.UserSchema + ":emails.value": {filter.Eq},
		}}},
		MaxPageSize: a.Adapter.Capabilities().MaxPageSize,
		Patch:       true,
	}
}

func (a ringCentralLike) Create(ctx context.Context, rt *scim.ResourceType, r scim.Resource) (scim.Resource, error) {
	r, err := ringCentralUser(r)
	if err != nil {
		return nil, err
	}
	return a.Adapter.Create(ctx, rt, r)
}

func (a ringCentralLike) Replace(ctx context.Context, rt *scim.ResourceType, id string, r scim.Resource, ifMatch string) (scim.Resource, error) {
	r, err := ringCentralUser(r)
	if err != nil {
		return nil, err
	}
	return a.Adapter.Replace(ctx, rt, id, r, ifMatch)
}

// Patch checks the user as the operations would leave it, then applies
// them natively.
func (a ringCentralLike) Patch(ctx context.Context, rt *scim.ResourceType, id string, ops []scim.PatchOp, ifMatch string) (scim.Resource, error) {
	cur, err := a.Adapter.Get(ctx, rt, id)
	if err != nil {
		return nil, err
	}
	next, err := patch.Apply(rt, cur, ops)
	if err != nil {
		return nil, err
	}
	if _, err := ringCentralUser(next); err != nil {
		return nil, err
	}
	return a.Adapter.(adapters.Patcher).Patch(ctx, rt, id, ops, ifMatch)
}

// ringCentralUser checks a User as the RingCentral adapter does before it
// writes one (VENDORS.md 2.6), and as its simulator does for phone
// numbers: a 400 invalidValue for a user without a given and a family
// name, with more than one email or an email other than userName, or with
// an email, phone number or address of a type outside the canonical values
// of ringcentral.UserType, or two phone numbers of one type. A user
// without an email gets its work email, as the adapter adds it.
func ringCentralUser(r scim.Resource) (scim.Resource, error) {
	name, _ := r["name"].(map[string]any)
	given, _ := name["givenName"].(string)
	family, _ := name["familyName"].(string)
	if strings.TrimSpace(given) == "" || strings.TrimSpace(family) == "" {
		return nil, scim.BadRequest(scim.InvalidValue, "RingCentral requires name.givenName and name.familyName")
	}
	userName, _ := r["userName"].(string)
	switch emails := scim.AsList(r["emails"]); len(emails) {
	case 0:
		r = r.Clone()
		r["emails"] = []any{map[string]any{"value": userName, "type": "work"}}
	case 1:
		m, _ := emails[0].(map[string]any)
		if v, _ := m["value"].(string); !strings.EqualFold(v, userName) {
			return nil, scim.BadRequest(scim.InvalidValue, "the work email %q differs from userName %q", v, userName)
		}
	default:
		return nil, scim.BadRequest(scim.InvalidValue, "RingCentral keeps one email; got %d", len(emails))
	}
	for _, attr := range []string{"emails", "phoneNumbers", "addresses"} {
		canonical := ringcentral.UserType.Schema.Attr(attr).Sub("type").CanonicalValues
		seen := map[string]bool{}
		for _, e := range scim.AsList(r[attr]) {
			m, _ := e.(map[string]any)
			typ, _ := m["type"].(string)
			typ = strings.ToLower(typ)
			if typ == "" && attr != "phoneNumbers" {
				continue // the adapter sends the one type there is
			}
			if !slices.Contains(canonical, typ) || (attr == "phoneNumbers" && seen[typ]) {
				return nil, scim.BadRequest(scim.InvalidValue, "%s of type %q: RingCentral holds one of each of %v", attr, typ, canonical)
			}
			seen[typ] = true
		}
	}
	return r, nil
}
