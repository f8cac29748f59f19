package main

import (
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
	"regexp"

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
	sum := sha256.Sum256([]byte(*token))
	cfg, err := config.Parse(demoConfig, "", func(k string) string {
		if k == demoTokenEnv {
			return hex.EncodeToString(sum[:])
		}
		return ""
	})
	if err != nil {
		return fmt.Errorf("demo configuration: %w", err)
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	return serve(ctx, cfg, stdout, func(addr net.Addr) {
		printBanner(stdout, addr, cfg.Targets[0].Name, *token)
	})
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// printBanner tells the user where the demo listens and how to call it.
func printBanner(w io.Writer, addr net.Addr, target, token string) {
	base := "http://" + dialable(addr)
	fmt.Fprintf(w, `
SCIM 2.0 gateway demo: one in-memory target %q (data lasts until the process ends).

  SCIM base URL:        %s/scim/v2
  Target base URL:      %s/targets/%s/scim/v2
  Bearer token:         %s

  Try: curl -H 'Authorization: Bearer %s' %s/scim/v2/ServiceProviderConfig

Press Ctrl-C to stop.

`, target, base, base, target, token, token, base)
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
