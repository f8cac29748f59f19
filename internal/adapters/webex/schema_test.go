package webex

import (
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

func TestExtensionSchemasValidate(t *testing.T) {
	user := scim.Resource{
		"schemas":  []any{scim.UserSchema, UserExtension},
		"userName": "a.b@example.com",
		UserExtension: map[string]any{
			"accountStatus":       []any{"active"},
			"extensionAttribute3": []any{"blue"},
			"externalAttribute1":  []any{map[string]any{"source": "hr", "value": "42"}},
		},
	}
	if _, err := translate.Validate(UserType, user, nil); err != nil {
		t.Errorf("user with the Cisco extension: %v", err)
	}
	group := scim.Resource{
		"schemas":     []any{scim.GroupSchema, GroupExtension},
		"displayName": "Sales",
		GroupExtension: map[string]any{
			"usage":        "policy",
			"inheritances": []any{map[string]any{"type": "role", "value": "id_user_admin", "nested": true, "scope": []any{"a", "b"}}},
		},
	}
	if _, err := translate.Validate(GroupType, group, nil); err != nil {
		t.Errorf("group with the Cisco extension: %v", err)
	}
	bad := scim.Resource{
		"schemas":     []any{scim.UserSchema, UserExtension},
		"userName":    "a.b@example.com",
		UserExtension: map[string]any{"sipAddresses": "not a list of objects"},
	}
	if _, err := translate.Validate(UserType, bad, nil); err == nil {
		t.Error("a string for sipAddresses was accepted")
	}
}

func TestExtensionPaths(t *testing.T) {
	for _, p := range []string{
		UserExtension + ":meta.organizationId",
		UserExtension + ":extensionAttribute15",
		UserExtension + ":sipAddresses.value",
	} {
		if _, _, _, ok := UserType.Resolve(scim.ParsePath(p)); !ok {
			t.Errorf("%s does not resolve on the Webex user type", p)
		}
	}
	if _, _, _, ok := GroupType.Resolve(scim.ParsePath(GroupExtension + ":meta.organizationID")); !ok {
		t.Error("the group's Cisco meta.organizationID does not resolve")
	}
}
