// Package config loads the gateway's YAML configuration: defaults, strict
// decoding (an unknown key is an error), each target's adapter settings
// decoded into that adapter's own Config through the registry, secrets
// resolved from the environment or files, then validation that reports
// every problem at once, each with the path of the key at fault
// ("targets[2].settings.orgID: required").
//
// Secrets are never written in the file itself: a JWT issuer's HMAC secret
// comes from `secretEnv` (an environment variable) or `secretFile`; a static
// token is configured by its SHA-256 hash, which may be written inline
// (`sha256`) since it does not reveal the token, or come from `sha256Env` /
// `sha256File`. Relative file names are relative to the configuration
// file's directory.
package config

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/registry"
	"github.com/scim-gateway/scim-gateway/internal/auth"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// Defaults of the keys a file leaves out.
const (
	DefaultListen            = ":8080"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultShutdownTimeout   = 15 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultPageSize          = 100
	DefaultMaxPageSize       = 1000
	DefaultBulkMaxOperations = 1000
	DefaultBulkMaxPayload    = 1 << 20
	DefaultLeeway            = 30 * time.Second
)

// Config is a loaded, validated configuration.
type Config struct {
	Server  Server
	Log     Log
	Targets []Target
	// Telemetry is the `telemetry` section: traces and metrics
	// (docs/observability.md). Changes take effect at a restart.
	Telemetry telemetry.Config
	// Cache is the `cache` section (docs/cache.md), its secrets resolved.
	// The store it names (in process, or Redis) is opened once; a reload
	// applies new TTLs and per-target settings.
	Cache cache.Config
	// Credentials is the credentials section as written.
	Credentials Credentials
	// Auth is Credentials resolved: hashes decoded, secrets read, keys
	// parsed; ready for auth.New.
	Auth auth.Config
}

// Server is the `server` section: the listener and the protocol limits.
type Server struct {
	// Listen is the address to listen on, host:port.
	Listen string `yaml:"listen"`
	// PublicURL is the external base URL every URL in a response is built
	// from (scheme, host, optional path prefix). Empty derives it from each
	// request's Host header, which is fit only for local use.
	PublicURL string `yaml:"publicURL"`
	// MaxBodyBytes caps a request body, Bulk aside (413 beyond it).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// AnonymousDiscovery lets callers without a credential read the
	// discovery endpoints (ServiceProviderConfig, ResourceTypes, Schemas) of
	// a target named in the path.
	AnonymousDiscovery bool `yaml:"anonymousDiscovery"`
	// DefaultPageSize is the page size of a query without `count`.
	DefaultPageSize int `yaml:"defaultPageSize"`
	// MaxPageSize is the largest page served (RFC 7644 §3.4.2.4).
	MaxPageSize int `yaml:"maxPageSize"`
	// Bulk holds the limits of /Bulk, advertised in /ServiceProviderConfig.
	Bulk Bulk `yaml:"bulk"`
	// ShutdownTimeout bounds the graceful shutdown: requests still running
	// then are cut off.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are those
	// of net/http.Server; zero means none.
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	ReadTimeout       time.Duration `yaml:"readTimeout"`
	WriteTimeout      time.Duration `yaml:"writeTimeout"`
	IdleTimeout       time.Duration `yaml:"idleTimeout"`
	// DrainDelay is how long the gateway keeps accepting requests after a
	// shutdown signal while /readyz already answers 503, so that load
	// balancers notice before connections are refused; then the shutdown
	// proper starts. Zero means none.
	DrainDelay time.Duration `yaml:"drainDelay"`
	// WatchConfig reloads the configuration when its file changes, as
	// SIGHUP does.
	WatchConfig bool `yaml:"watchConfig"`
	// TLS, when set, makes the listener serve HTTPS.
	TLS TLS `yaml:"tls"`
}

