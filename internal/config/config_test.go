package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/memory"
	"github.com/scim-gateway/scim-gateway/internal/config"
)

// tokenHash is the hex SHA-256 of the token "secret-token".
var tokenHash = hexHash("secret-token")

func hexHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// minimal is the smallest valid document.
var minimal = `
targets:
  - name: memory
    adapter: memory
credentials:
  tokens:
    - name: admin
      sha256: ` + tokenHash + `
      targets: ["*"]
`

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mustParse(t *testing.T, doc string, getenv func(string) string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), t.TempDir(), getenv)
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return cfg
}

func TestDefaults(t *testing.T) {
	cfg := mustParse(t, minimal, noEnv)
	want := config.Server{
		Listen:            ":8080",
		MaxBodyBytes:      1 << 20,
		DefaultPageSize:   100,
		MaxPageSize:       1000,
		Bulk:              config.Bulk{MaxOperations: 1000, MaxPayloadSize: 1 << 20},
		ShutdownTimeout:   15 * time.Second,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		WatchConfig:       true,
	}
	if cfg.Server != want {
		t.Errorf("Server = %+v\nwant %+v", cfg.Server, want)
	}
	if cfg.Log != (config.Log{Level: "info", Format: "json"}) {
		t.Errorf("Log = %+v, want info/json", cfg.Log)
	}
	if len(cfg.Targets) != 1 || cfg.Targets[0].Name != "memory" || cfg.Targets[0].Adapter != "memory" {
		t.Fatalf("Targets = %+v, want one memory target", cfg.Targets)
	}
	if _, ok := cfg.Targets[0].Settings.(*memory.Config); !ok {
		t.Errorf("Targets[0].Settings is %T, want *memory.Config", cfg.Targets[0].Settings)
	}
	if len(cfg.Auth.Tokens) != 1 || hex.EncodeToString(cfg.Auth.Tokens[0].SHA256[:]) != tokenHash {
		t.Errorf("Auth.Tokens = %+v, want the admin token's hash", cfg.Auth.Tokens)
	}
}

