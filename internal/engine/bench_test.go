package engine_test

import (
	"fmt"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// BenchmarkSearchResidual measures a query the engine evaluates itself: the
// store runs nothing natively, the filter keeps a third of 1,000 users, and
// the caller wants one page, sorted or not. The store serves the users in
// one page of 1,000 or in pages of 100; the difference is the store's cost
// of each List call (it copies every stored user per call).
func BenchmarkSearchResidual(b *testing.B) {
	for _, page := range []int{1000, 100} {
		e := engine.New(memory.New(memory.WithoutNative(), memory.WithMaxPageSize(page)), engine.Options{})
		seed(b, e, 1000)
		for _, bc := range []struct {
			name string
			q    engine.Query
		}{
			{"filter", engine.Query{Filter: `title eq "third"`, StartIndex: 51, Count: 50}},
			{"filter_sort", engine.Query{Filter: `title eq "third"`, SortBy: "userName", SortOrder: "descending", StartIndex: 51, Count: 50}},
			{"filter_and_or", engine.Query{Filter: `active eq true and (title pr or displayName co "9")`, StartIndex: 1, Count: 100}},
		} {
			b.Run(fmt.Sprintf("%s/page_%d", bc.name, page), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					lr, err := e.Search(b.Context(), scim.UserType, bc.q)
					if err != nil {
						b.Fatal(err)
					}
					if lr.TotalResults == 0 {
						b.Fatalf("no results for %+v", bc.q)
					}
				}
			})
		}
	}
}
