package adaptertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/patch"
)

// target is one adapter behind an engine, as a caller sees it.
type target struct {
	t      *testing.T
	a      adapters.Adapter
	e      *engine.Engine
	users  *scim.ResourceType
	groups *scim.ResourceType // nil when the target serves no Groups
	domain string             // Options.UserNameDomain
}

func newTarget(t *testing.T, a adapters.Adapter, o Options, opts engine.Options) *target {
	t.Helper()
	e := engine.New(a, opts)
	x := &target{t: t, a: a, e: e, users: e.ResourceType("User"), groups: e.ResourceType("Group"), domain: o.UserNameDomain}
	if x.users == nil {
		t.Fatal(`engine.ResourceType("User") = nil: every target serves Users`)
	}
	return x
}

// needGroups skips a case on a target without Groups: such a target does not
// advertise them, which another case checks through the engine.
func (x *target) needGroups() {
	x.t.Helper()
	if x.groups == nil {
		x.t.Skip("target serves no Groups")
	}
}

// needEnterprise skips a case on a target without the Enterprise extension.
func (x *target) needEnterprise() {
	x.t.Helper()
	if x.users.Extension(scim.EnterpriseUserSchema) == nil {
		x.t.Skip("target's User has no Enterprise extension")
	}
}

// res decodes a JSON object literal.
func res(t *testing.T, s string) scim.Resource {
	t.Helper()
	var r scim.Resource
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

// The cases name users by a short local name ("bjensen") and read results
// back the same way; un and local translate to and from the userName the
// target holds, which is an email address when Options.UserNameDomain is set.

// un returns the userName the suite writes for the local name: the name
// itself, or name@domain.
func (x *target) un(name string) string {
	if x.domain == "" {
		return name
	}
	return name + "@" + x.domain
}

// local is the inverse of un: it strips "@domain" (in any case) from a
// userName. A userName without it is returned whole, so that a comparison
// with a local name fails and shows it.
func (x *target) local(userName string) string {
	if x.domain == "" {
		return userName
	}
	at := len(userName) - len(x.domain) - 1
	if at > 0 && userName[at] == '@' && strings.EqualFold(userName[at+1:], x.domain) {
		return userName[:at]
	}
	return userName
}

// email returns the work email of the user with the local name: its userName
// when userNames are email addresses (a vendor such as Webex requires a work
// email marked primary to equal userName), else name@example.com.
func (x *target) email(name string) string {
	if x.domain == "" {
		return name + "@example.com"
	}
	return x.un(name)
}

// userFilter formats a filter whose arguments are local names: each is
// passed through un, so format takes them with %q.
func (x *target) userFilter(format string, names ...string) string {
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = x.un(n)
	}
	return fmt.Sprintf(format, args...)
}

