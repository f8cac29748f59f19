package router

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestParseETags(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		wantTags []string
		wantStar bool
	}{
		{"none", nil, nil, false},
		{"one weak", []string{`W/"3"`}, []string{`W/"3"`}, false},
		{"star", []string{"*"}, nil, true},
		{"list", []string{`W/"1", "2" ,W/"3"`}, []string{`W/"1"`, `"2"`, `W/"3"`}, false},
		{"comma inside a tag", []string{`"a,b", "c"`}, []string{`"a,b"`, `"c"`}, false},
		{"several headers", []string{`"a"`, `"b"`}, []string{`"a"`, `"b"`}, false},
		{"empty elements", []string{` , "a",,`}, []string{`"a"`}, false},
		{"unquoted kept", []string{`3`}, []string{`3`}, false},
		{"unterminated quote", []string{`"a, b`}, []string{`"a, b`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, star := parseETags(tt.in)
			if !slices.Equal(tags, tt.wantTags) || star != tt.wantStar {
				t.Errorf("parseETags(%q) = %q, %v, want %q, %v", tt.in, tags, star, tt.wantTags, tt.wantStar)
			}
		})
	}
}

func TestWeakMatch(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`W/"1"`, `W/"1"`, true},
		{`"1"`, `W/"1"`, true},
		{`W/"1"`, `"1"`, true},
		{`"1"`, `"1"`, true},
		{`W/"1"`, `W/"2"`, false},
		{`W/"1"`, `w/"1"`, false}, // W/ is case-sensitive (RFC 7232 §2.3)
		{``, ``, false},
		{`W/`, `W/`, false},
	}
	for _, tt := range tests {
		if got := weakMatch(tt.a, tt.b); got != tt.want {
			t.Errorf("weakMatch(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     engine.Query
		wantType scim.ScimType
	}{
		{"defaults", "", engine.Query{StartIndex: 1, Count: -1}, ""},
		{"all", "filter=userName+eq+%22a%22&sortBy=name.familyName&sortOrder=DESCENDING&startIndex=3&count=7&attributes=userName,%20emails&excludedAttributes=groups",
			engine.Query{
				Projection: engine.Projection{Attributes: []string{"userName", "emails"}, ExcludedAttributes: []string{"groups"}},
				Filter:     `userName eq "a"`, SortBy: "name.familyName", SortOrder: "descending", StartIndex: 3, Count: 7,
			}, ""},
		{"repeated attributes", "attributes=a&attributes=b,,c", engine.Query{Projection: engine.Projection{Attributes: []string{"a", "b", "c"}}, StartIndex: 1, Count: -1}, ""},
		{"start below 1", "startIndex=0", engine.Query{StartIndex: 1, Count: -1}, ""},
		{"negative count", "count=-5", engine.Query{StartIndex: 1, Count: 0}, ""},
		{"bad start", "startIndex=x", engine.Query{}, scim.InvalidValue},
		{"bad count", "count=9999999999999999999999", engine.Query{}, scim.InvalidValue},
		{"bad sort order", "sortOrder=asc", engine.Query{}, scim.InvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseQuery(v)
			if tt.wantType != "" {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tt.wantType {
					t.Fatalf("parseQuery(%q) error = %v, want 400 %s", tt.in, err, tt.wantType)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseQuery(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCheckContentType(t *testing.T) {
	tests := []struct {
		ct string
		ok bool
	}{
		{"", true},
		{"application/scim+json", true},
		{"application/json", true},
		{"Application/SCIM+JSON; charset=UTF-8", true},
		{"application/json;charset=utf8", true},
		{"application/json; charset=utf-16", false},
		{"text/json", false},
		{"application/xml", false},
		{"multipart/form-data; boundary=x", false},
		{"application/json; charset", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("Content-Type", tt.ct)
		err := checkContentType(r)
		var se *scim.Error
		if tt.ok != (err == nil) || (err != nil && (!errors.As(err, &se) || se.Status != http.StatusUnsupportedMediaType)) {
			t.Errorf("checkContentType(%q) = %v, want ok=%v (else 415)", tt.ct, err, tt.ok)
		}
	}
}

func TestProjectionOfMeta(t *testing.T) {
	tests := []struct {
		name                    string
		p                       engine.Projection
		meta, version, location bool
		wantAttrs, wantExcluded []string
	}{
		{"default", engine.Projection{}, true, true, true, nil, nil},
		{"attributes without meta", engine.Projection{Attributes: []string{"userName"}}, false, false, false, []string{"userName", "meta.version"}, nil},
		{"attributes with meta", engine.Projection{Attributes: []string{"userName", "META"}}, true, true, true, []string{"userName", "META"}, nil},
		{"attributes with a meta sub", engine.Projection{Attributes: []string{"meta.created"}}, true, false, false, []string{"meta.created", "meta.version"}, nil},
		{"urn-qualified meta", engine.Projection{Attributes: []string{scim.UserSchema + ":meta.version"}}, true, true, false, []string{scim.UserSchema + ":meta.version"}, nil},
		{"excluded meta", engine.Projection{ExcludedAttributes: []string{"emails", "meta"}}, false, false, false, nil, []string{"emails"}},
		{"excluded version", engine.Projection{ExcludedAttributes: []string{"meta.version"}}, true, false, true, nil, nil},
		{"excluded location", engine.Projection{ExcludedAttributes: []string{"meta.location"}}, true, true, false, nil, []string{"meta.location"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := returns(tt.p, "meta", ""); got != tt.meta {
				t.Errorf("returns meta = %v, want %v", got, tt.meta)
			}
			if got := returns(tt.p, "meta", "version"); got != tt.version {
				t.Errorf("returns meta.version = %v, want %v", got, tt.version)
			}
			if got := returns(tt.p, "meta", "location"); got != tt.location {
				t.Errorf("returns meta.location = %v, want %v", got, tt.location)
			}
			q := withVersion(tt.p)
			if !slices.Equal(q.Attributes, tt.wantAttrs) || !slices.Equal(q.ExcludedAttributes, tt.wantExcluded) {
				t.Errorf("withVersion = %+v, want attributes %q, excluded %q", q, tt.wantAttrs, tt.wantExcluded)
			}
			if !returns(q, "meta", "version") {
				t.Errorf("withVersion(%+v) does not return meta.version", tt.p)
			}
		})
	}
}

// TestPresent checks meta.location and the rewriting of $ref on the
// reference attributes, and that the engine's resource stays unchanged.
func TestPresent(t *testing.T) {
	tg := &target{name: "t", eng: engine.New(memory.New(), engine.Options{}), base: "https://gw/targets/t/scim/v2"}
	in := func() scim.Resource {
		var r scim.Resource
		err := json.Unmarshal([]byte(`{
			"id": "u1",
			"meta": {"resourceType": "User", "version": "W/\"1\"", "location": "https://vendor.example/api/users/u1"},
			"groups": [
				{"value": "g1", "$ref": "https://vendor.example/api/Groups/g1", "type": "direct"},
				{"value": "g2", "type": "direct"},
				{"value": "g3", "$ref": "https://vendor.example/api/teams/g3"}
			],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
				"manager": {"value": "u9", "$ref": "../Users/u9"}
			}
		}`), &r)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	orig := in()
	got := tg.present(orig, nil, engine.Projection{})
	want := in()
	want["meta"].(map[string]any)["location"] = "https://gw/targets/t/scim/v2/Users/u1"
	groups := want["groups"].([]any)
	groups[0].(map[string]any)["$ref"] = "https://gw/targets/t/scim/v2/Groups/g1"
	delete(groups[2].(map[string]any), "$ref") // a vendor URL the gateway cannot name
	want[scim.EnterpriseUserSchema].(map[string]any)["manager"].(map[string]any)["$ref"] = "https://gw/targets/t/scim/v2/Users/u9"
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("present:\n%s\nwant:\n%s", g, w)
	}
	if !reflect.DeepEqual(orig, in()) {
		t.Errorf("present modified its input: %v", orig)
	}

	// Group members: the type names the resource type.
	grp := scim.Resource{"id": "g1", "members": []any{
		map[string]any{"value": "u1", "type": "User", "$ref": "x"},
		map[string]any{"value": "g2", "type": "Group", "$ref": "y"},
	}}
	out := tg.present(grp, scim.GroupType, engine.Projection{})
	ms := out["members"].([]any)
	if ms[0].(map[string]any)["$ref"] != "https://gw/targets/t/scim/v2/Users/u1" || ms[1].(map[string]any)["$ref"] != "https://gw/targets/t/scim/v2/Groups/g2" {
		t.Errorf("members = %v", ms)
	}
	if _, has := out["meta"]; has {
		t.Errorf("present added meta to a resource without one: %v", out)
	}
}
