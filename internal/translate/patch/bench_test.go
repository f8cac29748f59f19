package patch_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// entraPathless is the body Microsoft Entra ID sends with aadOptscim062020
// to update several attributes (testdata/entra/users-replace-pathless-dotted-urn).
const entraPathless = `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
	{"op": "replace", "value": {"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}]}`

// BenchmarkApplyPatch measures Apply (operations already parsed) on the
// PATCH requests IdPs send most: adding a member to a group of 100, the
// work email's value through a value filter, and Entra ID's path-less update.
func BenchmarkApplyPatch(b *testing.B) {
	var members []string
	for i := range 100 {
		members = append(members, fmt.Sprintf(`{"value": "user-%03d", "display": "User %d", "type": "User"}`, i, i))
	}
	group := scim.Resource{}
	if err := jsonUnmarshal(`{"schemas": ["`+scim.GroupSchema+`"], "id": "g1", "displayName": "Big",
		"members": [`+strings.Join(members, ",")+`], "meta": {"resourceType": "Group", "version": "W/\"7\""}}`, &group); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		rt   *scim.ResourceType
		res  scim.Resource
		body string
	}{
		{"add_member", scim.GroupType, group, body(`[{"op": "add", "path": "members", "value": [{"value": "user-new", "type": "User"}]}]`)},
		{"replace_email_value_path", scim.UserType, resource(b, "user"), body(`[{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@example.com"}]`)},
		{"pathless_entra", scim.UserType, resource(b, "user"), entraPathless},
	} {
		ops, err := patch.Parse([]byte(bb.body))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := patch.Apply(bb.rt, bb.res, ops); err != nil {
			b.Fatal(err)
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := patch.Apply(bb.rt, bb.res, ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse measures decoding Entra ID's path-less update.
func BenchmarkParse(b *testing.B) {
	b.Run("pathless_entra", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := patch.Parse([]byte(entraPathless)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
