package adapters_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/outbound"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestCreateOnce(t *testing.T) {
	lost := &outbound.OutcomeError{Err: &scim.Error{Status: http.StatusGatewayTimeout}}
	conflict := scim.Conflict("taken")
	created := scim.Resource{"id": "1"}
	tests := []struct {
		name      string
		posts     []error         // what each POST answers (nil: created)
		finds     []scim.Resource // what each lookup finds
		findErr   error
		wantPosts int
		wantID    string
		wantErr   error
	}{
		{"answered", []error{nil}, nil, nil, 1, "1", nil},
		{"refused", []error{conflict}, nil, nil, 1, "", scim.ErrConflict},
		{"lost, found", []error{lost}, []scim.Resource{{"id": "9"}}, nil, 1, "9", nil},
		{"lost, absent, sent again", []error{lost, nil}, []scim.Resource{nil}, nil, 2, "1", nil},
		{"lost twice", []error{lost, lost}, []scim.Resource{nil, nil}, nil, 2, "", outbound.ErrOutcomeUnknown},
		{"lost, then 409: the first landed late", []error{lost, conflict}, []scim.Resource{nil, {"id": "7"}}, nil, 2, "7", nil},
		{"lost, lookup fails: nothing sent again", []error{lost}, nil, errors.New("search down"), 1, "", outbound.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts, finds := 0, 0
			post := func(context.Context) (scim.Resource, error) {
				err := tt.posts[posts]
				posts++
				if err != nil {
					return nil, err
				}
				return created, nil
			}
			find := func(context.Context) (scim.Resource, error) {
				if tt.findErr != nil {
					return nil, tt.findErr
				}
				r := tt.finds[finds]
				finds++
				return r, nil
			}
			got, err := adapters.CreateOnce(t.Context(), post, find)
			if posts != tt.wantPosts {
				t.Errorf("%d POSTs, want %d", posts, tt.wantPosts)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.ID() != tt.wantID {
				t.Errorf("CreateOnce = %v, %v; want id %s", got, err, tt.wantID)
			}
		})
	}
}
