package cache

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
)

// Config is the YAML `cache` block:
//
//	cache:
//	  ttl: 5m               # how long an entry lives (default 5m)
//	  maxEntries: 10000     # in-process store size, when no redis
//	  targets:              # per target, by name
//	    webex: {ttl: 1m}
//	    legacy: {disabled: true}
//	  redis:                # shared by every replica; absent: in process
//	    addrs: ["redis:6379"]
//	    passwordEnv: REDIS_PASSWORD
//
// The zero value caches every target in process with the defaults.
type Config struct {
	// Disabled switches caching off for every target.
	Disabled bool `yaml:"disabled"`
	// TTL bounds how long an entry lives, and so how long a change made
	// behind the gateway's back can go unseen. Default DefaultTTL.
	TTL time.Duration `yaml:"ttl"`
	// MaxEntries bounds the in-process store. Default DefaultMaxEntries.
	MaxEntries int `yaml:"maxEntries"`
	// Targets tunes targets by name; the others take the values above.
	Targets map[string]TargetConfig `yaml:"targets"`
	// Replicas is how many gateway replicas share each target's vendor
	// limit. While Redis is down each replica limits itself to the limit
	// divided by Replicas (LimiterOptions.Replicas). Default 1.
	Replicas int `yaml:"replicas"`
	// Redis, when set, is the store every replica shares. Without it each
	// replica caches in process, which is right for one replica only:
	// writes through one replica do not reach another's entries.
	Redis *RedisConfig `yaml:"redis"`
}

// TargetConfig tunes the cache of one target.
type TargetConfig struct {
	// TTL overrides Config.TTL for this target.
	TTL time.Duration `yaml:"ttl"`
	// Disabled switches caching off for this target.
	Disabled bool `yaml:"disabled"`
}

// RedisConfig is the `cache.redis` block. The deployment follows from the
// fields, as go-redis' universal client reads them: MasterName set means
// Sentinel (Addrs are the sentinels), Cluster or several Addrs mean
// Cluster, otherwise one node.
type RedisConfig struct {
	// Addrs are host:port of the node, the cluster's seed nodes or the
	// sentinels.
	Addrs []string `yaml:"addrs"`
	// MasterName is the Sentinel master's name.
	MasterName string `yaml:"masterName"`
	// Cluster forces Cluster mode with a single seed address.
	Cluster bool `yaml:"cluster"`
	// DB is the database number (not in Cluster mode).
	DB int `yaml:"db"`
	// Username is the ACL user; empty means the default user.
	Username string `yaml:"username"`
	// PasswordEnv or PasswordFile name the password (at most one).
	PasswordEnv  string `yaml:"passwordEnv"`
	PasswordFile string `yaml:"passwordFile"`
	// SentinelPasswordEnv or SentinelPasswordFile name the sentinels'
	// password, when they have one.
	SentinelPasswordEnv  string `yaml:"sentinelPasswordEnv"`
	SentinelPasswordFile string `yaml:"sentinelPasswordFile"`
	// TLS, when set, connects with TLS.
	TLS *TLSConfig `yaml:"tls"`
	// Timeout bounds each call; a call that takes longer counts as a
	// failure and the request goes to the vendor. Default 100ms.
	Timeout time.Duration `yaml:"timeout"`
	// PingInterval is how often a degraded store checks whether Redis
	// answers again. Default 1s.
	PingInterval time.Duration `yaml:"pingInterval"`
	// PoolSize is the connections per node; 0 keeps go-redis' default
	// (10 per CPU).
	PoolSize int `yaml:"poolSize"`

	password, sentinelPassword string // resolved by ResolveSecrets
	dir                        string // the configuration file's directory
}

