package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/adapters/ringcentral/rctest"
	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
	"github.com/scim-gateway/scim-gateway/internal/cache"
	"github.com/scim-gateway/scim-gateway/internal/config"
)

// demoConfig is the demo's configuration; the token's hash comes in through
// the environment it is parsed with.
//
//go:embed demo.yaml
var demoConfig []byte

const demoTokenEnv = "DEMO_TOKEN_SHA256"

// bearerToken is the b64token syntax of RFC 6750 §2.1: what a client can
// send in an Authorization header as it is.
var bearerToken = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)

func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "", "listen on `ADDR` (host:port; default 127.0.0.1:8080)")
	token := fs.String("token", "", "accept bearer `TOKEN` (default: a random one, printed)")
	redisURL := fs.String("redis", "", "cache in Redis at `URL` (redis://[:PASSWORD@]HOST:PORT[/DB]) instead of in process")
	if err := parseFlags(fs, args, stdout); err != nil {
		return helpIsNoError(err)
	}
	if *token == "" {
		*token = randomToken()
	} else if !bearerToken.MatchString(*token) {
		return usagef("demo: --token: want letters, digits and -._~+/ (RFC 6750 §2.1)")
	}
	webexSim := webextest.New(webextest.WithOrgID(demoWebexOrg))
	rcSim := rctest.New()
	sims, err := startSimulators(ctx, webexSim, rcSim)
	if err != nil {
		return err
	}
	defer sims.stop()
	sum := sha256.Sum256([]byte(*token))
	env := map[string]string{
		demoTokenEnv:            hex.EncodeToString(sum[:]),
		demoWebexTokenEnv:       webexSim.IssueToken(),
		demoRingCentralTokenEnv: rcSim.IssueToken(),
	}
	doc := bytes.ReplaceAll(demoConfig, []byte(demoWebexURL), []byte(sims.urls[0]))
	doc = bytes.ReplaceAll(doc, []byte(demoRingCentralURL), []byte(sims.urls[1]))
	cfg, err := config.Parse(doc, "", func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *redisURL != "" {
		if err := useRedis(&cfg.Cache, *redisURL); err != nil {
			return usagef("demo: --redis: %v", err)
		}
	}
	return serve(ctx, cfg, stdout, func(addr net.Addr) {
		printBanner(stdout, addr, *token)
	})
}

// The demo's vendor targets talk to in-process simulators over loopback
// HTTP: demo.yaml names these placeholder URLs and environment variables
// for the tokens, and runDemo fills them in.
const (
	demoWebexURL            = "http://webex-simulator.invalid"
	demoWebexTokenEnv       = "DEMO_WEBEX_TOKEN"
	demoWebexOrg            = "0ae87ade-8c8a-4952-af08-318798958d0c"
	demoRingCentralURL      = "http://ringcentral-simulator.invalid"
	demoRingCentralTokenEnv = "DEMO_RINGCENTRAL_TOKEN"
)

type simulators struct {
	urls []string
	stop func()
}

// startSimulators serves each handler on a loopback port of its own until
// stop is called.
func startSimulators(ctx context.Context, handlers ...http.Handler) (*simulators, error) {
	s := &simulators{}
	var servers []*http.Server
	s.stop = func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(sctx)
		}
	}
	for _, h := range handlers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.stop()
			return nil, fmt.Errorf("demo: simulator: %w", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func() { _ = srv.Serve(ln) }()
		s.urls = append(s.urls, "http://"+ln.Addr().String())
	}
	return s, nil
}

// useRedis points c at the Redis server rawURL names.
func useRedis(c *cache.Config, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "redis" || u.Host == "" {
		return fmt.Errorf("want redis://[:PASSWORD@]HOST:PORT[/DB], got %q", rawURL)
	}
	r := &cache.RedisConfig{Addrs: []string{u.Host}}
	if db := strings.Trim(u.Path, "/"); db != "" {
		if r.DB, err = strconv.Atoi(db); err != nil {
			return fmt.Errorf("database %q is not a number", db)
		}
	}
	password, _ := u.User.Password()
	const passwordEnv = "DEMO_REDIS_PASSWORD"
	if password != "" {
		r.PasswordEnv = passwordEnv
	}
	c.Redis = r
	if err := c.ResolveSecrets(adapters.Secrets{Getenv: func(string) string { return password }}); err != nil {
		return err
	}
	return c.Validate()
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// printBanner tells the user where the demo listens and how to call it.
func printBanner(w io.Writer, addr net.Addr, token string) {
	base := "http://" + dialable(addr)
	fmt.Fprintf(w, `
SCIM 2.0 gateway demo (data lasts until the process ends). Targets:
  memory        an in-memory store
  webex         Cisco Webex, played by an in-process simulator over loopback HTTP
  ringcentral   RingCentral, played by a simulator with its real limits (10 writes a minute)

  SCIM base URL:        %s/scim/v2
  (the memory target; name a target in the path to choose it)
  Target base URLs:     %s/targets/memory/scim/v2
                        %s/targets/webex/scim/v2
                        %s/targets/ringcentral/scim/v2
  Bearer token:         %s

  Try: curl -H 'Authorization: Bearer %s' %s/targets/webex/scim/v2/Users

Press Ctrl-C to stop.

`, base, base, base, base, token, token, base)
}

// dialable returns addr as a client would dial it: a wildcard listen address
// becomes loopback.
func dialable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
