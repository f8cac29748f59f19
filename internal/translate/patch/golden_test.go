package patch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenCase is one testdata/<source>/<case>.in.json file.
type goldenCase struct {
	// Source says where the PATCH body comes from (a document or thread);
	// the test does not read it.
	Source   string        `json:"source"`
	Resource scim.Resource `json:"resource"`
	// Patch is the request body exactly as sent: its raw bytes are what
	// Parse gets, so whitespace, key order and key case are replayed as
	// recorded. A JSON string holds a body that is not valid JSON.
	Patch json.RawMessage `json:"patch"`
}

// TestGolden replays PATCH requests through Parse and Apply: the examples of
// RFC 7644 §3.5.2 (testdata/rfc7644), and the bodies Okta and Microsoft
// Entra ID send, as their SCIM documentation publishes them (testdata/okta,
// testdata/entra). A case is <source>/<endpoint>-<name>.in.json, where
// <endpoint> is "users" or "groups"; <name>.golden.json holds the normalized
// operations and the resulting resource, or the SCIM error the caller would
// get. go test -update rewrites the golden files.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "*", "*.in.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(in, ".in.json")
		t.Run(filepath.ToSlash(strings.TrimPrefix(name, "testdata"+string(filepath.Separator))), func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var c goldenCase
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			body := []byte(c.Patch)
			var s string
			if json.Unmarshal(c.Patch, &s) == nil {
				body = []byte(s)
			}
			rt := scim.UserType
			if strings.HasPrefix(filepath.Base(name), "groups-") {
				rt = scim.GroupType
			}
			got := map[string]any{}
			ops, err := patch.Parse(body)
			if err == nil {
				got["operations"] = ops
				before := mustJSON(t, c.Resource)
				var out scim.Resource
				out, err = patch.Apply(rt, c.Resource, ops)
				if after := mustJSON(t, c.Resource); after != before {
					t.Fatalf("Apply modified its input:\n before %s\n after  %s", before, after)
				}
				if err == nil {
					if out.ID() != c.Resource.ID() {
						t.Fatalf("Apply changed the id from %q to %q", c.Resource.ID(), out.ID())
					}
					got["resource"] = out
				}
			}
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 {
					t.Fatalf("error %v, want a 400 *scim.Error", err)
				}
				got["error"] = map[string]any{"status": se.Status, "scimType": se.ScimType, "detail": se.Detail}
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')
			golden := name + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("PATCH %s differs from %s:\n got %s\nwant %s", in, golden, gotJSON, want)
			}
		})
	}
}

// mustJSON encodes v; map keys come out sorted, so equal values encode alike.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(b)
}