// TLSConfig is the `cache.redis.tls` block.
type TLSConfig struct {
	// CAFile holds the PEM certificates that sign the server's; empty
	// means the system's roots.
	CAFile string `yaml:"caFile"`
	// CertFile and KeyFile hold a client certificate, for servers that
	// ask for one (both or neither).
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"serverName"`
}

// ResolveSecrets reads the passwords c names and remembers the
// configuration directory, against which relative TLS file names are read.
// The configuration loader calls it after decoding and before Validate.
func (c *Config) ResolveSecrets(s adapters.Secrets) error {
	if c.Redis == nil {
		return nil
	}
	r := c.Redis
	r.dir = s.Dir
	var errs []error
	if r.PasswordEnv != "" || r.PasswordFile != "" {
		p, err := s.Read("password", r.PasswordEnv, r.PasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("redis.%w", err))
		}
		r.password = p
	}
	if r.SentinelPasswordEnv != "" || r.SentinelPasswordFile != "" {
		p, err := s.Read("sentinelPassword", r.SentinelPasswordEnv, r.SentinelPasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("redis.%w", err))
		}
		r.sentinelPassword = p
	}
	return errors.Join(errs...)
}

// Validate reports every problem of c at once, each prefixed by its key
// ("redis.addrs: required"); the loader prefixes them with "cache.". It has
// no side effects.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if c.TTL < 0 {
		bad("ttl", "must not be negative, got %s", c.TTL)
	}
	if c.MaxEntries < 0 {
		bad("maxEntries", "must not be negative, got %d", c.MaxEntries)
	}
	if c.Replicas < 0 {
		bad("replicas", "must not be negative, got %d", c.Replicas)
	}
	for name, t := range c.Targets {
		if name == "" {
			bad("targets", "a target name is empty")
		}
		if t.TTL < 0 {
			bad("targets."+name+".ttl", "must not be negative, got %s", t.TTL)
		}
	}
	if r := c.Redis; r != nil {
		if c.MaxEntries != 0 {
			bad("maxEntries", "set with redis; it bounds the in-process store only")
		}
		errs = append(errs, r.validate()...)
	}
	return errors.Join(errs...)
}

func (r *RedisConfig) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("redis.%s: "+format, append([]any{key}, args...)...))
	}
	if len(r.Addrs) == 0 {
		bad("addrs", "required: at least one host:port")
	}
	for i, a := range r.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			bad(fmt.Sprintf("addrs[%d]", i), "want host:port, got %q", a)
			continue
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			bad(fmt.Sprintf("addrs[%d]", i), "port must be 1-65535, got %q", port)
		}
	}
	cluster := r.Cluster || (r.MasterName == "" && len(r.Addrs) > 1)
	if r.MasterName != "" && r.Cluster {
		bad("cluster", "set with masterName: Sentinel and Cluster exclude each other")
	}
	if r.DB < 0 {
		bad("db", "must not be negative, got %d", r.DB)
	} else if r.DB != 0 && cluster {
		bad("db", "must be 0 in Cluster mode (several addrs without masterName), got %d", r.DB)
	}
	if r.PasswordEnv != "" && r.PasswordFile != "" {
		bad("passwordEnv, passwordFile", "set one, not both")
	}
	if r.SentinelPasswordEnv != "" && r.SentinelPasswordFile != "" {
		bad("sentinelPasswordEnv, sentinelPasswordFile", "set one, not both")
	}
	if (r.SentinelPasswordEnv != "" || r.SentinelPasswordFile != "") && r.MasterName == "" {
		bad("sentinelPasswordEnv", "set without masterName; only Sentinel uses it")
	}
	if r.Username != "" && r.PasswordEnv == "" && r.PasswordFile == "" {
		bad("username", "set without passwordEnv or passwordFile")
	}
	if r.Timeout < 0 {
		bad("timeout", "must not be negative, got %s", r.Timeout)
	}
	if r.PingInterval < 0 {
		bad("pingInterval", "must not be negative, got %s", r.PingInterval)
	}
	if r.PoolSize < 0 {
		bad("poolSize", "must not be negative, got %d", r.PoolSize)
	}
	if t := r.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		bad("tls", "certFile and keyFile go together")
	}
	return errs
}

// CheckTargets reports each name under targets that is not one of the
// configured targets ("targets.webx: no such target"), for the loader,
// which knows them.
func (c *Config) CheckTargets(names []string) error {
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	var errs []error
	for name := range c.Targets {
		if !known[name] {
			errs = append(errs, fmt.Errorf("targets.%s: no such target", name))
		}
	}
	return errors.Join(errs...)
}

// Options returns the decorator options for target name, and false when
// caching is off for it. Call Validate first.
func (c *Config) Options(name string) (Options, bool) {
	t := c.Targets[name]
	if c.Disabled || t.Disabled {
		return Options{}, false
	}
	o := Options{Target: name, TTL: c.TTL}
	if t.TTL > 0 {
		o.TTL = t.TTL
	}
	return o, true
}

// Open returns the store c describes: a *Redis when c.Redis is set (which
// the caller closes), else a *Memory. It reads the TLS files but does not
// contact Redis: a Redis that is down leaves the store degraded, and the
// gateway serves from the vendors until it answers. onChange, when not
// nil, is called each time a Redis store turns degraded or healthy (for
// logs and metrics). Call ResolveSecrets and Validate first.
func (c *Config) Open(onChange func(State)) (Store, error) {
	if c.Redis == nil {
		return NewMemory(c.MaxEntries, nil), nil
	}
	return c.Redis.Open(onChange)
}

// Open returns the Redis store r describes; see Config.Open.
func (r *RedisConfig) Open(onChange func(State)) (*Redis, error) {
	o := universalOptions(r.Timeout)
	o.Addrs = r.Addrs
	o.MasterName = r.MasterName
	o.IsClusterMode = r.Cluster
	o.DB = r.DB
	o.Username = r.Username
	o.Password = r.password
	o.SentinelPassword = r.sentinelPassword
	o.PoolSize = r.PoolSize
	if r.TLS != nil {
		tc, err := r.TLS.config(r.dir)
		if err != nil {
			return nil, fmt.Errorf("cache: redis.tls: %w", err)
		}
		o.TLSConfig = tc
	}
	return newRedis(redis.NewUniversalClient(o), r.Timeout, r.PingInterval, onChange), nil
}

func (t *TLSConfig) config(dir string) (*tls.Config, error) {
	abs := func(f string) string {
		if f == "" || filepath.IsAbs(f) || dir == "" {
			return f
		}
		return filepath.Join(dir, f)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(abs(t.CAFile))
		if err != nil {
			return nil, fmt.Errorf("caFile: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("caFile: %s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(abs(t.CertFile), abs(t.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("certFile, keyFile: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
