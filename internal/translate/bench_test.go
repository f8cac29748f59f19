package translate_test

import (
	"fmt"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

func BenchmarkProject(b *testing.B) {
	for _, bc := range []struct {
		name           string
		attrs, exclude []string
	}{
		{"default", nil, nil},
		{"attributes", []string{"userName", "emails.value", ent + ":employeeNumber"}, nil},
		{"excluded", nil, []string{"groups", "meta", "name.familyName"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := decode(b, storedUser)
			b.ReportAllocs()
			for b.Loop() {
				translate.NewProjection(scim.UserType, bc.attrs, bc.exclude).Apply(r)
			}
		})
	}
	// A list response projects many resources with one Projection.
	b.Run("apply_only", func(b *testing.B) {
		r := decode(b, storedUser)
		p := translate.NewProjection(scim.UserType, []string{"userName", "emails.value"}, nil)
		b.ReportAllocs()
		for b.Loop() {
			p.Apply(r)
		}
	})
}

func BenchmarkSort(b *testing.B) {
	for _, n := range []int{100, 10000} {
		for _, by := range []string{"userName", "emails", "meta.created"} {
			b.Run(fmt.Sprintf("%s/%d", by, n), func(b *testing.B) {
				base := make([]scim.Resource, n)
				for i := range base {
					// A scrambled order: i*7919 mod n visits every index.
					j := i * 7919 % n
					base[i] = scim.Resource{
						"id":       fmt.Sprint(j),
						"userName": fmt.Sprintf("User%06d", j),
						"emails":   []any{map[string]any{"value": fmt.Sprintf("x%06d@example.com", j)}, map[string]any{"value": fmt.Sprintf("p%06d@example.com", j), "primary": true}},
						"meta":     map[string]any{"created": fmt.Sprintf("2024-01-01T00:%02d:%02dZ", j/60%60, j%60)},
					}
				}
				s, err := translate.ParseSort(scim.UserType, by, "descending")
				if err != nil {
					b.Fatal(err)
				}
				rs := make([]scim.Resource, n)
				b.ReportAllocs()
				for b.Loop() {
					copy(rs, base)
					translate.Sort(rs, s)
				}
			})
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	body := decode(b, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@testuser.com",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "employeeNumber": "1"},
		"roles": []
	}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := translate.Validate(scim.UserType, body, nil); err != nil {
			b.Fatal(err)
		}
	}
}
