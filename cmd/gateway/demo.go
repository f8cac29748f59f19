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
	"regexp"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters/webex/webextest"
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
	if err := parseFlags(fs, args, stdout); err != nil {
		return helpIsNoError(err)
	}
	if *token == "" {
		*token = randomToken()
	} else if !bearerToken.MatchString(*token) {
		return usagef("demo: --token: want letters, digits and -._~+/ (RFC 6750 §2.1)")
	}
	sim, err := startWebexSimulator(ctx)
	if err != nil {
		return err
	}
	defer sim.stop()
	sum := sha256.Sum256([]byte(*token))
	env := map[string]string{
		demoTokenEnv:      hex.EncodeToString(sum[:]),
		demoWebexTokenEnv: sim.token,
	}
	doc := bytes.ReplaceAll(demoConfig, []byte(demoWebexURL), []byte(sim.url))
	cfg, err := config.Parse(doc, "", func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	return serve(ctx, cfg, stdout, func(addr net.Addr) {
		printBanner(stdout, addr, *token)
	})
}

// The demo's Webex target talks to an in-process simulator over loopback
// HTTP: demo.yaml names this placeholder URL and an environment variable
// for the token, and runDemo fills both in.
const (
	demoWebexURL      = "http://webex-simulator.invalid"
	demoWebexTokenEnv = "DEMO_WEBEX_TOKEN"
	demoWebexOrg      = "0ae87ade-8c8a-4952-af08-318798958d0c"
)

type webexSimulator struct {
	url   string
	token string
	stop  func()
}

// startWebexSimulator serves the Webex simulator on a loopback port until
// stop is called.
func startWebexSimulator(ctx context.Context) (*webexSimulator, error) {
	sim := webextest.New(webextest.WithOrgID(demoWebexOrg))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: webex simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &webexSimulator{
		url:   "http://" + ln.Addr().String(),
		token: sim.IssueToken(),
		stop: func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		},
	}, nil
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
  memory   an in-memory store
  webex    Cisco Webex, played by an in-process simulator over loopback HTTP

  SCIM base URL:        %s/scim/v2
  (the memory target; name a target in the path to choose it)
  Target base URLs:     %s/targets/memory/scim/v2
                        %s/targets/webex/scim/v2
  Bearer token:         %s

  Try: curl -H 'Authorization: Bearer %s' %s/targets/webex/scim/v2/Users

Press Ctrl-C to stop.

`, base, base, base, token, token, base)
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
