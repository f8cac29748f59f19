package webextest

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

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex"
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

// do sends method to path (relative to the org base when it starts with
// "/Users", "/Groups" or "/Bulk", else to the server root) with body
// (nil, a string or a value to encode as JSON).
func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	return c.doHeader(method, path, body, nil)
}

func (c *client) doHeader(method, path string, body any, hdr http.Header) reply {
	c.t.Helper()
	url := c.srv.URL + path
	for _, p := range []string{"/Users", "/Groups", "/Bulk"} {
		if strings.HasPrefix(path, p) {
			url = c.srv.BaseURL() + path
		}
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
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
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
	if len(raw) > 0 {
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

// wantSCIMError checks a family-1 error body with status and scimType.
func (r reply) wantSCIMError(t *testing.T, status int, scimType scim.ScimType) {
	t.Helper()
	r.want(t, status)
	if got := r.body["status"]; got != strconv.Itoa(status) {
		t.Errorf("status member %v, want the string %q", got, strconv.Itoa(status))
	}
	if got, _ := r.body["scimType"].(string); got != string(scimType) {
		t.Errorf("scimType %q, want %q: %s", got, scimType, r.raw)
	}
	ext, ok := r.body[CiscoErrorExtension].(map[string]any)
	if !ok || ext["trackingId"] == "" || ext["trackingId"] != r.header.Get("TrackingID") {
		t.Errorf("Cisco error extension %v, want trackingId %q", r.body[CiscoErrorExtension], r.header.Get("TrackingID"))
	}
	if schemas, _ := r.body["schemas"].([]any); len(schemas) != 1 || schemas[0] != scim.ErrorSchema {
		t.Errorf("schemas %v, want [%s]", r.body["schemas"], scim.ErrorSchema)
	}
}

// wantPlatformError checks a family-2 error body with status.
func (r reply) wantPlatformError(t *testing.T, status int) {
	t.Helper()
	r.want(t, status)
	msg, _ := r.body["message"].(string)
	errs, _ := r.body["errors"].([]any)
	if msg == "" || len(errs) != 1 || r.body["trackingId"] != r.header.Get("TrackingID") || r.body["trackingId"] == "" {
		t.Errorf("not a Webex platform error body: %s", r.raw)
	}
}

// user returns a minimal create body for userName.
func user(userName string) map[string]any {
	return map[string]any{
		"schemas":  []any{scim.UserSchema, webex.UserExtension, scim.EnterpriseUserSchema},
		"userName": userName,
		"userType": "user",
	}
}

// group returns a create body for a group with the given member ids.
func group(name string, members ...string) map[string]any {
	g := map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": name}
	if len(members) > 0 {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = map[string]any{"value": m}
		}
		g["members"] = ms
	}
	return g
}

// create POSTs body to path and returns the new id.
func (c *client) create(path string, body any) string {
	c.t.Helper()
	r := c.do(http.MethodPost, path, body).want(c.t, http.StatusCreated)
	id, _ := r.body["id"].(string)
	if id == "" {
		c.t.Fatalf("created resource has no id: %s", r.raw)
	}
	return id
}

// ids returns the ids of a ListResponse's Resources.
func ids(r reply) []string {
	var out []string
	for _, res := range r.body["Resources"].([]any) {
		out = append(out, res.(map[string]any)["id"].(string))
	}
	return out
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// fakeClock is a clock tests set by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
