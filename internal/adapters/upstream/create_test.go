package upstream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// loser sits in front of the upstream and loses the answers of creates: for
// each POST, the next entry of plan says whether the upstream applies it
// before the connection is closed without an answer (hijacked), the way a
// timeout or a reset after sending looks to the gateway. Once plan is used
// up, POSTs go through. With failLists, every list request fails with 500.
type loser struct {
	mu        sync.Mutex
	plan      []bool
	posts     int
	failLists bool
}

func (l *loser) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		isPost := r.Method == http.MethodPost
		var lose, apply bool
		if isPost {
			l.posts++
			if len(l.plan) > 0 {
				lose, apply, l.plan = true, l.plan[0], l.plan[1:]
			}
		}
		failList := l.failLists && r.Method == http.MethodGet && r.URL.Query().Has("count")
		l.mu.Unlock()
		switch {
		case failList:
			w.WriteHeader(http.StatusInternalServerError)
		case lose:
			if apply {
				next.ServeHTTP(httptest.NewRecorder(), r)
			} else {
				_, _ = io.Copy(io.Discard, r.Body)
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err) // the test server always supports hijacking
			}
			_ = conn.Close()
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (l *loser) postCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.posts
}

// stored returns every resource of rt in the upstream's store, the truth.
func (u *upstream) stored(t *testing.T, rt *scim.ResourceType) []scim.Resource {
	t.Helper()
	p, err := u.mem.List(t.Context(), rt, adapters.Query{StartIndex: 1, Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Resources
}

func userRes(userName, externalID string) scim.Resource {
	r := scim.Resource{"schemas": []any{scim.UserSchema}, "userName": userName}
	if externalID != "" {
		r["externalId"] = externalID
	}
	return r
}

func groupRes(name, externalID string) scim.Resource {
	r := scim.Resource{"schemas": []any{scim.GroupSchema}, "displayName": name}
	if externalID != "" {
		r["externalId"] = externalID
	}
	return r
}

// TestCreateOutcomeUnknown checks the rule that nothing is created twice:
// after a POST whose answer was lost, the adapter looks the resource up,
// returns it when the upstream created it, and sends once more only when it
// certainly did not.
func TestCreateOutcomeUnknown(t *testing.T) {
	tests := []struct {
		name      string
		plan      []bool // per POST: lost after being applied (true) or before (false)
		typ       string
		existing  []scim.Resource // created first, through the upstream
		create    scim.Resource
		wantPosts int
		wantErr   bool
		wantCount int // resources of the type in the store at the end
	}{
		{"user created, answer lost", []bool{true}, "User", nil, userRes("bjensen", "ext-1"), 1, false, 1},
		{"user not created, sent again", []bool{false}, "User", nil, userRes("bjensen", ""), 2, false, 1},
		{"second answer lost after creating", []bool{false, true}, "User", nil, userRes("bjensen", "ext-1"), 2, false, 1},
		{"both lost before creating", []bool{false, false}, "User", nil, userRes("bjensen", ""), 2, true, 0},
		{"user found by userName in another case", []bool{true}, "User",
			[]scim.Resource{userRes("other", "")}, userRes("BJensen", ""), 1, false, 2},
		{"group created, same name taken by another externalId", []bool{true}, "Group",
			[]scim.Resource{groupRes("Admins", "ext-old")}, groupRes("Admins", "ext-new"), 1, false, 2},
		{"group not created, same name taken by another externalId", []bool{false}, "Group",
			[]scim.Resource{groupRes("Admins", "ext-old")}, groupRes("Admins", "ext-new"), 2, false, 2},
		{"group without externalId takes the newest of its name", []bool{true}, "Group",
			[]scim.Resource{groupRes("Staff", "")}, groupRes("Staff", ""), 1, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &loser{}
			u := newUpstream(t, l.wrap)
			a := u.adapter(t)
			rt := scim.UserType
			if tt.typ == "Group" {
				rt = scim.GroupType
			}
			old := map[string]bool{}
			for _, r := range tt.existing {
				r, err := a.Create(t.Context(), rt, r)
				if err != nil {
					t.Fatal(err)
				}
				old[r.ID()] = true
			}
			before := l.postCount()
			l.mu.Lock()
			l.plan = tt.plan
			l.mu.Unlock()

			got, err := a.Create(t.Context(), rt, tt.create)
			if posts := l.postCount() - before; posts != tt.wantPosts {
				t.Errorf("POSTs sent: %d, want %d", posts, tt.wantPosts)
			}
			all := u.stored(t, rt)
			if len(all) != tt.wantCount {
				t.Errorf("%d %s resources stored, want %d: %v", len(all), rt.ID, tt.wantCount, all)
			}
			if tt.wantErr {
				if !errors.Is(err, outbound.ErrOutcomeUnknown) || scim.AsError(err).Status != http.StatusBadGateway {
					t.Errorf("Create = %v, %v; want the 502 of an unknown outcome", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			// The caller gets the resource its request created, with the
			// attributes it sent.
			var made scim.Resource
			for _, r := range all {
				if !old[r.ID()] {
					made = r
				}
			}
			if made == nil || got.ID() != made.ID() || got.Version() == "" {
				t.Errorf("Create = %v, want the stored %v", got, made)
			}
			for _, attr := range []string{"userName", "displayName", "externalId"} {
				if want, ok := tt.create[attr]; ok && !strings.EqualFold(got[attr].(string), want.(string)) {
					t.Errorf("Create returned %s %v, want %v", attr, got[attr], want)
				}
			}
		})
	}
}

// TestCreateLookupFails checks that when the lookup after a lost answer
// fails, the adapter neither guesses nor sends again: the caller gets the
// 502 of an unknown outcome.
func TestCreateLookupFails(t *testing.T) {
	l := &loser{plan: []bool{true}, failLists: true}
	u := newUpstream(t, l.wrap)
	a := u.adapter(t)
	_, err := a.Create(t.Context(), scim.UserType, userRes("bjensen", ""))
	if !errors.Is(err, outbound.ErrOutcomeUnknown) || scim.AsError(err).Status != http.StatusBadGateway ||
		!strings.Contains(err.Error(), "the lookup after it failed too") {
		t.Errorf("Create = %v, want the 502 of an unknown outcome, naming the failed lookup", err)
	}
	if l.postCount() != 1 || len(u.stored(t, scim.UserType)) != 1 {
		t.Errorf("%d POSTs, %d users; want 1 and 1", l.postCount(), len(u.stored(t, scim.UserType)))
	}
}

// TestCreateLookupWithoutFilter checks the lookup against an upstream
// declared without filtering: it reads every page and matches here.
func TestCreateLookupWithoutFilter(t *testing.T) {
	l := &loser{}
	u := newUpstream(t, l.wrap)
	caps := standard
	caps.MaxPageSize = 2
	a := u.adapter(t, WithCapabilities(caps))
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := a.Create(t.Context(), scim.UserType, userRes(name, "")); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	l.plan = []bool{true}
	l.mu.Unlock()
	got, err := a.Create(t.Context(), scim.UserType, userRes("bjensen", ""))
	if err != nil || got["userName"] != "bjensen" {
		t.Fatalf("Create = %v, %v; want bjensen", got, err)
	}
	if l.postCount() != 6 || len(u.stored(t, scim.UserType)) != 6 {
		t.Errorf("%d POSTs, %d users; want 6 and 6", l.postCount(), len(u.stored(t, scim.UserType)))
	}
}