// TLS is `server.tls`: the serving certificate. Both files are set or
// neither; the gateway reloads them when they change. Load resolves
// relative names against the configuration file's directory and checks
// that the files hold a matching certificate and key.
type TLS struct {
	// CertFile is a PEM file: the certificate, then its intermediates.
	CertFile string `yaml:"certFile"`
	// KeyFile is a PEM file holding the certificate's private key.
	KeyFile string `yaml:"keyFile"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Bulk is `server.bulk` (RFC 7644 §3.7).
type Bulk struct {
	// MaxOperations is the most operations one Bulk request may hold.
	MaxOperations int `yaml:"maxOperations"`
	// MaxPayloadSize is the largest Bulk request body, in bytes.
	MaxPayloadSize int64 `yaml:"maxPayloadSize"`
}

// Log is the `log` section.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json (one object per line) or text.
	Format string `yaml:"format"`
}

// Target is one configured backend.
type Target struct {
	// Name addresses the target: /targets/{name}/scim/v2.
	Name string
	// Adapter is the adapter's name in the registry, e.g. "memory".
	Adapter string
	// Settings is the target's `settings`, decoded into the adapter's own
	// Config and validated; its Open builds the adapter.
	Settings registry.Config
}

// Credentials is the `credentials` section.
type Credentials struct {
	Tokens []Token  `yaml:"tokens"`
	JWT    []Issuer `yaml:"jwt"`
}

// Token is a static bearer token, known by the SHA-256 of its bytes: exactly
// one of SHA256, SHA256Env and SHA256File is set.
type Token struct {
	Name string `yaml:"name"`
	// SHA256 is the hex SHA-256 of the token, e.g. the first field of
	// `printf %s "$TOKEN" | sha256sum`.
	SHA256 string `yaml:"sha256"`
	// SHA256Env names an environment variable holding the hex hash.
	SHA256Env string `yaml:"sha256Env"`
	// SHA256File names a file holding the hex hash.
	SHA256File    string   `yaml:"sha256File"`
	Targets       []string `yaml:"targets"`
	DefaultTarget string   `yaml:"defaultTarget"`
}

// Issuer is a JWT issuer whose tokens are accepted. Its verification key
// comes from exactly one of SecretEnv and SecretFile (HS256, HS384, HS512),
// PublicKeyFile and JWKSURL (every other algorithm).
type Issuer struct {
	Issuer    string `yaml:"issuer"`
	Audience  string `yaml:"audience"`
	Algorithm string `yaml:"algorithm"`
	// SecretEnv names an environment variable holding the HMAC secret; the
	// variable's bytes are the secret as they are.
	SecretEnv string `yaml:"secretEnv"`
	// SecretFile names a file holding the HMAC secret; one trailing newline
	// is not part of it.
	SecretFile string `yaml:"secretFile"`
	// PublicKeyFile names a PEM file: a public key or a certificate.
	PublicKeyFile string `yaml:"publicKeyFile"`
	// JWKSURL is the issuer's key set, https (http only on loopback).
	JWKSURL       string   `yaml:"jwksURL"`
	Targets       []string `yaml:"targets"`
	TargetsClaim  string   `yaml:"targetsClaim"`
	DefaultTarget string   `yaml:"defaultTarget"`
	// Leeway is the clock skew tolerated; DefaultLeeway when absent.
	Leeway *time.Duration `yaml:"leeway"`
}

// file is the document as decoded: Config with each target's settings still
// raw, to be decoded once the adapter is known.
type file struct {
	Server      Server           `yaml:"server"`
	Log         Log              `yaml:"log"`
	Telemetry   telemetry.Config `yaml:"telemetry"`
	Cache       cache.Config     `yaml:"cache"`
	Targets     []rawTarget      `yaml:"targets"`
	Credentials Credentials      `yaml:"credentials"`
}

type rawTarget struct {
	Name     string    `yaml:"name"`
	Adapter  string    `yaml:"adapter"`
	Settings yaml.Node `yaml:"settings"`
}

func defaults() file {
	return file{
		Server: Server{
			Listen:            DefaultListen,
			MaxBodyBytes:      DefaultMaxBodyBytes,
			DefaultPageSize:   DefaultPageSize,
			MaxPageSize:       DefaultMaxPageSize,
			Bulk:              Bulk{MaxOperations: DefaultBulkMaxOperations, MaxPayloadSize: DefaultBulkMaxPayload},
			ShutdownTimeout:   DefaultShutdownTimeout,
			ReadHeaderTimeout: DefaultReadHeaderTimeout,
			ReadTimeout:       DefaultReadTimeout,
			WriteTimeout:      DefaultWriteTimeout,
			IdleTimeout:       DefaultIdleTimeout,
			WatchConfig:       true,
		},
		Log: Log{Level: "info", Format: "json"},
	}
}

// Load reads the configuration file at path and returns it validated, with
// secrets resolved: getenv looks up the *Env references (os.Getenv in
// production) and relative *File references are read from path's directory.
// The error lists every problem, one per line, each naming its key.
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, filepath.Dir(path), getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return cfg, nil
}

// Parse is Load for a document already in memory; relative file references
// are resolved against dir. It does everything short of opening targets.
func Parse(data []byte, dir string, getenv func(string) string) (*Config, error) {
	f := defaults()
	l := loader{dir: dir, getenv: getenv, undecoded: map[string]bool{}}
	for _, err := range decodeStrict(data, &f, "", true) {
		l.errs = append(l.errs, err)
		var ke *keyError
		if !errors.As(err, &ke) {
			// Broken syntax: there are no values to check.
			return nil, errors.Join(l.errs...)
		}
		l.undecoded[ke.path] = true
	}
	cfg := &Config{Server: f.Server, Log: f.Log, Telemetry: f.Telemetry, Cache: f.Cache, Credentials: f.Credentials}
	l.server(&cfg.Server)
	l.log(&cfg.Log)
	l.telemetry(cfg.Telemetry)
	cfg.Targets = l.targets(f.Targets)
	l.cache(&cfg.Cache, cfg.Targets)
	cfg.Auth = l.credentials(&f.Credentials, cfg.Targets)
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	// A last check by the package that uses the credentials; everything it
	// could object to has been reported above with its path already.
	if _, err := auth.New(cfg.Auth); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return cfg, nil
}

// loader collects the problems of one document.
type loader struct {
	dir    string
	getenv func(string) string
	errs   []error
	// undecoded holds the paths whose values could not be decoded: their
	// problem is reported already, and checking the value left in their
	// place would only say the same in other words ("required").
	undecoded map[string]bool
}

func (l *loader) errorf(path, format string, args ...any) {
	for p := path; p != ""; p = parentPath(p) {
		if l.undecoded[p] {
			return
		}
	}
	l.errs = append(l.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// parentPath returns the path of the key or list holding path's value:
// "a.b[2].c" → "a.b[2]" → "a.b" → "a" → "".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (l *loader) server(s *Server) {
	if s.Listen == "" {
		l.errorf("server.listen", "required (host:port, e.g. \":8080\")")
	} else if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		l.errorf("server.listen", "want host:port, got %q", s.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		l.errorf("server.listen", "want a port number 0-65535, got %q", port)
	}
	if s.PublicURL != "" {
		if err := checkPublicURL(s.PublicURL); err != nil {
			l.errorf("server.publicURL", "%v", err)
		}
	}
	if s.MaxBodyBytes <= 0 {
		l.errorf("server.maxBodyBytes", "must be positive, got %d", s.MaxBodyBytes)
	}
	if s.DefaultPageSize < 1 {
		l.errorf("server.defaultPageSize", "must be at least 1, got %d", s.DefaultPageSize)
	}
	if s.MaxPageSize < 1 {
		l.errorf("server.maxPageSize", "must be at least 1, got %d", s.MaxPageSize)
	} else if s.DefaultPageSize > s.MaxPageSize {
		l.errorf("server.defaultPageSize", "%d exceeds server.maxPageSize %d", s.DefaultPageSize, s.MaxPageSize)
	}
	if s.Bulk.MaxOperations < 1 {
		l.errorf("server.bulk.maxOperations", "must be at least 1, got %d", s.Bulk.MaxOperations)
	}
	if s.Bulk.MaxPayloadSize < 1 {
		l.errorf("server.bulk.maxPayloadSize", "must be positive, got %d", s.Bulk.MaxPayloadSize)
	}
	if s.ShutdownTimeout <= 0 {
		l.errorf("server.shutdownTimeout", "must be positive, got %v", s.ShutdownTimeout)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"readHeaderTimeout", s.ReadHeaderTimeout},
		{"readTimeout", s.ReadTimeout},
		{"writeTimeout", s.WriteTimeout},
		{"idleTimeout", s.IdleTimeout},
		{"drainDelay", s.DrainDelay},
	} {
		if d.v < 0 {
			l.errorf("server."+d.key, "must not be negative, got %v", d.v)
		}
	}
	l.tls(&s.TLS)
}

// tls checks server.tls and resolves its file names.
func (l *loader) tls(t *TLS) {
	if !t.Enabled() {
		return
	}
	switch {
	case t.CertFile == "":
		l.errorf("server.tls.certFile", "required with server.tls.keyFile")
		return
	case t.KeyFile == "":
		l.errorf("server.tls.keyFile", "required with server.tls.certFile")
		return
	}
	t.CertFile, t.KeyFile = l.resolve(t.CertFile), l.resolve(t.KeyFile)
	certPEM, certOK := l.file("server.tls.certFile", t.CertFile)
	keyPEM, keyOK := l.file("server.tls.keyFile", t.KeyFile)
	if !certOK || !keyOK {
		return
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		l.errorf("server.tls", "%s and %s: %v", t.CertFile, t.KeyFile, err)
	}
}

// checkPublicURL accepts scheme://host[/prefix] and nothing more, the form
// the router builds response URLs from.
func checkPublicURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("want an http or https URL, got %q", raw)
	case u.Host == "":
		return fmt.Errorf("host required, got %q", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("want scheme://host[/prefix] only, got %q", raw)
	}
	return nil
}

func (l *loader) log(lg *Log) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, lg.Level) {
		l.errorf("log.level", "want debug, info, warn or error, got %q", lg.Level)
	}
	if lg.Format != "json" && lg.Format != "text" {
		l.errorf("log.format", "want json or text, got %q", lg.Format)
	}
}

func (l *loader) telemetry(t telemetry.Config) {
	err := t.Validate()
	if err == nil {
		return
	}
	// Validate joins one error per key, each led by the key's name.
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		key, msg, _ := strings.Cut(e.Error(), ": ")
		l.errorf("telemetry."+key, "%s", msg)
	}
}

// cache resolves the cache section's secrets and checks it, including that
// every target it tunes exists.
func (l *loader) cache(c *cache.Config, targets []Target) {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	for _, err := range []error{
		c.ResolveSecrets(adapters.Secrets{Getenv: l.getenv, Dir: l.dir}),
		c.Validate(),
		c.CheckTargets(names),
	} {
		for _, e := range splitJoined(err) {
			if e != nil {
				l.errs = append(l.errs, fmt.Errorf("cache.%w", e))
			}
		}
	}
}

// targetName is what may appear as {target} in a URL path without escaping.
var targetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (l *loader) targets(raw []rawTarget) []Target {
	if len(raw) == 0 {
		l.errorf("targets", "at least one target is required")
	}
	seen := map[string]int{}
	out := make([]Target, 0, len(raw))
	for i, rt := range raw {
		path := fmt.Sprintf("targets[%d]", i)
		switch {
		case rt.Name == "":
			l.errorf(path+".name", "required")
		case !targetName.MatchString(rt.Name):
			l.errorf(path+".name", "%q: want 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", rt.Name)
		default:
			if j, dup := seen[rt.Name]; dup {
				l.errorf(path+".name", "%q is also the name of targets[%d]", rt.Name, j)
			}
			seen[rt.Name] = i
		}
		t := Target{Name: rt.Name, Adapter: rt.Adapter}
		switch settings, ok := registry.New(rt.Adapter); {
		case rt.Adapter == "":
			l.errorf(path+".adapter", "required, one of %s", strings.Join(registry.Names(), ", "))
		case !ok:
			l.errorf(path+".adapter", "unknown adapter %q, want one of %s", rt.Adapter, strings.Join(registry.Names(), ", "))
		default:
			if l.settings(path+".settings", &rt.Settings, settings) {
				t.Settings = settings
			}
		}
		out = append(out, t)
	}
	return out
}

// settings decodes a target's settings strictly into the adapter's Config,
// then validates it. It reports whether both went without a problem.
func (l *loader) settings(path string, n *yaml.Node, into registry.Config) bool {
	before := len(l.errs)
	switch {
	case n.Kind == 0 || n.Tag == "!!null":
		// No settings: the adapter's zero Config.
	case n.Kind != yaml.MappingNode:
		l.errorf(path, "want a mapping of the adapter's settings")
		return false
	default:
		data, err := yaml.Marshal(n)
		if err != nil {
			l.errorf(path, "%v", err)
			return false
		}
		// Lines of the re-encoded block would not be the file's, so the
		// problems name paths only.
		l.errs = append(l.errs, decodeStrict(data, into, path+".", false)...)
	}
	if len(l.errs) > before {
		return false
	}
	if su, ok := into.(adapters.SecretUser); ok {
		if err := su.ResolveSecrets(adapters.Secrets{Getenv: l.getenv, Dir: l.dir}); err != nil {
			for _, e := range splitJoined(err) {
				l.errs = append(l.errs, fmt.Errorf("%s.%w", path, e))
			}
			return false
		}
	}
	if err := into.Validate(); err != nil {
		for _, e := range splitJoined(err) {
			l.errs = append(l.errs, fmt.Errorf("%s.%w", path, e))
		}
		return false
	}
	return true
}

// splitJoined returns the errors joined in err (errors.Join), or err alone.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []error{err}
}

func (l *loader) credentials(c *Credentials, targets []Target) auth.Config {
	var ac auth.Config
	if len(c.Tokens) == 0 && len(c.JWT) == 0 {
		l.errorf("credentials", "at least one of tokens and jwt is required: without a credential no request can be served")
	}
	known := map[string]bool{}
	for _, t := range targets {
		known[t.Name] = true
	}
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	for i := range c.Tokens {
		t := &c.Tokens[i]
		path := fmt.Sprintf("credentials.tokens[%d]", i)
		if j, dup := names[t.Name]; dup && t.Name != "" {
			l.errorf(path+".name", "%q is also the name of credentials.tokens[%d]", t.Name, j)
		}
		names[t.Name] = i
		st := auth.StaticToken{Name: t.Name, Targets: t.Targets, DefaultTarget: t.DefaultTarget}
		hashOK := false
		if h, ok := l.tokenHash(path, t); ok {
			if j, dup := hashes[h]; dup {
				l.errorf(path+".sha256", "same token as credentials.tokens[%d]", j)
			}
			hashes[h] = i
			st.SHA256, hashOK = h, true
		}
		l.authProblems(path, st.Validate(), map[string]string{"sha256": ""}, hashOK)
		l.targetRefs(path, t.Targets, t.DefaultTarget, known)
		ac.Tokens = append(ac.Tokens, st)
	}
	issuers := map[string]int{}
	for i := range c.JWT {
		is := &c.JWT[i]
		path := fmt.Sprintf("credentials.jwt[%d]", i)
		if j, dup := issuers[is.Issuer]; dup && is.Issuer != "" {
			l.errorf(path+".issuer", "%q is also the issuer of credentials.jwt[%d]", is.Issuer, j)
		}
		issuers[is.Issuer] = i
		ai := auth.Issuer{
			Issuer: is.Issuer, Audience: is.Audience, Algorithm: is.Algorithm,
			JWKSURL: is.JWKSURL, Targets: is.Targets, TargetsClaim: is.TargetsClaim,
			DefaultTarget: is.DefaultTarget, Leeway: DefaultLeeway,
		}
		if is.Leeway != nil {
			ai.Leeway = *is.Leeway
		}
		source, keyOK := l.issuerKey(path, is, &ai)
		l.authProblems(path, ai.Validate(), map[string]string{
			"key": "", "secret": source, "publicKey": "publicKeyFile", "jwksURL": "jwksURL",
		}, keyOK)
		l.targetRefs(path, is.Targets, is.DefaultTarget, known)
		ac.Issuers = append(ac.Issuers, ai)
	}
	return ac
}

// authProblems adds the problems auth found in a credential, renamed from
// auth's field names to the file's keys by rename. A field renamed to "" is
// one the loader checks itself and is dropped, as are the key fields
// altogether when the loader already failed to resolve the key (keyOK
// false), since auth would only repeat that the key is missing.
func (l *loader) authProblems(path string, err error, rename map[string]string, keyOK bool) {
	if err == nil {
		return
	}
	for _, e := range splitJoined(err) {
		msg := e.Error()
		field, rest, _ := strings.Cut(msg, ":")
		base, index, _ := strings.Cut(field, "[")
		if index != "" {
			index = "[" + index
		}
		if key, ok := rename[base]; ok {
			if key == "" || !keyOK {
				continue
			}
			base = key
		}
		l.errs = append(l.errs, fmt.Errorf("%s.%s%s:%s", path, base, index, rest))
	}
}

// targetRefs checks that a credential names only configured targets.
func (l *loader) targetRefs(path string, targets []string, def string, known map[string]bool) {
	for i, t := range targets {
		if t != "*" && t != "" && !known[t] {
			l.errorf(fmt.Sprintf("%s.targets[%d]", path, i), "unknown target %q", t)
		}
	}
	if def != "" && def != "*" && !known[def] {
		l.errorf(path+".defaultTarget", "unknown target %q", def)
	}
}

// tokenHash resolves and decodes a static token's hash.
func (l *loader) tokenHash(path string, t *Token) ([sha256.Size]byte, bool) {
	var h [sha256.Size]byte
	key, val, ok := l.oneOf(path, "a hash: sha256, sha256Env or sha256File",
		[]string{"sha256", "sha256Env", "sha256File"}, []string{t.SHA256, t.SHA256Env, t.SHA256File})
	if !ok {
		return h, false
	}
	var hexHash string
	switch key {
	case "sha256":
		hexHash = val
	case "sha256Env":
		v, ok := l.env(path+"."+key, val)
		if !ok {
			return h, false
		}
		hexHash = v
	case "sha256File":
		b, ok := l.file(path+"."+key, val)
		if !ok {
			return h, false
		}
		hexHash = string(b)
	}
	// Accept sha256sum's own output ("<hex>  -") as well as the bare hash.
	fields := strings.Fields(hexHash)
	if len(fields) == 2 && fields[1] == "-" {
		fields = fields[:1]
	}
	b, err := hex.DecodeString(strings.Join(fields, ""))
	if len(fields) != 1 || err != nil || len(b) != sha256.Size {
		l.errorf(path+"."+key, "want the 64 hex digits of a SHA-256 hash (printf %%s \"$TOKEN\" | sha256sum)")
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// issuerKey resolves an issuer's key source into ai and returns the key it
// came from.
func (l *loader) issuerKey(path string, is *Issuer, ai *auth.Issuer) (string, bool) {
	ai.JWKSURL = ""
	key, val, ok := l.oneOf(path, "a key: secretEnv or secretFile (HS*), publicKeyFile or jwksURL",
		[]string{"secretEnv", "secretFile", "publicKeyFile", "jwksURL"},
		[]string{is.SecretEnv, is.SecretFile, is.PublicKeyFile, is.JWKSURL})
	if !ok {
		return "", false
	}
	p := path + "." + key
	switch key {
	case "secretEnv":
		v, ok := l.env(p, val)
		if !ok {
			return key, false
		}
		ai.Secret = []byte(v)
	case "secretFile":
		b, ok := l.file(p, val)
		if !ok {
			return key, false
		}
		b = trimNewline(b)
		if len(b) == 0 {
			l.errorf(p, "file %s is empty", val)
			return key, false
		}
		ai.Secret = b
	case "publicKeyFile":
		b, ok := l.file(p, val)
		if !ok {
			return key, false
		}
		pub, err := auth.ParsePublicKeyPEM(b)
		if err != nil {
			l.errorf(p, "%s: %v", val, err)
			return key, false
		}
		ai.PublicKey = pub
	case "jwksURL":
		ai.JWKSURL = val
	}
	return key, true
}

// oneOf checks that exactly one of the keys has a value and returns it.
func (l *loader) oneOf(path, what string, keys, vals []string) (string, string, bool) {
	var set []int
	for i, v := range vals {
		if v != "" {
			set = append(set, i)
		}
	}
	switch len(set) {
	case 0:
		l.errorf(path, "%s required", what)
		return "", "", false
	case 1:
		return keys[set[0]], vals[set[0]], true
	}
	names := make([]string, len(set))
	for i, k := range set {
		names[i] = keys[k]
	}
	l.errorf(path, "set only one of %s", strings.Join(names, ", "))
	return "", "", false
}

func (l *loader) env(path, name string) (string, bool) {
	if l.getenv == nil {
		l.errorf(path, "environment variable %s: no environment given", name)
		return "", false
	}
	v := l.getenv(name)
	if v == "" {
		l.errorf(path, "environment variable %s is unset or empty", name)
		return "", false
	}
	return v, true
}

// resolve returns a file name relative to the configuration's directory.
func (l *loader) resolve(name string) string {
	if !filepath.IsAbs(name) && l.dir != "" {
		return filepath.Join(l.dir, name)
	}
	return name
}

func (l *loader) file(path, name string) ([]byte, bool) {
	b, err := os.ReadFile(l.resolve(name))
	if err != nil {
		l.errorf(path, "%v", err)
		return nil, false
	}
	return b, true
}

// trimNewline drops one trailing "\n" or "\r\n", which editors and `echo`
// add to a file holding a secret.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