func TestEveryKey(t *testing.T) {
	dir := t.TempDir()
	pub := writePEM(t, dir, "idp.pem")
	write(t, dir, "hmac.secret", "a-file-secret-of-at-least-32-bytes!\n")
	write(t, dir, "token.sha256", hexHash("file-token")+"  -\n")
	doc := `
server:
  listen: 127.0.0.1:9090
  publicURL: https://scim.example.com/prefix
  maxBodyBytes: 2048
  anonymousDiscovery: true
  defaultPageSize: 10
  maxPageSize: 50
  bulk:
    maxOperations: 7
    maxPayloadSize: 4096
  shutdownTimeout: 3s
  readHeaderTimeout: 1s
  readTimeout: 2s
  writeTimeout: 4s
  idleTimeout: 0s
  drainDelay: 5s
  watchConfig: false
log:
  level: debug
  format: text
targets:
  - name: memory
    adapter: memory
    settings:
      native: false
      maxPageSize: 25
  - name: second.store_2
    adapter: memory
    settings: {}
credentials:
  tokens:
    - name: inline
      sha256: ` + strings.ToUpper(tokenHash) + `
      targets: [memory]
      defaultTarget: memory
    - name: from-env
      sha256Env: TOKEN_SHA256
      targets: ["*"]
    - name: from-file
      sha256File: token.sha256
      targets: [second.store_2]
  jwt:
    - issuer: https://hs.example.com
      audience: scim-gateway
      algorithm: HS256
      secretEnv: HS_SECRET
      targets: [memory]
      defaultTarget: memory
      leeway: 0s
    - issuer: https://hs-file.example.com
      audience: scim-gateway
      algorithm: HS256
      secretFile: hmac.secret
      targets: ["*"]
      targetsClaim: scim_targets
    - issuer: https://es.example.com
      audience: scim-gateway
      algorithm: ES256
      publicKeyFile: idp.pem
      targets: [memory]
    - issuer: https://login.example.com
      audience: api://scim
      algorithm: RS256
      jwksURL: https://login.example.com/keys
      targets: [memory, second.store_2]
      defaultTarget: second.store_2
      leeway: 1m
`
	cfg, err := config.Parse([]byte(doc), dir, envOf(map[string]string{
		"TOKEN_SHA256": hexHash("env-token"),
		"HS_SECRET":    "an-env-secret-of-at-least-32-bytes",
	}))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	s := cfg.Server
	if s.Listen != "127.0.0.1:9090" || s.PublicURL != "https://scim.example.com/prefix" || s.MaxBodyBytes != 2048 ||
		!s.AnonymousDiscovery || s.DefaultPageSize != 10 || s.MaxPageSize != 50 || s.Bulk != (config.Bulk{MaxOperations: 7, MaxPayloadSize: 4096}) ||
		s.ShutdownTimeout != 3*time.Second || s.ReadHeaderTimeout != time.Second || s.ReadTimeout != 2*time.Second ||
		s.WriteTimeout != 4*time.Second || s.IdleTimeout != 0 || s.DrainDelay != 5*time.Second || s.WatchConfig || s.TLS.Enabled() {
		t.Errorf("Server = %+v", s)
	}
	if cfg.Log != (config.Log{Level: "debug", Format: "text"}) {
		t.Errorf("Log = %+v", cfg.Log)
	}
	mc, ok := cfg.Targets[0].Settings.(*memory.Config)
	if !ok || mc.Native == nil || *mc.Native || mc.MaxPageSize != 25 {
		t.Errorf("Targets[0].Settings = %+v, want native false, maxPageSize 25", cfg.Targets[0].Settings)
	}
	if cfg.Targets[1].Name != "second.store_2" {
		t.Errorf("Targets[1].Name = %q", cfg.Targets[1].Name)
	}

	wantHashes := []string{tokenHash, hexHash("env-token"), hexHash("file-token")}
	for i, tok := range cfg.Auth.Tokens {
		if got := hex.EncodeToString(tok.SHA256[:]); got != wantHashes[i] {
			t.Errorf("Auth.Tokens[%d].SHA256 = %s, want %s", i, got, wantHashes[i])
		}
	}
	is := cfg.Auth.Issuers
	if len(is) != 4 {
		t.Fatalf("Auth.Issuers = %d, want 4", len(is))
	}
	if string(is[0].Secret) != "an-env-secret-of-at-least-32-bytes" || is[0].Leeway != 0 {
		t.Errorf("issuer 0: secret %q leeway %v", is[0].Secret, is[0].Leeway)
	}
	if string(is[1].Secret) != "a-file-secret-of-at-least-32-bytes!" || is[1].Leeway != config.DefaultLeeway || is[1].TargetsClaim != "scim_targets" {
		t.Errorf("issuer 1: secret %q (trailing newline must go), leeway %v, claim %q", is[1].Secret, is[1].Leeway, is[1].TargetsClaim)
	}
	if k, ok := is[2].PublicKey.(*ecdsa.PublicKey); !ok || !k.Equal(pub) {
		t.Errorf("issuer 2: public key %T, want the PEM's ECDSA key", is[2].PublicKey)
	}
	if is[3].JWKSURL != "https://login.example.com/keys" || is[3].Leeway != time.Minute || is[3].DefaultTarget != "second.store_2" {
		t.Errorf("issuer 3 = %+v", is[3])
	}
}

