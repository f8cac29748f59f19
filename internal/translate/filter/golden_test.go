package filter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// tree renders e as plain JSON values, for golden files and failure messages.
func tree(e filter.Expr) any {
	path := func(p scim.Path) map[string]string {
		m := map[string]string{"attr": p.Attr}
		if p.URN != "" {
			m["urn"] = p.URN
		}
		if p.Sub != "" {
			m["sub"] = p.Sub
		}
		return m
	}
	if e == nil || reflect.ValueOf(e).IsNil() {
		return nil
	}
	switch x := e.(type) {
	case *filter.Compare:
		m := map[string]any{"path": path(x.Path), "op": x.Op}
		if x.Op != filter.Pr {
			m["value"] = x.Value
		}
		return map[string]any{"compare": m}
	case *filter.And:
		return map[string]any{"and": []any{tree(x.Left), tree(x.Right)}}
	case *filter.Or:
		return map[string]any{"or": []any{tree(x.Left), tree(x.Right)}}
	case *filter.Not:
		return map[string]any{"not": tree(x.X)}
	case *filter.ValuePath:
		return map[string]any{"valuePath": map[string]any{"path": path(x.Path), "filter": tree(x.Filter)}}
	}
	return nil
}

func dump(e filter.Expr) string {
	b, err := json.Marshal(tree(e))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func errorJSON(err error) any {
	var se *scim.Error
	if !errors.As(err, &se) {
		return map[string]any{"unexpected": err.Error()}
	}
	return map[string]any{"status": se.Status, "scimType": se.ScimType, "detail": se.Detail}
}

// loadResources reads testdata/filters/<name>.json, an array of resources.
func loadResources(t *testing.T, name string) []scim.Resource {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "filters", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []scim.Resource
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	return rs
}

// TestGolden parses each testdata/filters/<case>.txt (one filter; a final
// line break is not part of it), checks it against the User resource type
// (Group for cases named groups-*), and records in <case>.golden.json the
// tree, its String(), the checked form and which of the resources in
// users.json (groups.json) match, or the error. go test -update rewrites the
// golden files.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "filters", "*.txt"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	users, groups := loadResources(t, "users"), loadResources(t, "groups")
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.TrimSuffix(string(raw), "\n")
			rt, rs := scim.UserType, users
			if strings.HasPrefix(name, "groups-") {
				rt, rs = scim.GroupType, groups
			}
			got := map[string]any{"filter": text}
			e, err := filter.Parse(text)
			if err != nil {
				got["parseError"] = errorJSON(err)
			} else {
				got["tree"] = tree(e)
				got["string"] = e.String()
				checked, err := filter.Check(e, rt)
				if err != nil {
					got["checkError"] = errorJSON(err)
				} else {
					got["checked"] = checked.String()
					matches := []string{}
					for _, r := range rs {
						if filter.Match(checked, r, rt) {
							matches = append(matches, r.ID())
						}
						// Unchecked, the tree must select the same resources.
						if filter.Match(checked, r, rt) != filter.Match(e, r, rt) {
							t.Errorf("Match of %s differs checked and unchecked", r.ID())
						}
					}
					got["matches"] = matches
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "filters", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the result:\n%s", golden, buf.Bytes())
			}
		})
	}
}
