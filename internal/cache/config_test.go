package cache_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/cache/redistest"
)

func decode(t *testing.T, doc string) *cache.Config {
	t.Helper()
	var c cache.Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	return &c
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error, one per problem; none: valid
	}{
		{"empty", `{}`, nil},
		{"in process", `{ttl: 2m, maxEntries: 100, targets: {webex: {ttl: 30s}, old: {disabled: true}}}`, nil},
		{"single", `{redis: {addrs: ["redis:6379"], db: 2, timeout: 50ms, tls: {}}}`, nil},
		{"sentinel", `{redis: {addrs: ["s1:26379", "s2:26379"], masterName: m, db: 1, sentinelPasswordEnv: X}}`, nil},
		{"cluster", `{redis: {addrs: ["c1:6379", "c2:6379"]}}`, nil},
		{"chart's output", `{ttl: 2m, redis: {addrs: ["r:6379"], cluster: true, tls: {}, passwordEnv: REDIS_PASSWORD}}`, nil},
		{"negative", `{ttl: -1s, maxEntries: -1, targets: {a: {ttl: -1s}}}`,
			[]string{"ttl: must not be negative", "maxEntries: must not be negative", "targets.a.ttl: must not be negative"}},
		{"redis problems", `{maxEntries: 5, redis: {addrs: ["nohost", "h:99999", ":1"], masterName: m, cluster: true, db: -1,
			passwordEnv: A, passwordFile: B, username: u, timeout: -1s, pingInterval: -1s, poolSize: -1, tls: {certFile: c}}}`,
			[]string{"maxEntries: set with redis", "redis.addrs[0]: want host:port", "redis.addrs[1]: port must be 1-65535",
				"redis.addrs[2]: want host:port", "redis.cluster: set with masterName", "redis.db: must not be negative",
				"redis.passwordEnv, passwordFile: set one, not both", "redis.timeout", "redis.pingInterval", "redis.poolSize",
				"redis.tls: certFile and keyFile go together"}},
		{"no addrs", `{redis: {}}`, []string{"redis.addrs: required"}},
		{"db in cluster", `{redis: {addrs: ["a:1", "b:1"], db: 3}}`, []string{"redis.db: must be 0 in Cluster mode"}},
		{"username alone", `{redis: {addrs: ["a:1"], username: u}}`, []string{"redis.username: set without passwordEnv"}},
		{"sentinel password alone", `{redis: {addrs: ["a:1"], sentinelPasswordFile: f}}`, []string{"redis.sentinelPasswordEnv: set without masterName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(t, tt.in).Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate(%s) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%s) = nil, want %q", tt.in, tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("Validate(%s) reported %d problems, want %d:\n%v", tt.in, len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%s) = %v, want it to say %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestConfigSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PW": "env-secret"}
	s := adapters.Secrets{Getenv: func(k string) string { return env[k] }, Dir: dir}

	c := decode(t, `{redis: {addrs: ["a:1"], masterName: m, passwordEnv: PW, sentinelPasswordFile: pw}}`)
	if err := c.ResolveSecrets(s); err != nil {
		t.Fatalf("ResolveSecrets: %v", err)
	}
	c = decode(t, `{redis: {addrs: ["a:1"], masterName: m, passwordEnv: UNSET, sentinelPasswordFile: missing}}`)
	err := c.ResolveSecrets(s)
	if err == nil || !strings.Contains(err.Error(), "redis.passwordEnv: environment variable UNSET") ||
		!strings.Contains(err.Error(), "redis.sentinelPasswordFile:") {
		t.Fatalf("ResolveSecrets with missing secrets = %v, want both named", err)
	}
	if err := decode(t, `{}`).ResolveSecrets(s); err != nil {
		t.Fatalf("ResolveSecrets without redis: %v", err)
	}
}

// TestConfigPassword: a password read from the environment reaches Redis.
func TestConfigPassword(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name, pw string
		healthy  bool
	}{{"right", "s3cret", true}, {"wrong", "nope", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := decode(t, `{redis: {addrs: ["`+srv.Addr+`"], passwordEnv: PW, timeout: 1s}}`)
			if err := c.ResolveSecrets(adapters.Secrets{Getenv: func(string) string { return tc.pw }}); err != nil {
				t.Fatal(err)
			}
			s, err := c.Open(nil)
			if err != nil {
				t.Fatal(err)
			}
			r := s.(*cache.Redis)
			defer r.Close()
			// The server has no password yet: set one through a client
			// that has none, then check ours.
			if tc.name == "right" {
				setPassword(t, srv.Addr, tc.pw)
			}
			if err := r.Health(t.Context()); (err == nil) != tc.healthy {
				t.Fatalf("Health with the %s password = %v", tc.name, err)
			}
		})
	}
}

// setPassword gives the default user of the server at addr a password,
// through the store itself (CONFIG SET is a plain command).
func setPassword(t *testing.T, addr, pw string) {
	t.Helper()
	if err := redistest.Command(addr, "CONFIG", "SET", "requirepass", pw); err != nil {
		t.Fatal(err)
	}
}

func TestConfigOptionsAndOpen(t *testing.T) {
	c := decode(t, `{ttl: 2m, targets: {fast: {ttl: 10s}, off: {disabled: true}}}`)
	if o, on := c.Options("fast"); !on || o.TTL != 10*time.Second || o.Target != "fast" {
		t.Errorf("Options(fast) = %+v, %v", o, on)
	}
	if o, on := c.Options("other"); !on || o.TTL != 2*time.Minute {
		t.Errorf("Options(other) = %+v, %v", o, on)
	}
	if _, on := c.Options("off"); on {
		t.Error("Options(off) = on")
	}
	if _, on := decode(t, `{disabled: true}`).Options("any"); on {
		t.Error("Options with cache disabled = on")
	}
	if err := c.CheckTargets([]string{"fast", "off"}); err != nil {
		t.Errorf("CheckTargets of known targets: %v", err)
	}
	if err := c.CheckTargets([]string{"fast"}); err == nil || !strings.Contains(err.Error(), "targets.off: no such target") {
		t.Errorf("CheckTargets without off = %v", err)
	}
	s, err := c.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*cache.Memory); !ok {
		t.Errorf("Open without redis = %T, want *cache.Memory", s)
	}
	bad := decode(t, `{redis: {addrs: ["a:1"], tls: {caFile: missing.pem}}}`)
	if _, err := bad.Open(nil); err == nil || !strings.Contains(err.Error(), "caFile") {
		t.Errorf("Open with a missing CA file = %v", err)
	}
}
