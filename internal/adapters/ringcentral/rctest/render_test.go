package rctest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// The wire form of a user (VENDORS.md 2.6), in the order of the vendor's
// example.
type (
	userJSON struct {
		Schemas      []string        `json:"schemas"`
		ID           string          `json:"id"`
		ExternalID   string          `json:"externalId,omitempty"`
		Meta         metaJSON        `json:"meta"`
		UserName     string          `json:"userName"`
		Name         nameJSON        `json:"name"`
		Active       bool            `json:"active"`
		Emails       []emailJSON     `json:"emails"`
		PhoneNumbers *[]phoneJSON    `json:"phoneNumbers,omitempty"`
		Addresses    *[]addressJSON  `json:"addresses,omitempty"`
		Photos       []photoJSON     `json:"photos,omitempty"`
		Title        string          `json:"title,omitempty"`
		Enterprise   *enterpriseJSON `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	}
	metaJSON struct {
		ResourceType string `json:"resourceType"`
		Created      string `json:"created"`
		LastModified string `json:"lastModified"`
		Location     string `json:"location"`
	}
	nameJSON struct {
		FamilyName string `json:"familyName"`
		GivenName  string `json:"givenName"`
	}
	emailJSON struct {
		Primary bool   `json:"primary"`
		Value   string `json:"value"`
		Type    string `json:"type"`
	}
	phoneJSON struct {
		Value string `json:"value"`
		Type  string `json:"type"`
	}
	addressJSON struct {
		Primary       bool   `json:"primary"`
		StreetAddress string `json:"streetAddress,omitempty"`
		Locality      string `json:"locality,omitempty"`
		Region        string `json:"region,omitempty"`
		PostalCode    string `json:"postalCode,omitempty"`
		Country       string `json:"country,omitempty"`
		Type          string `json:"type"`
	}
	photoJSON struct {
		Value string `json:"value"`
		Type  string `json:"type"`
	}
	enterpriseJSON struct {
		Department string `json:"department,omitempty"`
	}
)

// render is the reference wire form of u, encoded by encoding/json; appendUser must
// write the same bytes.; short leaves out phoneNumbers and
// addresses (WithShortListForm).
func render(u *user, short bool) userJSON {
	id := u.idString()
	j := userJSON{
		Schemas:    []string{scim.UserSchema},
		ID:         id,
		ExternalID: u.externalID,
		Meta: metaJSON{
			ResourceType: "User",
			Created:      u.created.Format(timeFormat),
			LastModified: u.modified.Format(timeFormat),
			Location:     locationBase + id,
		},
		UserName: u.userName,
		Name:     nameJSON{FamilyName: u.familyName, GivenName: u.givenName},
		Active:   u.active,
		Emails:   []emailJSON{{Value: u.userName, Type: "work"}},
		Title:    u.title,
	}
	if !short {
		phones := make([]phoneJSON, 0, 3)
		if u.workPhone != "" {
			phones = append(phones, phoneJSON{Value: u.workPhone, Type: "work"})
		}
		if u.mobile != "" {
			phones = append(phones, phoneJSON{Value: u.mobile, Type: "mobile"})
		}
		if u.ext != "" {
			phones = append(phones, phoneJSON{Value: u.ext, Type: "other"})
		}
		addrs := []addressJSON{}
		if a := u.addr; a != nil {
			addrs = append(addrs, addressJSON{StreetAddress: a.street, Locality: a.locality, Region: a.region,
				PostalCode: a.postalCode, Country: a.country, Type: "work"})
		}
		j.PhoneNumbers, j.Addresses = &phones, &addrs
	}
	for _, p := range u.photos {
		j.Photos = append(j.Photos, photoJSON{Value: p.value, Type: p.typ})
	}
	if u.department != "" {
		j.Schemas = append(j.Schemas, scim.EnterpriseUserSchema)
		j.Enterprise = &enterpriseJSON{Department: u.department}
	}
	return j
}

// sampleUsers covers every branch of appendUser.
func sampleUsers() []*user {
	t0 := time.Date(2017, 2, 14, 18, 29, 1, 194e6, time.UTC)
	return []*user{
		{id: 1271140020, userName: "jim.bean@example.com", givenName: "Jim", familyName: "Bean", ext: "101", created: t0, modified: t0},
		{id: 7, userName: `a"b\c<d>&e@example.com`, externalID: "701985", givenName: "Zoë\u2028", familyName: "O'Brien\x01\t\n\r\b\f",
			active: true, title: "Rep", department: "Sales", workPhone: "+14155550100", mobile: "+1", ext: "146",
			addr:    &address{street: "100 Universal City Plaza", locality: "Hollywood", region: "CA", postalCode: "91608", country: "United States"},
			photos:  []photo{{typ: "photo", value: "https://example.com/p.png"}, {typ: "photo", value: "x\xffy"}},
			created: t0, modified: t0.Add(time.Hour)},
		{id: 8, userName: "no-ext@example.com", givenName: "A", familyName: "B", addr: &address{locality: "Reno"}, created: t0, modified: t0},
	}
}

func TestAppendUserWritesWhatEncodingJSONWrites(t *testing.T) {
	for _, u := range sampleUsers() {
		for _, short := range []bool{false, true} {
			want, err := json.Marshal(render(u, short))
			if err != nil {
				t.Fatal(err)
			}
			if got := appendUser(nil, u, short); !bytes.Equal(got, want) {
				t.Errorf("appendUser(%d, short %v):\n got %s\nwant %s", u.id, short, got, want)
			}
		}
	}
	page := sampleUsers()
	type listResponse struct {
		Schemas      []string   `json:"schemas"`
		TotalResults int        `json:"totalResults"`
		StartIndex   int        `json:"startIndex"`
		ItemsPerPage int        `json:"itemsPerPage"`
		Resources    []userJSON `json:"Resources"`
	}
	for _, p := range [][]*user{page, nil} {
		ref := listResponse{Schemas: []string{scim.ListResponseSchema}, TotalResults: 10, StartIndex: 4, ItemsPerPage: len(p), Resources: []userJSON{}}
		for _, u := range p {
			ref.Resources = append(ref.Resources, render(u, false))
		}
		want, _ := json.Marshal(ref)
		if got := appendList(nil, 10, 4, p, false); !bytes.Equal(got, want) {
			t.Errorf("appendList:\n got %s\nwant %s", got, want)
		}
	}
}
