package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/scim-gateway/scim-gateway/api"
	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/engine"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/scim"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// loadDocument parses and validates the embedded document as OpenAPI 3.1.
func loadDocument(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.yaml declares openapi %q, want 3.1 or later", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	if _, err := gorillamux.NewRouter(doc); err != nil {
		t.Fatalf("routes of openapi.yaml: %v", err)
	}
	// Every operation has an id, a summary and a response for each status
	// it declares; operation ids are unique.
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: operationId and summary are required", where)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also that of %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
		}
	}
}

// The credentials of the test gateway.
const (
	adminToken   = "admin-token"   // every target; default target memory
	limitedToken = "limited-token" // only the target small, its default
)

// smallOptions are the limits of the target "small".
var smallOptions = engine.Options{DefaultPageSize: 2, MaxPageSize: 3, BulkMaxOperations: 2, BulkMaxPayload: 2048}

// maxBody is the gateway's request body limit outside Bulk.
const maxBody = 16 << 10

// gateway is the real handler (router, engine, memory store, static-token
// authenticator) on loopback, with a client that validates every exchange
// against the document.
type gateway struct {
	url     string
	hc      *http.Client
	handler http.Handler
	doc     *openapi3.T
	routes  routers.Router

	mu        sync.Mutex
	exercised map[string]bool // "GET /Users/{id}": operations a valid exchange reached
}

// build is what the test gateway's /version reports.
var build = router.BuildInfo{Version: "v1.2.3", Commit: "0123abc", GoVersion: runtime.Version()}

// checkFunc is an adapters.HealthChecker. No adapter has a health check yet,
// so the test gives the targets these: one passes, one fails as an adapter
// reports a vendor outage.
type checkFunc func(ctx context.Context) error

func (f checkFunc) Health(ctx context.Context) error { return f(ctx) }

// newHealth returns the Health the test gateway reports in /readyz: memory
// passes its check, small fails it, plain has none.
func newHealth() *router.Health {
	h := router.NewHealth(router.HealthOptions{})
	h.SetTargets(map[string]adapters.HealthChecker{
		"memory": checkFunc(func(context.Context) error { return nil }),
		"small": checkFunc(func(context.Context) error {
			return &scim.Error{Status: http.StatusServiceUnavailable, Detail: "the vendor answers 503"}
		}),
		"plain": nil,
	})
	return h
}

// The validator decodes a response body by its media type, and knows
// text/plain but not OpenMetrics, which is text too.
func init() {
	openapi3filter.RegisterBodyDecoder("application/openmetrics-text", openapi3filter.PlainBodyDecoder)
}

// metrics is the Prometheus handler the test gateways serve at /metrics,
// from telemetry set up once for the package as serve does it: Setup
// installs process-wide providers and instruments, so one setup serves the
// parallel tests and the session's requests are counted in its scrape.
var metrics = sync.OnceValues(func() (http.Handler, error) {
	tel, err := telemetry.Setup(context.Background(), telemetry.Config{Exporter: telemetry.ExporterNone})
	if err != nil {
		return nil, err
	}
	return tel.MetricsHandler(), nil
})

