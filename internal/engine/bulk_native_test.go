package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// batchingStore is the memory adapter with a native Bulk that runs each
// batch in order, the way a vendor's Bulk endpoint would, recording what
// it got.
type batchingStore struct {
	*memory.Adapter
	limit   int
	batches [][]string // "METHOD Type" per operation
}

func (s *batchingStore) Capabilities() adapters.Capabilities {
	c := s.Adapter.Capabilities()
	c.BulkMaxOperations = s.limit
	return c
}

func (s *batchingStore) Bulk(ctx context.Context, ops []adapters.BulkOp, failOnErrors int) ([]adapters.BulkResult, error) {
	if len(ops) > s.limit {
		return nil, fmt.Errorf("batch of %d, limit %d", len(ops), s.limit)
	}
	var names []string
	out := make([]adapters.BulkResult, len(ops))
	failed := 0
	for i, op := range ops {
		names = append(names, op.Method+" "+op.Type.ID)
		if failOnErrors > 0 && failed >= failOnErrors {
			out[i].Skipped = true
			continue
		}
		for _, v := range []any{op.ID, op.Resource} {
			if strings.Contains(fmt.Sprint(v), "bulkId:") {
				return nil, fmt.Errorf("operation %d still holds a bulkId reference: %v", i, v)
			}
		}
		switch op.Method {
		case "POST":
			out[i].Resource, out[i].Err = s.Create(ctx, op.Type, op.Resource)
		case "PATCH":
			out[i].Resource, out[i].Err = s.Patch(ctx, op.Type, op.ID, op.Patch, "")
		case "DELETE":
			out[i].Err = s.Delete(ctx, op.Type, op.ID, "")
		default:
			return nil, fmt.Errorf("method %s sent to native Bulk", op.Method)
		}
		if out[i].Err != nil {
			failed++
		}
	}
	s.batches = append(s.batches, names)
	return out, nil
}

func TestBulkNativeBatches(t *testing.T) {
	store := &batchingStore{Adapter: memory.New(), limit: 3}
	e := engine.New(store, engine.Options{})
	ops := []string{
		user("u1", "alice", ""), user("u2", "bob", ""), user("u3", "carol", ""),
		user("u4", "dave", ""),
		// Refers to u4, which sits in the open batch: the batch goes first.
		group("g1", "team", "bulkId:u1", "bulkId:u4"),
		`{"method": "PUT", "path": "/Users/bulkId:u2", "data": {"schemas": ["` + scim.UserSchema + `"], "userName": "bobby"}}`,
		`{"method": "PATCH", "path": "/Users/bulkId:u3", "data": {"schemas": ["` + scim.PatchOpSchema + `"], "Operations": [{"op": "replace", "path": "displayName", "value": "C"}]}}`,
		`{"method": "DELETE", "path": "/Users/bulkId:u1"}`,
	}
	resp, err := e.Bulk(context.Background(), decodeBulk(t, request(0, ops...)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(resp), "u1:201 u2:201 u3:201 u4:201 g1:201 PUT:200 PATCH:200 DELETE:204"; got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
	got := fmt.Sprint(store.batches)
	// Three POSTs fill a batch; u4 waits until g1 needs it; the PUT runs
	// singly, so the batch holding g1 goes before it.
	want := "[[POST User POST User POST User] [POST User] [POST Group] [PATCH User DELETE User]]"
	if got != want {
		t.Errorf("batches = %s\nwant      %s", got, want)
	}
	for _, op := range resp.Operations {
		if op.Status[0] == '2' && (!strings.HasPrefix(op.Location, "/") || op.Location == "/Users/" || op.Method != "DELETE" && op.Version == "") {
			t.Errorf("%s %s: location %q version %q", op.Method, op.BulkID, op.Location, op.Version)
		}
	}
	if page, _ := store.List(context.Background(), scim.UserType, adapters.Query{Count: 10}); page.TotalResults != 3 {
		t.Errorf("%d users left, want 3", page.TotalResults)
	}
}

func TestBulkNativeForwardReference(t *testing.T) {
	store := &batchingStore{Adapter: memory.New(), limit: 10}
	e := engine.New(store, engine.Options{})
	resp, err := e.Bulk(context.Background(), decodeBulk(t, request(0, group("g", "team", "bulkId:u"), user("u", "later", ""))))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(resp), "g:201 u:201"; got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(store.batches), "[[POST User] [POST Group]]"; got != want {
		t.Errorf("batches = %s, want %s", got, want)
	}
}

func TestBulkNativeFailOnErrors(t *testing.T) {
	store := &batchingStore{Adapter: memory.New(), limit: 10}
	e := engine.New(store, engine.Options{})
	resp, err := e.Bulk(context.Background(), decodeBulk(t, request(2,
		user("a", "dup", ""), user("b", "dup", ""), user("c", "dup", ""), user("d", "dup", ""), user("e", "fine", ""))))
	if err != nil {
		t.Fatal(err)
	}
	// The vendor stops after the second failure; what it did not run is
	// left out.
	if got, want := summary(resp), "a:201 b:409 c:409"; got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
}

func TestBulkNativeInvalidDataNotSent(t *testing.T) {
	store := &batchingStore{Adapter: memory.New(), limit: 10}
	e := engine.New(store, engine.Options{})
	resp, err := e.Bulk(context.Background(), decodeBulk(t, request(0,
		user("a", "ok", ""), user("b", "bad", `"active": "maybe"`))))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(resp), "a:201 b:400"; got != want {
		t.Errorf("results = %s, want %s", got, want)
	}
	if got := fmt.Sprint(store.batches); got != "[[POST User]]" {
		t.Errorf("batches = %s: an invalid operation reached the vendor", got)
	}
}
