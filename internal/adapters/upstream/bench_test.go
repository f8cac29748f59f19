package upstream

import (
	"fmt"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// BenchmarkAdapter measures one operation through the adapter against the
// gateway's own memory target over loopback: the adapter's part is the
// request it builds and the answer it decodes; the rest is HTTP and the
// upstream's own work.
func BenchmarkAdapter(b *testing.B) {
	a := newUpstream(b, nil).adapter(b)
	ctx := b.Context()
	users := a.Capabilities().ResourceTypes[0]
	var ids []string
	for i := range 20 {
		r, err := a.Create(ctx, users, scim.Resource{"schemas": []any{scim.UserSchema}, "userName": fmt.Sprintf("user%02d", i),
			"emails": []any{map[string]any{"value": fmt.Sprintf("user%02d@example.com", i), "type": "work"}}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, r.ID())
	}
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Get(ctx, users, ids[7]); err != nil {
				b.Fatal(err)
			}
		}
	})
	e := mustFilter(b, users, `userName eq "user07"`)
	b.Run("List_filter", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := a.List(ctx, users, adapters.Query{Filter: e, StartIndex: 1, Count: 10}); err != nil || len(p.Resources) != 1 {
				b.Fatal(p, err)
			}
		}
	})
	b.Run("List_page20", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := a.List(ctx, users, adapters.Query{StartIndex: 1, Count: 20}); err != nil || len(p.Resources) != 20 {
				b.Fatal(p, err)
			}
		}
	})
}
