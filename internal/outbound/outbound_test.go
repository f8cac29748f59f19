package outbound

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestDoSendsRequest(t *testing.T) {
	var got struct {
		method, path, query, auth, ctype, ua, body string
	}
	srv := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.RawQuery
		got.auth, got.ctype, got.ua, got.body = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), string(b)
		w.Header().Set("TrackingID", "T-1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	})
	c, _ := newTestClient(t, srv.URL+"/base/", StaticToken("tok"))
	resp, err := c.Do(t.Context(), Request{Method: "post", Path: "/Users", Query: map[string][]string{"a": {"b c"}},
		Body: []byte(`{"userName":"x"}`), Op: "test.Create"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Status != http.StatusCreated || string(resp.Body) != `{"id":"1"}` || resp.Attempts != 1 || resp.Header.Get("TrackingID") != "T-1" {
		t.Errorf("Do = %+v", resp)
	}
	want := [...]string{"POST", "/base/Users", "a=b+c", "Bearer tok", "application/json", DefaultUserAgent, `{"userName":"x"}`}
	have := [...]string{got.method, got.path, got.query, got.auth, got.ctype, got.ua, got.body}
	if want != have {
		t.Errorf("server saw %q, want %q", have, want)
	}
}

func TestDoRetriesIdempotent503(t *testing.T) {
	srv := newScripted(t, status(503), status(503), status(200))
	c, clk := newTestClient(t, srv.URL, nil)
	resp, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Attempts != 3 || srv.count() != 3 {
		t.Errorf("status %d attempts %d server %d", resp.Status, resp.Attempts, srv.count())
	}
	if w := clk.waits(); len(w) != 2 {
		t.Errorf("waits %v", w)
	}
	var se *scim.Error
	_ = errors.As(err, &se)
}
