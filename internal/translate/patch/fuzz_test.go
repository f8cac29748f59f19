package patch_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// maxFuzzInput caps fuzz inputs near a realistic PATCH body, so that runs
// spend their time on structure rather than on size.
const maxFuzzInput = 8 << 10

// addSeeds seeds f with every PATCH body the table and golden tests use.
func addSeeds(f *testing.F) {
	for _, tt := range applyCases {
		f.Add(body(tt.ops))
	}
	for _, tt := range parseCases {
		if len(tt.body) <= maxFuzzInput {
			f.Add(tt.body)
		}
	}
	ins, _ := filepath.Glob(filepath.Join("testdata", "*", "*.in.json"))
	for _, in := range ins {
		raw, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		var c goldenCase
		if err := json.Unmarshal(raw, &c); err != nil {
			f.Fatalf("%s: %v", in, err)
		}
		f.Add(string(c.Patch))
	}
}

// FuzzParse checks Parse on arbitrary bodies: no panic, every failure a 400
// *scim.Error with scimType invalidSyntax or invalidValue, and every result
// normalized (op in lower case, a path-less add or replace holding an
// object).
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > maxFuzzInput {
			return
		}
		ops, err := patch.Parse([]byte(body))
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != 400 || (se.ScimType != scim.InvalidSyntax && se.ScimType != scim.InvalidValue) {
				t.Fatalf("Parse(%q): %v, want a 400 invalidSyntax or invalidValue", body, err)
			}
			return
		}
		if len(ops) == 0 && !json.Valid([]byte(body)) {
			t.Fatalf("Parse(%q) accepted invalid JSON", body)
		}
		for _, op := range ops {
			switch op.Op {
			case "add", "replace":
				if _, ok := op.Value.(map[string]any); op.Path == "" && !ok {
					t.Fatalf("Parse(%q): path-less %s with a %T value", body, op.Op, op.Value)
				}
			case "remove":
			default:
				t.Fatalf("Parse(%q): op %q not normalized", body, op.Op)
			}
		}
		if _, err := json.Marshal(ops); err != nil {
			t.Fatalf("Parse(%q) result does not encode: %v", body, err)
		}
	})
}

// FuzzApplyPatch parses arbitrary bodies and applies what parses to a user,
// a user with extensions, a group and a user whose type requires an
// extension with an immutable attribute. Properties: no panic; every failure
// a 400 *scim.Error with a scimType; id never changes; neither the input
// resource nor the operations are modified; the same operations give the
// same result; and the result is a resource that the translate package's
// validation accepts, so a PATCH never produces what a PUT would refuse.
func FuzzApplyPatch(f *testing.F) {
	addSeeds(f)
	type start struct {
		rt  *scim.ResourceType
		res scim.Resource
	}
	var starts []start
	for _, name := range []string{"user", "entUser", "group", "badgeUser"} {
		starts = append(starts, start{resourceType(name), resource(f, name)})
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > maxFuzzInput {
			return
		}
		ops, err := patch.Parse([]byte(body))
		if err != nil {
			return // FuzzParse checks these
		}
		opsJSON := mustJSON(t, ops)
		for _, s := range starts {
			inJSON := mustJSON(t, s.res)
			out, err := patch.Apply(s.rt, s.res, ops)
			if mustJSON(t, s.res) != inJSON {
				t.Fatalf("Apply(%s, %q) modified its input", s.rt.ID, body)
			}
			if mustJSON(t, ops) != opsJSON {
				t.Fatalf("Apply(%s, %q) modified its operations", s.rt.ID, body)
			}
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 || se.ScimType == "" || se.Detail == "" {
					t.Fatalf("Apply(%s, %q): %v, want a 400 with a scimType and a detail", s.rt.ID, body, err)
				}
				continue
			}
			if out.ID() != s.res.ID() {
				t.Fatalf("Apply(%s, %q) changed the id from %q to %q", s.rt.ID, body, s.res.ID(), out.ID())
			}
			again, err := patch.Apply(s.rt, s.res, ops)
			if err != nil || !reflect.DeepEqual(again, out) {
				t.Fatalf("Apply(%s, %q) is not repeatable: %v", s.rt.ID, body, err)
			}
			if _, err := translate.Validate(s.rt, out, nil); err != nil {
				t.Fatalf("Apply(%s, %q) gave a resource Validate refuses: %v\n%s", s.rt.ID, body, err, mustJSON(t, out))
			}
		}
	})
}
