package rctest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkSeed measures WithSeed(100000): the 100,000-user account of the
// gateway's benchmark.
func BenchmarkSeed(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := New(WithSeed(100_000))
		if s.Count() != 100_000 {
			b.Fatal(s.Count())
		}
	}
}

// BenchmarkListPage measures one GET /Users page of 1000 in the middle of
// 100,000 users, served in-process (no network).
func BenchmarkListPage(b *testing.B) {
	s := New(WithSeed(100_000), WithoutRateLimits())
	tok := s.IssueToken()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users?startIndex=50001&count=1000", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkListAll measures listing all 100,000 users in pages of 1000 over
// loopback HTTP, decoding only ids, as an adapter reading everything does.
func BenchmarkListAll(b *testing.B) {
	srv := NewServer(b, WithSeed(100_000), WithoutRateLimits())
	tok := srv.IssueToken()
	hc := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		seen := 0
		for start := 1; ; {
			req, _ := http.NewRequest(http.MethodGet, srv.BaseURL()+"/Users?count=1000&startIndex="+strconv.Itoa(start), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				ItemsPerPage int
				Resources    []struct{ ID string }
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			if page.ItemsPerPage == 0 {
				break
			}
			seen += page.ItemsPerPage
			start += page.ItemsPerPage
		}
		if seen != 100_000 {
			b.Fatal(seen)
		}
	}
}

// BenchmarkFilterByUserName measures an indexed userName lookup among
// 100,000 users.
func BenchmarkFilterByUserName(b *testing.B) {
	s := New(WithSeed(100_000), WithoutRateLimits())
	tok := s.IssueToken()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, `/scim/v2/Users?filter=userName+eq+%22seed0077777%40example.com%22`, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
