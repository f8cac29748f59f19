package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/translate/filter"
)

func mustFilter(t testing.TB, rt *scim.ResourceType, s string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(s)
	if err == nil {
		e, err = filter.Check(e, rt)
	}
	if err != nil {
		t.Fatalf("filter %q: %v", s, err)
	}
	return e
}

// TestPatchNoContent checks an upstream that answers PATCH with 204 (RFC
// 7644 §3.5.2 allows it): the adapter reads the resource after.
func TestPatchNoContent(t *testing.T) {
	u := newUpstream(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPatch {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	})
	a := u.adapter(t)
	users := a.Capabilities().ResourceTypes[0]
	bj, err := a.Create(t.Context(), users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Patch(t.Context(), users, bj.ID(), []scim.PatchOp{{Op: "replace", Path: "nickName", Value: "BJ"}}, "")
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if got["nickName"] != "BJ" || got.ID() != bj.ID() || got.Version() == bj.Version() || got.Version() == "" {
		t.Errorf("Patch answered 204 = %v, want the patched resource with a new version", got)
	}
}

// TestDeleteRetried checks that a DELETE whose first answer was lost after
// the upstream deleted, and that the outbound client sent again, succeeds
// rather than answering the 404 of the second attempt.
func TestDeleteRetried(t *testing.T) {
	lost := false
	u := newUpstream(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete && !lost {
				lost = true
				next.ServeHTTP(httptest.NewRecorder(), r) // applied, answer lost
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	a := u.adapter(t)
	users := a.Capabilities().ResourceTypes[0]
	bj, err := a.Create(t.Context(), users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": "bjensen"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(t.Context(), users, bj.ID(), ""); err != nil {
		t.Errorf("Delete whose first answer was lost: %v, want success", err)
	}
	if _, err := a.Get(t.Context(), users, bj.ID()); err == nil {
		t.Errorf("Get after Delete succeeded, want a 404")
	}
}
