package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/redis/go-redis/v9"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is the stdout of a run under test, read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until re matches, and returns the submatches.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp, done <-chan error) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case err := <-done:
			t.Fatalf("run ended early: %v\noutput:\n%s", err, out)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no output matching %s within 10s; output:\n%s", re, out)
	return nil
}

// started is a run in the background; stop cancels it and returns its error.
type started struct {
	out    *syncBuffer
	done   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, args []string, getenv func(string) string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &started{out: new(syncBuffer), done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- run(ctx, args, getenv, s.out) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *started) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not return within 10s of cancel; output:\n%s", s.out)
		return nil
	}
}

// call makes one request and returns the status and the decoded JSON body.
func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, url, err, raw)
		}
	}
	return resp.StatusCode, doc
}

var bannerRE = regexp.MustCompile(`SCIM base URL:\s+(http://\S+)/scim/v2\n(?s:.*)Bearer token:\s+(\S+)`)

func TestDemo(t *testing.T) {
	s := start(t, []string{"demo", "--listen", "127.0.0.1:0", "--token", "demo-token"}, os.Getenv)
	m := waitFor(t, s.out, bannerRE, s.done)
	base, token := m[1], m[2]
	if token != "demo-token" {
		t.Errorf("printed token %q, want demo-token", token)
	}

	status, doc := call(t, "GET", base+"/scim/v2/ServiceProviderConfig", token, "")
	if status != http.StatusOK || doc["bulk"] == nil {
		t.Fatalf("GET ServiceProviderConfig = %d %v, want 200 with bulk", status, doc)
	}
	status, doc = call(t, "POST", base+"/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen"}`)
	if status != http.StatusCreated || doc["id"] == nil {
		t.Fatalf("POST Users = %d %v, want 201 with an id", status, doc)
	}
	loc, _ := doc["meta"].(map[string]any)["location"].(string)
	if !strings.HasPrefix(loc, base+"/targets/memory/scim/v2/Users/") {
		t.Errorf("meta.location = %q, want it under %s/targets/memory/scim/v2/Users/", loc, base)
	}
	status, doc = call(t, "GET", base+`/targets/memory/scim/v2/Users?filter=userName%20eq%20%22BJENSEN%22`, token, "")
	if status != http.StatusOK || doc["totalResults"] != float64(1) {
		t.Fatalf("filter userName eq = %d %v, want 200 with totalResults 1", status, doc)
	}

	// The webex target goes through the in-process simulator over HTTP.
	status, doc = call(t, "POST", base+"/targets/webex/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com","title":"Tour Guide"}`)
	if status != http.StatusCreated || doc["id"] == nil || doc["userType"] != "user" {
		t.Fatalf("POST webex Users = %d %v, want 201 with an id and the default userType", status, doc)
	}
	status, doc = call(t, "GET", base+`/targets/webex/scim/v2/Users?filter=title%20co%20%22Guide%22`, token, "")
	if status != http.StatusOK || doc["totalResults"] != float64(1) {
		t.Fatalf("webex residual filter = %d %v, want 200 with totalResults 1", status, doc)
	}
	status, doc = call(t, "POST", base+"/targets/webex/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"not-an-email"}`)
	if status != http.StatusBadRequest || doc["scimType"] != "invalidValue" {
		t.Errorf("POST webex user without an email userName = %d %v, want 400 invalidValue", status, doc)
	}
	// So does the ringcentral target, which has no Groups.
	status, doc = call(t, "POST", base+"/targets/ringcentral/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jim@example.com","name":{"givenName":"Jim","familyName":"Bean"}}`)
	if status != http.StatusCreated || doc["id"] == nil {
		t.Fatalf("POST ringcentral Users = %d %v, want 201 with an id", status, doc)
	}
	if status, doc = call(t, "GET", base+"/targets/ringcentral/scim/v2/Groups", token, ""); status != http.StatusNotFound {
		t.Errorf("GET ringcentral Groups = %d %v, want 404", status, doc)
	}
	if status, _ := call(t, "GET", base+"/scim/v2/Users", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET Users without a token = %d, want 401", status)
	}
	if status, _ := call(t, "GET", base+"/scim/v2/Users", "wrong", ""); status != http.StatusUnauthorized {
		t.Errorf("GET Users with a wrong token = %d, want 401", status)
	}

	if err := s.stop(t); err != nil {
		t.Fatalf("run = %v, want nil after a graceful shutdown\n%s", err, s.out)
	}
	if !strings.Contains(s.out.String(), "msg=stopped") {
		t.Errorf("no 'stopped' log line:\n%s", s.out)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		t.Error("the port still accepts connections after shutdown")
	}
}

func TestDemoRandomToken(t *testing.T) {
	s := start(t, []string{"demo", "--listen", "127.0.0.1:0"}, os.Getenv)
	m := waitFor(t, s.out, bannerRE, s.done)
	base, token := m[1], m[2]
	if len(token) != 43 || !bearerToken.MatchString(token) {
		t.Errorf("random token %q: want 43 base64url characters", token)
	}
	if status, _ := call(t, "GET", base+"/scim/v2/Users", token, ""); status != http.StatusOK {
		t.Errorf("GET Users with the printed token = %d, want 200", status)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	// Another run, another token.
	s2 := start(t, []string{"demo", "--listen", "127.0.0.1:0"}, os.Getenv)
	if m2 := waitFor(t, s2.out, bannerRE, s2.done); m2[2] == token {
		t.Error("two demo runs printed the same random token")
	}
}

// TestDemoInFlightRequest checks that a request under way when the shutdown
// starts still gets its answer.
func TestDemoInFlightRequest(t *testing.T) {
	s := start(t, []string{"demo", "--listen", "127.0.0.1:0", "--token", "t"}, os.Getenv)
	base := waitFor(t, s.out, bannerRE, s.done)[1]
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late"}`
	head := "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Type: application/scim+json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	// Send the headers now and the body only after the shutdown began: the
	// request is under way all along.
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	s.cancel()
	waitFor(t, s.out, regexp.MustCompile(`shutting down`), nil)
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 201") {
		t.Errorf("in-flight request got %q, want a 201", firstLine(string(resp)))
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// writeConfig writes a configuration accepting the token "serve-token" and
// returns its path.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	h := sha256.Sum256([]byte("serve-token"))
	doc := `
server:
  listen: 127.0.0.1:0
  shutdownTimeout: 5s
targets:
  - name: alpha
    adapter: memory
  - name: beta
    adapter: memory
    settings: {native: false}
credentials:
  tokens:
    - name: ci
      sha256Env: CI_TOKEN_SHA256
      targets: [alpha, beta]
      defaultTarget: beta
` + extra
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI_TOKEN_SHA256", hex.EncodeToString(h[:]))
	return p
}

