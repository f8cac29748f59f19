package outbound

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDo measures one GET through the whole client (token, limiter,
// breaker, retry loop, body read) against a loopback server.
func BenchmarkDo(b *testing.B) {
	body := []byte(`{"id":"2819c223-7f76-453a-919d-413861904646","userName":"bjensen@example.com","active":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"rate_limited", []Option{WithRateLimit(1e9, 1000)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := New(srv.URL+"/scim/v2", StaticToken("token"), bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			req := Request{Method: http.MethodGet, Path: "/Users/2819c223", Op: "bench.Get"}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Do(b.Context(), req)
				if err != nil || resp.Status != 200 {
					b.Fatal(resp, err)
				}
			}
		})
	}
}
