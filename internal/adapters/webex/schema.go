package webex

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The Cisco extension schemas (VENDORS.md 1.6, 1.7), kept as RFC 7643 §7
// schema documents: they are data, and this is the form /Schemas serves.
var (
	//go:embed cisco-user.json
	ciscoUserJSON []byte
	//go:embed cisco-group.json
	ciscoGroupJSON []byte
)

// URNs of the Cisco extensions.
const (
	UserExtension  = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
	GroupExtension = "urn:scim:schemas:extension:cisco:webexidentity:2.0:Group"
)

// Resource types of a Webex target: the core schemas with the Cisco
// extension (and, for users, the enterprise extension).
var (
	UserType = &scim.ResourceType{
		ID: "User", Name: "User", Endpoint: "/Users", Description: "Webex user",
		Schema:     scim.UserSchemaDef,
		Extensions: []*scim.Schema{scim.EnterpriseUserSchemaDef, mustSchema(ciscoUserJSON, UserExtension)},
	}
	GroupType = &scim.ResourceType{
		ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Webex group",
		Schema:     scim.GroupSchemaDef,
		Extensions: []*scim.Schema{mustSchema(ciscoGroupJSON, GroupExtension)},
	}
)

// mustSchema decodes an embedded schema document; a broken one is a
// build-time mistake, caught by the package's tests.
func mustSchema(doc []byte, id string) *scim.Schema {
	var s scim.Schema
	if err := json.Unmarshal(doc, &s); err != nil {
		panic(fmt.Sprintf("webex: schema %s: %v", id, err))
	}
	if s.ID != id {
		panic(fmt.Sprintf("webex: schema document has id %q, want %q", s.ID, id))
	}
	return &s
}