// newGateway starts the gateway with the Health given, or, when nil, one
// that is ready (newHealth).
func newGateway(t *testing.T, doc *openapi3.T, health *router.Health) *gateway {
	t.Helper()
	if health == nil {
		health = newHealth()
		health.SetReady()
	}
	authn, err := auth.New(auth.Config{Tokens: []auth.StaticToken{
		{Name: "admin", SHA256: sha256.Sum256([]byte(adminToken)), Targets: []string{"*"}, DefaultTarget: "memory"},
		{Name: "limited", SHA256: sha256.Sum256([]byte(limitedToken)), Targets: []string{"small"}, DefaultTarget: "small"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mh, err := metrics()
	if err != nil {
		t.Fatal(err)
	}
	h, err := router.New(router.Config{
		Targets: router.NewTargets(map[string]*engine.Engine{
			"memory": engine.New(memory.New(), engine.Options{}),
			"small":  engine.New(memory.New(), smallOptions),
			"plain":  engine.New(memory.New(), engine.Options{}),
			// A target whose only resource type is neither User nor Group.
			"devices": engine.New(newDeviceStore(), engine.Options{}),
		}),
		Authenticator: authn,
		MaxBodyBytes:  maxBody,
		Health:        health,
		Build:         build,
		Metrics:       mh,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	routes, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &gateway{url: srv.URL, hc: srv.Client(), handler: h, doc: doc, routes: routes, exercised: map[string]bool{}}
}

// call is one request of a session.
type call struct {
	method, path string // path is relative to the server, with its query
	token        string // "" sends no Authorization
	body         string
	header       map[string]string // Content-Type defaults to application/scim+json with a body
	// breaks says that the request deliberately does not conform to the
	// document (no credential, a parameter of the wrong type, a media type
	// it does not list): request validation must then fail, which shows
	// that the document states the rule the gateway enforces.
	breaks bool
	// undocumented says that no operation of the document matches the
	// request (an unknown path, or a method the path is not served with).
	undocumented bool
	want         int // the expected status
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (g *gateway) newRequest(t testing.TB, c call) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequestWithContext(t.Context(), c.method, g.url+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.body != "" {
		r.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	return r
}

// validationOptions make undocumented statuses an error and check the
// bearer scheme the way the document states it.
func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    checkBearer,
	}
}

// checkBearer is the document's security scheme "bearer": an Authorization
// header with the Bearer scheme and a token. Whether the token is accepted
// is the gateway's business (401).
func checkBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearer" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// do sends c to the gateway and validates the exchange: the request against
// the operation the document gives its method and path (it must conform
// unless c.breaks, and must not conform if it does), and the response's
// status, headers and body against that operation's responses. A request
// that matches no operation must be c.undocumented, and its response must
// still be a SCIM Error. Every error response must carry its status in the
// body.
func (g *gateway) do(t testing.TB, c call) reply {
	t.Helper()
	what := c.method + " " + c.path
	check := g.newRequest(t, c)
	route, params, findErr := g.routes.FindRoute(check)
	var input *openapi3filter.RequestValidationInput
	switch {
	case findErr != nil && !c.undocumented:
		t.Fatalf("%s: no operation of the document matches: %v", what, findErr)
	case findErr == nil && c.undocumented:
		t.Fatalf("%s: marked undocumented, but the document has %s %s", what, route.Method, route.Path)
	case findErr == nil:
		input = &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: validationOptions()}
		err := openapi3filter.ValidateRequest(t.Context(), input)
		switch {
		case err != nil && !c.breaks:
			t.Fatalf("%s: the request does not conform to the document:\n%v", what, err)
		case err == nil && c.breaks:
			t.Fatalf("%s: the request should break the document, but conforms to %s %s", what, route.Method, route.Path)
		}
	}

	resp, err := g.hc.Do(g.newRequest(t, c))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", what, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: body}
	if c.want != 0 && r.status != c.want {
		t.Fatalf("%s = %d, want %d\n%s", what, r.status, c.want, body)
	}

	if r.status >= 400 && (findErr != nil || scimResponse(route, r.status)) {
		g.checkErrorBody(t, what, r)
	}
	if r.status == http.StatusMethodNotAllowed {
		// The document cannot list a 405 under an operation that does not
		// exist; Allow must name exactly the methods it documents instead.
		if got, want := r.header.Get("Allow"), strings.Join(g.documentedMethods(t, c), ", "); got != want {
			t.Fatalf("%s = 405 with Allow %q; the document has %q for this path", what, got, want)
		}
	}
	if input == nil {
		return r
	}
	g.checkLocations(t, what, r)
	// ValidateResponse passes some statuses (304) without a look; every
	// status must be documented all the same.
	if route.Operation.Responses.Status(r.status) == nil {
		t.Fatalf("%s = %d: the document lists no %d for %s %s", what, r.status, r.status, route.Method, route.Path)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 r.status,
		Header:                 r.header,
		Options:                validationOptions(),
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Fatalf("%s = %d: the response does not conform to %s %s:\n%v\n%s", what, r.status, route.Method, route.Path, err, body)
	}
	if !c.breaks {
		g.mu.Lock()
		g.exercised[route.Method+" "+route.Path] = true
		g.mu.Unlock()
	}
	return r
}

// checkLocations checks what the document says of every URL in a response
// and its validator does not assert (format: uri is an annotation): the
// Location header, meta.location and Bulk locations are absolute URLs under
// a target's named root, whichever root the request used.
func (g *gateway) checkLocations(t testing.TB, what string, r reply) {
	t.Helper()
	var urls []string
	if loc := r.header.Get("Location"); loc != "" {
		urls = append(urls, loc)
	}
	var body map[string]any
	if json.Unmarshal(r.body, &body) == nil {
		items := []any{body}
		if rs, ok := body["Resources"].([]any); ok {
			items = append(items, rs...)
		}
		if ops, ok := body["Operations"].([]any); ok {
			for _, op := range ops {
				if m, ok := op.(map[string]any); ok {
					if loc, ok := m["location"].(string); ok {
						urls = append(urls, loc)
					}
				}
			}
		}
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if meta, ok := m["meta"].(map[string]any); ok {
					if loc, ok := meta["location"].(string); ok {
						urls = append(urls, loc)
					}
				}
			}
		}
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, g.url+"/targets/") || !strings.Contains(u, "/scim/v2/") {
			t.Errorf("%s: URL %q is not under a target's named root %s/targets/{target}/scim/v2", what, u, g.url)
		}
	}
}

// scimResponse reports whether the route documents status as a SCIM
// answer: every SCIM error is one, /readyz's 503 is not.
func scimResponse(route *routers.Route, status int) bool {
	ref := route.Operation.Responses.Status(status)
	return ref == nil || ref.Value.Content.Get("application/scim+json") != nil
}

// documentedMethods returns the methods the document serves c's path with,
// in the order Allow lists them; HEAD is left out, as Allow leaves it out.
func (g *gateway) documentedMethods(t testing.TB, c call) []string {
	t.Helper()
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		c.method = m
		if _, _, err := g.routes.FindRoute(g.newRequest(t, c)); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// checkErrorBody checks what the document cannot say per operation: an
// error response is a SCIM Error whose status is the HTTP status.
func (g *gateway) checkErrorBody(t testing.TB, what string, r reply) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Fatalf("%s = %d with Content-Type %q, want application/scim+json", what, r.status, ct)
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s = %d: body is not JSON: %v\n%s", what, r.status, err, r.body)
	}
	schema := g.doc.Components.Schemas["Error"]
	if err := g.doc.ValidateSchemaJSON(schema.Value, v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Fatalf("%s = %d: body is not a SCIM Error:\n%v\n%s", what, r.status, err, r.body)
	}
	if got := v.(map[string]any)["status"]; got != strconv.Itoa(r.status) {
		t.Fatalf("%s = %d: body status is %v", what, r.status, got)
	}
}

// operations returns every operation of the document as "METHOD /path".
func operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// jsonBody encodes v for a request body.
func jsonBody(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestReferenceAttributes checks the schemas of the "$ref" sub-attributes
// (RFC 7643 §2.3.7), which the session cannot reach: the built-in store keeps
// no $ref, while vendor adapters return one. A property named "$ref" is easily
// mistaken for a JSON reference by tools; here it must be a property.
func TestReferenceAttributes(t *testing.T) {
	t.Parallel()
	doc := loadDocument(t)
	tests := []struct {
		name, schema string
		body         map[string]any
		ok           bool
	}{
		{"member ref", "Group", map[string]any{"schemas": []any{groupURN}, "id": "g1",
			"members": []any{map[string]any{"value": "u1", "$ref": "https://scim.example.com/targets/t/scim/v2/Users/u1", "type": "User"}}}, true},
		{"member ref not a string", "Group", map[string]any{"schemas": []any{groupURN}, "id": "g1",
			"members": []any{map[string]any{"value": "u1", "$ref": 5}}}, false},
		{"member misspelt", "Group", map[string]any{"schemas": []any{groupURN}, "id": "g1",
			"members": []any{map[string]any{"value": "u1", "ref": "https://scim.example.com/Users/u1"}}}, false},
		{"user groups ref", "User", map[string]any{"schemas": []any{userURN}, "id": "u1",
			"groups": []any{map[string]any{"value": "g1", "$ref": "https://scim.example.com/targets/t/scim/v2/Groups/g1", "type": "direct"}}}, true},
		{"manager ref", "User", map[string]any{"schemas": []any{userURN, enterpriseURN}, "id": "u1",
			enterpriseURN: map[string]any{"manager": map[string]any{"value": "u2", "$ref": "https://scim.example.com/targets/t/scim/v2/Users/u2"}}}, true},
		{"manager ref not a string", "User", map[string]any{"schemas": []any{userURN, enterpriseURN}, "id": "u1",
			enterpriseURN: map[string]any{"manager": map[string]any{"value": "u2", "$ref": true}}}, false},
		{"vendor extension", "User", map[string]any{"schemas": []any{userURN, "urn:example:vendor:2.0:User"}, "id": "u1",
			"urn:example:vendor:2.0:User": map[string]any{"badge": "42"}}, true},
		{"unknown attribute", "User", map[string]any{"schemas": []any{userURN}, "id": "u1", "badge": "42"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := doc.ValidateSchemaJSON(doc.Components.Schemas[tt.schema].Value, tt.body, openapi3.EnableJSONSchema2020())
			if (err == nil) != tt.ok {
				t.Errorf("%s %v: valid = %v, want %v (%v)", tt.schema, tt.body, err == nil, tt.ok, err)
			}
		})
	}
}

// planned reports whether the operation ("GET /path") is marked
// x-planned: described ahead of the code that serves it.
func planned(doc *openapi3.T, op string) bool {
	method, path, _ := strings.Cut(op, " ")
	o := doc.Paths.Value(path).GetOperation(method)
	return o != nil && o.Extensions["x-planned"] == true
}

// rawStatus sends a request outside the harness and returns its status.
func (g *gateway) rawStatus(t testing.TB, method, path string) int {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), method, g.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := g.hc.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
