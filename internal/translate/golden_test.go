package translate_test

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
	"github.com/scim-gateway/scim-gateway/internal/translate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGoldenValidate replays resource bodies through Validate: the request
// bodies Okta and Microsoft Entra ID send, as their SCIM provisioning guides
// publish them (testdata/okta, testdata/entra), and the dialects and errors
// the gateway defines (testdata/dialect). A case is
// <source>/<endpoint>-<name>.in.json, where <endpoint> is "users" or
// "groups"; <name>.golden.json holds the canonical resource the adapter
// would receive, or the SCIM error the caller would get.
func TestGoldenValidate(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "*", "*.in.json"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(in, ".in.json")
		t.Run(filepath.ToSlash(strings.TrimPrefix(name, "testdata"+string(filepath.Separator))), func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			rt := scim.UserType
			if strings.HasPrefix(filepath.Base(name), "groups-") {
				rt = scim.GroupType
			}
			var r scim.Resource
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			var got any
			out, err := translate.Validate(rt, r, nil)
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) {
					t.Fatalf("Validate: %v, want a *scim.Error", err)
				}
				got = map[string]any{"error": map[string]any{"status": se.Status, "scimType": se.ScimType, "detail": se.Detail}}
			} else {
				got = map[string]any{"resource": out}
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
				t.Errorf("Validate(%s) differs from %s:\n got %s\nwant %s", in, golden, gotJSON, want)
			}
		})
	}
}