// TestProblems checks that each bad document is rejected with every one of
// its problems, each naming the key at fault.
func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string // one substring per reported problem
	}{
		{
			name: "empty document",
			doc:  "",
			want: []string{"targets: at least one target", "credentials: at least one of tokens and jwt"},
		},
		{
			name: "unknown keys everywhere",
			doc: `
server:
  lisen: ":80"
  bulk:
    maxOps: 3
targets:
  - name: memory
    adapter: memory
    kind: x
credentials:
  token: []
  tokens:
    - name: a
      sha256: ` + tokenHash + `
      targets: ["*"]
      scope: all
extra: 1
`,
			want: []string{
				"server.lisen: unknown key (line 3)",
				"server.bulk.maxOps: unknown key (line 5)",
				"targets[0].kind: unknown key (line 9)",
				"credentials.token: unknown key (line 11)",
				"credentials.tokens[0].scope: unknown key (line 16)",
				"extra: unknown key (line 17)",
			},
		},
		{
			name: "wrong types",
			doc: `
server:
  maxBodyBytes: lots
  shutdownTimeout: 15
  anonymousDiscovery: maybe
  bulk: [1]
targets: {}
`,
			want: []string{
				`server.maxBodyBytes: want an integer, got "lots" (line 3)`,
				`server.shutdownTimeout: want a duration (e.g. "15s", "1m30s"), got "15" (line 4)`,
				`server.anonymousDiscovery: want true or false, got "maybe" (line 5)`,
				"server.bulk: want a mapping, got a list (line 6)",
				"targets: want a list, got a mapping (line 7)",
				// Checked although the document did not decode cleanly;
				// targets, which did not decode, draws no second problem.
				"credentials: at least one of tokens and jwt is required",
			},
		},
		{
			name: "syntax error",
			doc:  "server:\n  listen: [\n",
			want: []string{"line 2: did not find expected node content"},
		},
		{
			name: "two documents",
			doc:  minimal + "\n---\nserver: {}\n",
			want: []string{"more than one YAML document"},
		},
		{
			name: "bad server values",
			doc: minimal + `
server:
  listen: localhost
  publicURL: ftp://x
  maxBodyBytes: 0
  defaultPageSize: 0
  maxPageSize: 0
  bulk: {maxOperations: 0, maxPayloadSize: -1}
  shutdownTimeout: 0s
  readTimeout: -1s
  drainDelay: -1s
log: {level: verbose, format: xml}
`,
			want: []string{
				`server.listen: want host:port, got "localhost"`,
				`server.publicURL: want an http or https URL, got "ftp://x"`,
				"server.maxBodyBytes: must be positive",
				"server.defaultPageSize: must be at least 1",
				"server.maxPageSize: must be at least 1",
				"server.bulk.maxOperations: must be at least 1",
				"server.bulk.maxPayloadSize: must be positive",
				"server.shutdownTimeout: must be positive",
				"server.readTimeout: must not be negative",
				"server.drainDelay: must not be negative",
				`log.level: want debug, info, warn or error, got "verbose"`,
				`log.format: want json or text, got "xml"`,
			},
		},
		{
			name: "page sizes disagree, port out of range, url with query",
			doc: minimal + `
server:
  listen: ":70000"
  publicURL: https://x.example.com/?a=1
  defaultPageSize: 20
  maxPageSize: 10
`,
			want: []string{
				`server.listen: want a port number 0-65535, got "70000"`,
				"server.publicURL: want scheme://host[/prefix] only",
				"server.defaultPageSize: 20 exceeds server.maxPageSize 10",
			},
		},
		{
			name: "bad targets",
			doc: `
targets:
  - adapter: memory
  - name: memory
  - name: memory
    adapter: webex9
  - name: has/slash
    adapter: memory
  - name: ok
    adapter: memory
    settings: [1, 2]
  - name: ok2
    adapter: memory
    settings:
      nativ: true
      maxPageSize: -1
  - name: ok3
    adapter: memory
    settings:
      maxPageSize: -2
credentials:
  tokens: [{name: a, sha256: ` + tokenHash + `, targets: ["*"]}]
`,
			want: []string{
				"targets[0].name: required",
				"targets[1].adapter: required, one of memory",
				`targets[2].name: "memory" is also the name of targets[1]`,
				`targets[2].adapter: unknown adapter "webex9", want one of memory`,
				`targets[3].name: "has/slash": want 1-63 letters`,
				"targets[4].settings: want a mapping",
				"targets[5].settings.nativ: unknown key",
				"targets[6].settings.maxPageSize: must be 0 (no limit) or positive, got -2",
			},
		},
		{
			name: "bad tokens",
			doc: `
targets: [{name: memory, adapter: memory}]
credentials:
  tokens:
    - name: none
      targets: [memory]
    - name: two
      sha256: ` + tokenHash + `
      sha256Env: X
      targets: [memory]
    - name: short
      sha256: abc
      targets: [memory]
    - name: env
      sha256Env: MISSING
      targets: [memory]
    - name: file
      sha256File: nope.txt
      targets: [memory]
    - sha256: ` + tokenHash + `
      targets: [memory, elsewhere]
      defaultTarget: nowhere
    - name: dup
      sha256: ` + tokenHash + `
      targets: []
    - name: dup
      sha256: ` + hexHash("other") + `
      targets: [memory]
      defaultTarget: memory
    - name: unreachable default
      sha256: ` + hexHash("third") + `
      targets: [memory, ""]
      defaultTarget: other
`,
			want: []string{
				"credentials.tokens[0]: a hash: sha256, sha256Env or sha256File required",
				"credentials.tokens[1]: set only one of sha256, sha256Env",
				"credentials.tokens[2].sha256: want the 64 hex digits",
				"credentials.tokens[3].sha256Env: environment variable MISSING is unset or empty",
				"credentials.tokens[4].sha256File: open",
				"credentials.tokens[5].name: required",
				`credentials.tokens[5].targets[1]: unknown target "elsewhere"`,
				`credentials.tokens[5].defaultTarget: "nowhere" is not among`,
				`credentials.tokens[5].defaultTarget: unknown target "nowhere"`,
				"credentials.tokens[6].sha256: same token as credentials.tokens[5]",
				"credentials.tokens[6].targets: required",
				`credentials.tokens[7].name: "dup" is also the name of credentials.tokens[6]`,
				"credentials.tokens[8].targets[1]: empty target name",
				`credentials.tokens[8].defaultTarget: "other" is not among`,
				`credentials.tokens[8].defaultTarget: unknown target "other"`,
			},
		},
		{
			name: "bad issuers",
			env:  map[string]string{"SHORT": "short", "LONG": strings.Repeat("s", 32)},
			doc: `
targets: [{name: memory, adapter: memory}]
credentials:
  jwt:
    - targets: [memory]
    - issuer: https://a
      audience: gw
      algorithm: HS256
      secretEnv: SHORT
      targets: [memory]
    - issuer: https://b
      audience: gw
      algorithm: RS256
      secretEnv: LONG
      targets: [memory]
    - issuer: https://c
      audience: gw
      algorithm: HS256
      jwksURL: https://c/keys
      targets: [memory]
    - issuer: https://d
      audience: gw
      algorithm: ES256
      jwksURL: http://d.example.com/keys
      publicKeyFile: x.pem
      targets: [memory]
    - issuer: https://e
      audience: gw
      algorithm: ES256
      jwksURL: http://e.example.com/keys
      targets: [memory]
      leeway: 10m
    - issuer: https://f
      audience: gw
      algorithm: none
      publicKeyFile: missing.pem
      targets: [nope]
    - issuer: https://a
      audience: gw
      algorithm: HS256
      secretEnv: UNSET
      targets: [memory]
`,
			want: []string{
				"credentials.jwt[0].issuer: required",
				"credentials.jwt[0].audience: required",
				"credentials.jwt[0].algorithm: required",
				"credentials.jwt[0]: a key: secretEnv or secretFile (HS*), publicKeyFile or jwksURL required",
				"credentials.jwt[1].secretEnv: HS256 needs a secret of at least 32 bytes",
				"credentials.jwt[2].secretEnv: RS256 needs an RSA public key, got a shared secret",
				"credentials.jwt[3].jwksURL: HS256 verifies with a shared secret",
				"credentials.jwt[4]: set only one of publicKeyFile, jwksURL",
				"credentials.jwt[5].jwksURL: must be https",
				"credentials.jwt[5].leeway: must be between 0 and 5m0s",
				`credentials.jwt[6].algorithm: unsupported "none"`,
				"credentials.jwt[6].publicKeyFile: open",
				`credentials.jwt[6].targets[0]: unknown target "nope"`,
				`credentials.jwt[7].issuer: "https://a" is also the issuer of credentials.jwt[1]`,
				"credentials.jwt[7].secretEnv: environment variable UNSET is unset or empty",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.doc), t.TempDir(), envOf(tt.env))
			if err == nil {
				t.Fatalf("Parse = %+v, want errors", cfg)
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(line string) bool { return strings.Contains(line, w) }) {
					t.Errorf("no problem contains %q", w)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d problems, want %d", len(got), len(tt.want))
			}
			if t.Failed() {
				t.Logf("problems:\n%v", err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hmac.secret", strings.Repeat("k", 32)+"\r\n")
	path := write(t, dir, "gateway.yaml", `
targets: [{name: memory, adapter: memory}]
credentials:
  jwt:
    - issuer: https://idp
      audience: gw
      algorithm: HS256
      secretFile: hmac.secret
      targets: [memory]
`)
	// Run from elsewhere: relative files are found next to the config.
	t.Chdir(t.TempDir())
	cfg, err := config.Load(path, noEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := string(cfg.Auth.Issuers[0].Secret); got != strings.Repeat("k", 32) {
		t.Errorf("secret = %q, want 32 k without the CRLF", got)
	}

	_, err = config.Load(filepath.Join(dir, "missing.yaml"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load(missing) = %v, want an error naming the file", err)
	}
	bad := write(t, dir, "bad.yaml", "server: {listen: nope}\n"+minimal)
	_, err = config.Load(bad, noEnv)
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "server.listen") {
		t.Errorf("Load(bad) = %v, want an error naming the file and server.listen", err)
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writePEM(t *testing.T, dir, name string) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	return &k.PublicKey
}

func TestCache(t *testing.T) {
	cfg := mustParse(t, minimal+`
cache:
  ttl: 2m
  targets:
    memory: {ttl: 30s}
  redis:
    addrs: ["127.0.0.1:6379"]
    passwordEnv: REDIS_PASSWORD
`, envOf(map[string]string{"REDIS_PASSWORD": "pw"}))
	if o, on := cfg.Cache.Options("memory"); !on || o.TTL != 30*time.Second {
		t.Errorf("cache options for memory = %+v, %v; want a 30s TTL", o, on)
	}
	_, err := config.Parse([]byte(minimal+`
cache:
  targets:
    nope: {ttl: 1m}
  redis:
    addrs: ["127.0.0.1:6379"]
    passwordEnv: UNSET
`), t.TempDir(), noEnv)
	for _, want := range []string{"cache.targets", "nope", "cache.redis.passwordEnv"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse error = %v, want it to name %q", err, want)
		}
	}
}