var servingRE = regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)

func TestServe(t *testing.T) {
	path := writeConfig(t, "")
	s := start(t, []string{"serve", "--config", path}, os.Getenv)
	addr := waitFor(t, s.out, servingRE, s.done)[1]
	base := "http://" + addr
	for _, target := range []string{"alpha", "beta"} {
		if status, _ := call(t, "GET", base+"/targets/"+target+"/scim/v2/Users", "serve-token", ""); status != http.StatusOK {
			t.Errorf("GET %s Users = %d, want 200", target, status)
		}
	}
	status, doc := call(t, "POST", base+"/scim/v2/Groups", "serve-token",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"ops"}`)
	if status != http.StatusCreated || !strings.Contains(doc["meta"].(map[string]any)["location"].(string), "/targets/beta/") {
		t.Errorf("POST /scim/v2/Groups = %d %v, want 201 on the default target beta", status, doc)
	}
	if status, _ := call(t, "GET", base+"/targets/gamma/scim/v2/Users", "serve-token", ""); status != http.StatusNotFound {
		t.Errorf("GET an unknown target = %d, want 404", status)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	// Logs are JSON lines, and never hold the token.
	for _, line := range strings.Split(strings.TrimSpace(s.out.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	if strings.Contains(s.out.String(), "serve-token") {
		t.Error("the log contains the bearer token")
	}
}

func TestServeListenFlag(t *testing.T) {
	path := writeConfig(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := start(t, []string{"serve", "--config", path, "--listen", addr}, os.Getenv)
	if got := waitFor(t, s.out, servingRE, s.done)[1]; got != addr {
		t.Errorf("serving on %s, want --listen %s", got, addr)
	}
}

func TestServePortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := writeConfig(t, "")
	err = run(t.Context(), []string{"serve", "--config", path, "--listen", ln.Addr().String()}, os.Getenv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("run = %v, want address already in use", err)
	}
}

func TestValidate(t *testing.T) {
	good := writeConfig(t, "")
	bad := writeConfig(t, "  jwt:\n    - issuer: https://idp\n      algorithm: RS256\n      audience: gw\n      jwksURL: http://idp.example.com/keys\n      targets: [alpha]\n")
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		wantOut string // substring of stdout
		wantErr string // substring of the error; "" means success
		usage   bool   // the error is a usage error (exit 2)
	}{
		{name: "valid", args: []string{"validate", "--config", good}, env: os.Getenv, wantOut: "valid; targets: alpha (memory), beta (memory); 1 static token(s), 0 JWT issuer(s)"},
		{name: "single dash flag", args: []string{"validate", "-config", good}, env: os.Getenv, wantOut: "valid"},
		{name: "bad field", args: []string{"validate", "--config", bad}, env: os.Getenv, wantErr: "credentials.jwt[0].jwksURL: must be https"},
		{name: "secret missing from the environment", args: []string{"validate", "--config", good}, env: func(string) string { return "" },
			wantErr: "credentials.tokens[0].sha256Env: environment variable CI_TOKEN_SHA256 is unset or empty"},
		{name: "missing file", args: []string{"validate", "--config", good + ".nope"}, env: os.Getenv, wantErr: "no such file"},
		{name: "no config flag", args: []string{"validate"}, wantErr: "--config FILE is required", usage: true},
		{name: "unknown flag", args: []string{"validate", "--conf", good}, wantErr: "flag provided but not defined: -conf", usage: true},
		{name: "stray argument", args: []string{"validate", "--config", good, "extra"}, wantErr: `unexpected argument "extra"`, usage: true},
		{name: "serve without config", args: []string{"serve"}, wantErr: "--config FILE is required", usage: true},
		{name: "bad demo token", args: []string{"demo", "--token", "has space"}, wantErr: "--token", usage: true},
		{name: "no command", args: nil, wantErr: "no command given", usage: true},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, usage: true},
		{name: "help", args: []string{"help"}, wantOut: "gateway serve --config FILE"},
		{name: "command help", args: []string{"serve", "-h"}, wantOut: "-listen ADDR"},
		{name: "version", args: []string{"version"}, wantOut: "gateway "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, tt.env, &out)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("run(%q) = %v, want nil", tt.args, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				if got := errors.As(err, new(*usageError)); got != tt.usage {
					t.Errorf("usage error = %v, want %v", got, tt.usage)
				}
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v1.2.3", "0123456789abcdef0123"
	got := versionString()
	for _, want := range []string{"gateway v1.2.3", "commit 0123456789abcdef0123", "go1."} {
		if !strings.Contains(got, want) {
			t.Errorf("versionString() = %q, want it to contain %q", got, want)
		}
	}
	version, commit = "", ""
	if got := versionString(); !strings.HasPrefix(got, "gateway devel (commit unknown") && !strings.HasPrefix(got, "gateway v") {
		t.Errorf("versionString() without ldflags = %q", got)
	}
	if got := shortRevision("0123456789abcdef"); got != "0123456789ab" {
		t.Errorf("shortRevision = %q", got)
	}
}

func TestDialable(t *testing.T) {
	tests := []struct {
		in   net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "127.0.0.1:80"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "[::1]:8080"},
		{&net.TCPAddr{Port: 9}, "127.0.0.1:9"},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 1}, "10.0.0.5:1"},
	}
	for _, tt := range tests {
		if got := dialable(tt.in); got != tt.want {
			t.Errorf("dialable(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDemoRedis runs the demo with --redis: the cache lives in a real
// redis-server, and /readyz reports it.
func TestDemoRedis(t *testing.T) {
	r := redistest.Start(t)
	s := start(t, []string{"demo", "--listen", "127.0.0.1:0", "--token", "t", "--redis", "redis://" + r.Addr + "/2"}, os.Getenv)
	base := waitFor(t, s.out, bannerRE, s.done)[1]
	status, doc := call(t, "POST", base+"/targets/webex/scim/v2/Users", "t",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"cached@example.com"}`)
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %v", status, doc)
	}
	id, _ := doc["id"].(string)
	for range 2 {
		if status, doc := call(t, "GET", base+"/targets/webex/scim/v2/Users/"+id, "t", ""); status != http.StatusOK {
			t.Fatalf("GET = %d %v", status, doc)
		}
	}
	rc := redis.NewClient(&redis.Options{Addr: r.Addr, DB: 2})
	defer rc.Close()
	keys, err := rc.Keys(t.Context(), "scimgw:*").Result()
	if err != nil || !strings.Contains(strings.Join(keys, " "), "webex") {
		t.Errorf("keys in Redis db 2 after two GETs = %q, %v; want the webex target's entries", keys, err)
	}
	status, doc = call(t, "GET", base+"/readyz", "", "")
	if redisDoc, _ := json.Marshal(doc["redis"]); status != http.StatusOK || !strings.Contains(string(redisDoc), `"ok"`) {
		t.Errorf("/readyz = %d %v, want redis ok", status, doc)
	}
}
