package router_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
)

func TestNewValidates(t *testing.T) {
	valid := func() router.Config {
		return router.Config{Targets: router.NewTargets(nil), Authenticator: principals}
	}
	tests := []struct {
		name    string
		edit    func(*router.Config)
		wantErr string // substring; "" means no error
	}{
		{"minimal", func(*router.Config) {}, ""},
		{"public URL with prefix", func(c *router.Config) { c.PublicURL = "https://gw.example.com/scim-gw/" }, ""},
		{"no targets", func(c *router.Config) { c.Targets = nil }, "Targets: required"},
		{"no authenticator", func(c *router.Config) { c.Authenticator = nil }, "Authenticator: required"},
		{"negative body limit", func(c *router.Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes"},
		{"relative public URL", func(c *router.Config) { c.PublicURL = "/scim" }, "PublicURL"},
		{"public URL scheme", func(c *router.Config) { c.PublicURL = "ftp://gw.example.com" }, "PublicURL"},
		{"public URL query", func(c *router.Config) { c.PublicURL = "https://gw.example.com/?x=1" }, "PublicURL"},
		{"public URL user", func(c *router.Config) { c.PublicURL = "https://u:p@gw.example.com" }, "PublicURL"},
		{"every problem at once", func(c *router.Config) { c.Targets, c.Authenticator = nil, nil }, "Authenticator: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.edit(&cfg)
			h, err := router.New(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr == "" && h == nil:
				t.Fatal("New returned a nil handler")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// TestPublicURLPrefix checks that a public URL's path prefix is kept.
func TestPublicURLPrefix(t *testing.T) {
	f := newFixture(t, func(c *router.Config) { c.PublicURL = "https://gw.example.com/prefix/" })
	r := f.mustDo(t, req{method: "POST", path: memoryRoot + "/Users", token: adminToken, body: userJSON("p")}, 201)
	if got, want := r.header.Get("Location"), "https://gw.example.com/prefix"+memoryRoot+"/Users/"+str(r.json(t), "id"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

// TestTargetsSwap checks that a new set of targets is served at once, also
// while requests are in flight (run with -race).
func TestTargetsSwap(t *testing.T) {
	f := newFixture(t)
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken}, 200)

	f.targets.Swap(map[string]*engine.Engine{"other": engine.New(memory.New(), engine.Options{})})
	checkError(t, f.do(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken}), 404, "")
	f.mustDo(t, req{method: "GET", path: "/targets/other/scim/v2/Users", token: adminToken}, 200)

	sets := []map[string]*engine.Engine{newTargets(), newTargets()}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				r := f.do(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken})
				if r.status != 200 && r.status != 404 {
					t.Errorf("during swaps: %d %s", r.status, r.body)
				}
			}
		})
	}
	for i := range 50 {
		f.targets.Swap(sets[i%2])
	}
	wg.Wait()
	f.mustDo(t, req{method: "GET", path: memoryRoot + "/Users", token: adminToken}, 200)

	if _, ok := router.NewTargets(map[string]*engine.Engine{"nil": nil}).Lookup("nil"); ok {
		t.Error("a nil engine is served")
	}
	// The set is a copy: changing the caller's map changes nothing.
	m := maps.Clone(sets[0])
	ts := router.NewTargets(m)
	delete(m, "memory")
	if _, ok := ts.Lookup("memory"); !ok {
		t.Error("NewTargets kept a reference to the caller's map")
	}
}

// FuzzCreateResource posts arbitrary bodies to /Users and /Groups through
// the whole handler: whatever the body, the answer is a success or a 4xx
// SCIM error, never a 500 or a panic (which the recoverer would turn into
// a 500).
func FuzzCreateResource(f *testing.F) {
	for _, seed := range []string{
		userJSON("bjensen"),
		`{"schemas":["` + scim.UserSchema + `","` + scim.EnterpriseUserSchema + `"],"userName":"e","` + scim.EnterpriseUserSchema + `":{"employeeNumber":"7","manager":{"value":"x"}}}`,
		`{"schemas":["` + scim.UserSchema + `"],"userName":"m","emails":[{"value":"m@example.com","type":"work","primary":true}],"active":"True"}`,
		`{"schemas":["` + scim.UserSchema + `"],"userName":"n","name":{"givenName":1},"id":"mine","meta":{"version":"W/\"9\""}}`,
		`{"schemas":["` + scim.GroupSchema + `"],"displayName":"g","members":[{"value":"nope"}]}`,
		`{"userName":null}`,
		`{"schemas":"x"}`,
		`{"schemas":[1,2,{}]}`,
		`{"` + scim.UserSchema + `:userName":"urn"}`,
		`[]`, `{`, `"x"`, `{}{}`, `{"a":1e400}`, "{\"userName\":\"\xff\"}",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	fx := newFixture(f, func(c *router.Config) { c.Logger = nil }) // keep no logs across millions of runs
	f.Fuzz(func(t *testing.T, body string, groups bool) {
		if len(body) > 8192 {
			return
		}
		path := memoryRoot + "/Users"
		if groups {
			path = memoryRoot + "/Groups"
		}
		hr := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		hr.Header.Set("Authorization", "Bearer "+adminToken)
		hr.Header.Set("Content-Type", "application/scim+json")
		w := httptest.NewRecorder()
		fx.handler.ServeHTTP(w, hr)
		if w.Code >= 500 || (w.Code != http.StatusCreated && w.Code < 400) {
			t.Fatalf("POST %s %q = %d\n%s", path, body, w.Code, w.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("POST %q: response is not a JSON object: %v", body, err)
		}
		if w.Code != http.StatusCreated {
			if s, _ := m["status"].(string); s != itoa(w.Code) {
				t.Fatalf("POST %q: error status %v, want %q", body, m["status"], itoa(w.Code))
			}
		}
	})
}

// BenchmarkGetUser measures GET /Users/{id} through the whole handler
// (middleware, auth, routing, engine, memory store, JSON), and the same over
// loopback HTTP.
func BenchmarkGetUser(b *testing.B) {
	f := newFixture(b)
	r := f.mustDo(b, req{method: "POST", path: memoryRoot + "/Users", token: adminToken,
		body: `{"schemas":["` + scim.UserSchema + `"],"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},` +
			`"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"active":true}`}, 201)
	path := memoryRoot + "/Users/" + str(r.json(b), "id")

	b.Run("handler", func(b *testing.B) {
		hr := httptest.NewRequest(http.MethodGet, path, nil)
		hr.Header.Set("Authorization", "Bearer "+adminToken)
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			f.handler.ServeHTTP(w, hr)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		hr, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
		hr.Header.Set("Authorization", "Bearer "+adminToken)
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			resp, err := f.client.Do(hr)
			if err != nil {
				b.Fatal(err)
			}
			buf.Reset()
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
