package rctest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/scim"
)

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// client talks to one Server with one token.
type client struct {
	t     *testing.T
	srv   *Server
	token string
}

func newClient(t *testing.T, opts ...Option) *client {
	t.Helper()
	srv := NewServer(t, opts...)
	return &client{t: t, srv: srv, token: srv.IssueToken()}
}

// do sends method to path (relative to the SCIM base when it starts with a
// capital letter after the slash, else to the server root) with body (nil,
// a string, bytes or a value to encode as JSON).
func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	return c.doHeader(method, path, body, nil)
}

func (c *client) doHeader(method, path string, body any, hdr http.Header) reply {
	c.t.Helper()
	url := c.srv.URL + path
	if len(path) > 1 && path[1] >= 'A' && path[1] <= 'Z' {
		url = c.srv.BaseURL() + path
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// want fails unless r has status.
func (r reply) want(t *testing.T, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantSCIMError checks a SCIM error body with status and scimType.
func (r reply) wantSCIMError(t *testing.T, status int, scimType scim.ScimType) {
	t.Helper()
	r.want(t, status)
	if got := r.body["status"]; got != strconv.Itoa(status) {
		t.Errorf("status member %v, want the string %q", got, strconv.Itoa(status))
	}
	if s, _ := r.body["schemas"].([]any); len(s) != 1 || s[0] != scim.ErrorSchema {
		t.Errorf("schemas %v, want [%s]", r.body["schemas"], scim.ErrorSchema)
	}
	if got, _ := r.body["scimType"].(string); got != string(scimType) {
		t.Errorf("scimType %q, want %q: %s", got, scimType, r.raw)
	}
}

// wantPlatformError checks a platform error body with status and code.
func (r reply) wantPlatformError(t *testing.T, status int, code string) {
	t.Helper()
	r.want(t, status)
	if got := r.body["errorCode"]; got != code {
		t.Errorf("errorCode %v, want %s: %s", got, code, r.raw)
	}
	errs, _ := r.body["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one item", r.body["errors"])
	}
	if item, _ := errs[0].(map[string]any); item["errorCode"] != code || item["message"] != r.body["message"] {
		t.Errorf("errors[0] = %v, want errorCode %s and the top-level message", item, code)
	}
	if _, ok := r.body["schemas"]; ok {
		t.Errorf("a platform error has no schemas: %s", r.raw)
	}
}

// str returns r.body[key] as a string.
func (r reply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// newUser is a valid create body for userName.
func newUser(userName string) map[string]any {
	return map[string]any{
		"schemas":  []any{scim.UserSchema},
		"userName": userName,
		"name":     map[string]any{"givenName": "Jim", "familyName": "Bean"},
		"emails":   []any{map[string]any{"type": "work", "value": userName}},
	}
}

// create posts newUser(userName) with changes applied and returns the
// created user.
func (c *client) create(userName string, changes ...func(map[string]any)) reply {
	c.t.Helper()
	body := newUser(userName)
	for _, f := range changes {
		f(body)
	}
	return c.do(http.MethodPost, "/Users", body).want(c.t, http.StatusCreated)
}

// fakeClock is a clock that only moves when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// phones returns the phoneNumbers of a user body by type.
func phones(body map[string]any) map[string]string {
	out := map[string]string{}
	list, _ := body["phoneNumbers"].([]any)
	for _, e := range list {
		p, _ := e.(map[string]any)
		t, _ := p["type"].(string)
		v, _ := p["value"].(string)
		out[t] = v
	}
	return out
}

// firstAddress returns the first address of a user body.
func firstAddress(body map[string]any) map[string]any {
	list, _ := body["addresses"].([]any)
	if len(list) == 0 {
		return nil
	}
	a, _ := list[0].(map[string]any)
	return a
}
