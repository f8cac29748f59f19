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
	// requiredName is Options.RequiredName.
	requiredName bool
	// oneEmail is set when the canonical values of emails.type are only
	// "work": a user then has at most one email, x.email(name).
	oneEmail bool
}

func newTarget(t *testing.T, a adapters.Adapter, o Options, opts engine.Options) *target {
	t.Helper()
	e := engine.New(a, opts)
	x := &target{t: t, a: a, e: e, users: e.ResourceType("User"), groups: e.ResourceType("Group"),
		domain: o.UserNameDomain, requiredName: o.RequiredName}
	if x.users == nil {
		t.Fatal(`engine.ResourceType("User") = nil: every target serves Users`)
	}
	x.oneEmail = onlyWorkEmails(x.users)
	return x
}

// onlyWorkEmails reports whether the canonical values of users'
// emails.type are only "work" (RingCentral: one email, equal to userName,
// VENDORS.md 2.6).
func onlyWorkEmails(users *scim.ResourceType) bool {
	emails := users.Schema.Attr("emails")
	if emails == nil || emails.Sub("type") == nil {
		return false
	}
	cv := emails.Sub("type").CanonicalValues
	return len(cv) == 1 && strings.EqualFold(cv[0], "work")
}

// advertises reports whether the target's User type has the attribute
// path ("title", "name.givenName", ent+":department"), as the engine
// resolves it.
func (x *target) advertises(path string) bool {
	_, _, _, ok := x.users.Resolve(scim.ParsePath(path))
	return ok
}

// need reports whether the target advertises every path in paths. When it
// does not, it logs that what is left out for the first one missing.
func (x *target) need(what string, paths ...string) bool {
	x.t.Helper()
	for _, p := range paths {
		if !x.advertises(p) {
			x.t.Logf("%s: left out, the target does not advertise %s", what, p)
			return false
		}
	}
	return true
}

// texts are the single-valued, writable string attributes of a User that
// a case may write when all it needs is somewhere to put text, in the order
// alt tries them. externalId, common to every resource (RFC 7643 §3.1),
// comes last.
var texts = []string{"displayName", "title", "nickName", "userType", "locale", "preferredLanguage", "timezone",
	ent + ":department", ent + ":organization", ent + ":division", ent + ":costCenter", ent + ":employeeNumber",
	"externalId"}

// alt returns the text attribute a case writes where it would write want:
// want itself when the target advertises it, else the first advertised
// one of texts that is not in taken (the ones the case already uses),
// which it logs. Each is a path for str, a filter, sortBy or a PATCH, and
// a key for a User body: "title", or a URN-qualified extension attribute.
func (x *target) alt(want string, taken ...string) string {
	x.t.Helper()
	if x.advertises(want) && !slices.Contains(taken, want) {
		return want
	}
	for _, p := range texts {
		if p != want && x.advertises(p) && !slices.Contains(taken, p) {
			x.t.Logf("%s stands in for %s, which the target does not advertise", p, want)
			return p
		}
	}
	x.t.Fatalf("no advertised string attribute stands in for %s (the case uses %v)", want, taken)
	return ""
}

// phoneTypes returns two canonical values of phoneNumbers.type. Cases that
// tell the elements of a multi-valued attribute apart by type use them on
// a target whose user has only its work email (oneEmail). ok is false
// when the target has no phoneNumbers or fewer than two types.
func (x *target) phoneTypes() (a, b string, ok bool) {
	pn := x.users.Schema.Attr("phoneNumbers")
	if pn == nil || pn.Sub("value") == nil || pn.Sub("type") == nil {
		return "", "", false
	}
	cv := pn.Sub("type").CanonicalValues
	if len(cv) < 2 {
		return "", "", false
	}
	return cv[0], cv[1], true
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

// workEmail returns the email value a case gives the user with the local
// name: value, or, on a target whose only email is the work email
// (oneEmail), x.email(name).
func (x *target) workEmail(name, value string) string {
	if x.oneEmail {
		return x.email(name)
	}
	return value
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
	return x.fill(s + "}")
}

// fill returns the User body js with what the Options require that it
// lacks: under RequiredName, DefaultGivenName and DefaultFamilyName.
func (x *target) fill(js string) string {
	x.t.Helper()
	if !x.requiredName {
		return js
	}
	r := res(x.t, js)
	name, _ := r["name"].(map[string]any)
	if name == nil {
		name = map[string]any{}
		r["name"] = name
	}
	for k, v := range map[string]string{"givenName": DefaultGivenName, "familyName": DefaultFamilyName} {
		if s, _ := name[k].(string); strings.TrimSpace(s) == "" {
			name[k] = v
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		x.t.Fatalf("marshal %v: %v", r, err)
	}
	return string(b)
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

// put sets the top-level attribute at path ("title", or URN-qualified for
// an extension attribute) of r to v, for cases that write through the
// adapter itself.
func put(r scim.Resource, path string, v any) {
	p := scim.ParsePath(path)
	obj := map[string]any(r)
	if p.URN != "" && !strings.EqualFold(p.URN, scim.UserSchema) {
		ext, _ := r[p.URN].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			r[p.URN] = ext
		}
		obj = ext
	}
	obj[p.Attr] = v
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