// userJSON returns a minimal User for the local name with the extra
// top-level members in extra (JSON object members without braces, may be
// empty).
func (x *target) userJSON(name, extra string) string {
	s := fmt.Sprintf(`{"schemas": [%q], "userName": %q`, scim.UserSchema, x.un(name))
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

// groupJSON returns a Group named name with the given member ids.
func groupJSON(name string, memberIDs ...string) string {
	ms := make([]string, len(memberIDs))
	for i, id := range memberIDs {
		ms[i] = fmt.Sprintf(`{"value": %q}`, id)
	}
	return fmt.Sprintf(`{"schemas": [%q], "displayName": %q, "members": [%s]}`,
		scim.GroupSchema, name, strings.Join(ms, ", "))
}

func (x *target) create(rt *scim.ResourceType, js string) scim.Resource {
	x.t.Helper()
	r, err := x.e.Create(x.t.Context(), rt, res(x.t, js), engine.Projection{})
	if err != nil {
		x.t.Fatalf("Create %s %s: %v", rt.ID, js, err)
	}
	if r.ID() == "" {
		x.t.Fatalf("Create %s returned no id: %v", rt.ID, r)
	}
	return r
}

// user creates a User for the local name; see userJSON.
func (x *target) user(name, extra string) scim.Resource {
	x.t.Helper()
	return x.create(x.users, x.userJSON(name, extra))
}

func (x *target) group(name string, memberIDs ...string) scim.Resource {
	x.t.Helper()
	return x.create(x.groups, groupJSON(name, memberIDs...))
}

func (x *target) get(rt *scim.ResourceType, id string) scim.Resource {
	x.t.Helper()
	r, err := x.e.Get(x.t.Context(), rt, id, engine.Projection{})
	if err != nil {
		x.t.Fatalf("Get %s %s: %v", rt.ID, id, err)
	}
	return r
}

func (x *target) search(rt *scim.ResourceType, q engine.Query) *scim.ListResponse {
	x.t.Helper()
	lr, err := x.e.Search(x.t.Context(), rt, q)
	if err != nil {
		x.t.Fatalf("Search %s %+v: %v", rt.ID, q, err)
	}
	if lr == nil {
		x.t.Fatalf("Search %s %+v returned nil", rt.ID, q)
	}
	if lr.ItemsPerPage != len(lr.Resources) {
		x.t.Errorf("Search %s %+v: itemsPerPage %d, but %d Resources", rt.ID, q, lr.ItemsPerPage, len(lr.Resources))
	}
	return lr
}

// all returns every resource of rt through the engine, in the order served.
// all returns every resource of rt, paging as a client would: a search
// without count gets the engine's default page, which may be smaller.
func (x *target) all(rt *scim.ResourceType) []scim.Resource {
	x.t.Helper()
	var out []scim.Resource
	for {
		lr := x.search(rt, engine.Query{StartIndex: len(out) + 1, Count: -1})
		out = append(out, lr.Resources...)
		if len(lr.Resources) == 0 || len(out) >= lr.TotalResults {
			return out
		}
	}
}

func (x *target) patch(rt *scim.ResourceType, id, body, ifMatch string) (scim.Resource, error) {
	x.t.Helper()
	return x.e.Patch(x.t.Context(), rt, id, ops(x.t, body), ifMatch, engine.Projection{})
}

func (x *target) mustPatch(rt *scim.ResourceType, id, body string) scim.Resource {
	x.t.Helper()
	r, err := x.patch(rt, id, body, "")
	if err != nil {
		x.t.Fatalf("Patch %s %s %s: %v", rt.ID, id, body, err)
	}
	return r
}

// ops parses the Operations of a PatchOp request, given as a JSON array.
func ops(t *testing.T, operations string) []scim.PatchOp {
	t.Helper()
	body := fmt.Sprintf(`{"schemas": [%q], "Operations": %s}`, scim.PatchOpSchema, operations)
	o, err := patch.Parse([]byte(body))
	if err != nil {
		t.Fatalf("patch.Parse(%s): %v", body, err)
	}
	return o
}

// wantError fails unless err is a *scim.Error with status and, when not
// empty, scimType.
func wantError(t *testing.T, what string, err error, status int, st scim.ScimType) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Errorf("%s: error %v, want a %d %s *scim.Error", what, err, status, st)
		return
	}
	if se.Status != status || (st != "" && se.ScimType != st) {
		t.Errorf("%s: error %d %q (%v), want %d %q", what, se.Status, se.ScimType, err, status, st)
	}
}

// str returns the string at path in r, or "".
func str(r scim.Resource, path string) string {
	v, _ := r.Get(scim.ParsePath(path))
	s, _ := v.(string)
	return s
}

// str is the package's str, with a userName as its local name.
func (x *target) str(r scim.Resource, path string) string {
	if strings.EqualFold(path, "userName") {
		return x.local(str(r, path))
	}
	return str(r, path)
}

// has reports whether r has a non-null value at path.
func has(r scim.Resource, path string) bool {
	v, ok := r.Get(scim.ParsePath(path))
	return ok && v != nil
}

// values returns the sub-attribute sub of every element of the multi-valued
// attribute attr of r, sorted.
func values(r scim.Resource, attr, sub string) []string {
	v, _ := r.Get(scim.ParsePath(attr))
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if s, ok := scim.Field(m, sub); ok {
				out = append(out, fmt.Sprint(s))
			}
		}
	}
	slices.Sort(out)
	return out
}

// element returns the element of attr whose value is value, or nil.
func element(r scim.Resource, attr, value string) map[string]any {
	v, _ := r.Get(scim.ParsePath(attr))
	list, _ := v.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if s, _ := scim.Field(m, "value"); s == value {
				return m
			}
		}
	}
	return nil
}

// names returns the sorted string values at path of rs, userNames as
// local names.
func (x *target) names(rs []scim.Resource, path string) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, x.str(r, path))
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func equal(a, b []string) bool {
	return slices.Equal(a, b) || (len(a) == 0 && len(b) == 0)
}
