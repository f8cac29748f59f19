package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scim-gateway/scim-gateway/internal/adapters"
	"github.com/scim-gateway/scim-gateway/internal/config"
	"github.com/scim-gateway/scim-gateway/internal/router"
	"github.com/scim-gateway/scim-gateway/internal/telemetry"
)

// withHUP gives src a SIGHUP channel the test sends on.
func withHUP(src *configSource) chan os.Signal {
	hup := make(chan os.Signal, 1)
	src.hup = hup
	return hup
}

// waitCount waits until out holds n log lines with message msg, and
// returns them decoded.
func waitCount(t *testing.T, out *syncBuffer, msg string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := logLines(t, out, msg)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %q lines within 10s, want %d; output:\n%s", len(lines), msg, n, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLines returns the JSON log lines of out whose message is msg.
func logLines(t *testing.T, out *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			lines = append(lines, m)
		}
	}
	return lines
}

const (
	msgReloaded = "config reloaded"
	msgRefused  = "config reload refused; the running configuration stays"
	msgRestart  = "config change needs restart; the running values stay until then"
)

// TestReload checks that a reload applies: a new target is reachable, a
// removed token stops working, an unchanged target keeps its data, and the
// new log level is in force.
func TestReload(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"old"}, "  watchConfig: false\n"))
	hup := withHUP(src)
	g := startGateway(t, cfg, src)
	id := createUser(t, g.base, "alpha", "old", "bjensen")

	writeFileAtomic(t, src.path, configDoc([]string{"alpha", "gamma"}, []string{"new"}, "  watchConfig: false\n")+"log: {level: warn}\n")
	hup <- syscall.SIGHUP
	line := waitCount(t, g.out, msgReloaded, 1)[0]
	if got := line["targets"]; !slices.Equal(toStrings(got), []string{"alpha", "gamma"}) {
		t.Errorf("reloaded targets = %v, want [alpha gamma]", got)
	}
	if got := line["opened"]; !slices.Equal(toStrings(got), []string{"gamma"}) {
		t.Errorf("opened = %v, want [gamma]: alpha is unchanged", got)
	}

	if status, _ := call(t, "GET", g.base+"/targets/gamma/scim/v2/Users", "new", ""); status != http.StatusOK {
		t.Errorf("GET gamma Users with the new token = %d, want 200", status)
	}
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "old", ""); status != http.StatusUnauthorized {
		t.Errorf("GET Users with the removed token = %d, want 401", status)
	}
	if status, _ := call(t, "GET", g.base+"/targets/alpha/scim/v2/Users/"+id, "new", ""); status != http.StatusOK {
		t.Errorf("GET the user created before the reload = %d, want 200: alpha kept its store", status)
	}
	if _, doc := call(t, "GET", g.base+"/readyz", "", ""); doc["targets"].(map[string]any)["gamma"] == nil {
		t.Errorf("/readyz = %v, want gamma listed", doc)
	}
	if n := len(logLines(t, g.out, "request")); n != 1 {
		t.Errorf("%d access-log lines, want 1: the one before the reload to level warn", n)
	}
	if lines := logLines(t, g.out, msgRestart); len(lines) != 0 {
		t.Errorf("needs restart reported: %v; nothing of the listener changed", lines)
	}
}

// TestReloadRefused checks that a file that does not load is refused with
// one log line saying why, and the running configuration serves on.
func TestReloadRefused(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"old"}, "  watchConfig: false\n"))
	hup := withHUP(src)
	g := startGateway(t, cfg, src)

	writeFileAtomic(t, src.path, configDoc([]string{"alpha"}, []string{"new"}, "  lisen: 1\n  maxPageSize: 0\n"))
	hup <- syscall.SIGHUP
	line := waitCount(t, g.out, msgRefused, 1)[0]
	for _, want := range []string{"server.lisen: unknown key", "server.maxPageSize: must be at least 1"} {
		if !strings.Contains(line["err"].(string), want) {
			t.Errorf("refusal = %v, want its err to contain %q", line, want)
		}
	}
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "old", ""); status != http.StatusOK {
		t.Errorf("the running token after a refused reload = %d, want 200", status)
	}
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "new", ""); status != http.StatusUnauthorized {
		t.Errorf("the refused file's token = %d, want 401", status)
	}

	// A file that is gone is refused too, and a good one applies again.
	if err := os.Remove(src.path); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	if line := waitCount(t, g.out, msgRefused, 2)[1]; !strings.Contains(line["err"].(string), "no such file") {
		t.Errorf("refusal of a missing file = %v", line)
	}
	writeFileAtomic(t, src.path, configDoc([]string{"alpha"}, []string{"new"}, ""))
	hup <- syscall.SIGHUP
	waitCount(t, g.out, msgReloaded, 1)
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "new", ""); status != http.StatusOK {
		t.Errorf("the new token after a good reload = %d, want 200", status)
	}
}

// TestReloadOnFileChange checks that server.watchConfig reloads when the
// file's content changes, and only then.
func TestReloadOnFileChange(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"one"}, ""))
	g := startGateway(t, cfg, src)

	two := configDoc([]string{"alpha"}, []string{"two"}, "")
	writeFileAtomic(t, src.path, two)
	waitCount(t, g.out, msgReloaded, 1)
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "two", ""); status != http.StatusOK {
		t.Errorf("the new token = %d, want 200", status)
	}
	// The same content again, another file in the directory, then a change:
	// only the change reloads.
	writeFileAtomic(t, src.path, two)
	if err := os.WriteFile(src.path+".bak", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeFileAtomic(t, src.path, configDoc([]string{"alpha"}, []string{"three"}, ""))
	waitCount(t, g.out, msgReloaded, 2)
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users", "three", ""); status != http.StatusOK {
		t.Errorf("the third token = %d, want 200", status)
	}
	if n := len(logLines(t, g.out, msgReloaded)); n != 2 {
		t.Errorf("%d reloads, want 2: rewriting the same content is no change", n)
	}
}

// TestReloadInFlight checks that requests under way during a reload finish
// on the targets they started with, which are closed only after them.
func TestReloadInFlight(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"))
	hup := withHUP(src)
	gated := newGatedConfig()
	cfg.Targets[0].Settings = gated
	cfg.Cache.Disabled = true // concurrent Gets must each reach the gate, not share one
	g := startGateway(t, cfg, src)
	id := createUser(t, g.base, "alpha", "tok", "bjensen")

	const n = 3
	var results []<-chan result
	for range n {
		results = append(results, getAsync(g.base+"/scim/v2/Users/"+id, "tok"))
	}
	gated.waitEntered(t, n)

	// The file's alpha is a plain memory store: a new adapter.
	hup <- syscall.SIGHUP
	waitCount(t, g.out, msgReloaded, 1)
	if status, _ := call(t, "GET", g.base+"/scim/v2/Users/"+id, "tok", ""); status != http.StatusNotFound {
		t.Errorf("GET the user on the new alpha = %d, want 404 (a new, empty store)", status)
	}
	if gated.closed.Load() {
		t.Fatal("the old alpha was closed while requests were still using it")
	}
	close(gated.gate)
	for i, ch := range results {
		if r := <-ch; r.err != nil || r.status != http.StatusOK {
			t.Errorf("in-flight request %d = %d %v, want 200 from the old alpha", i, r.status, r.err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !gated.closed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the old alpha was not closed within 10s of its last request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReloadGrace checks that the old targets are closed after the grace
// period (server.shutdownTimeout) even when a request still holds them.
func TestReloadGrace(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"))
	hup := withHUP(src)
	gated := newGatedConfig()
	cfg.Targets[0].Settings = gated
	cfg.Cache.Disabled = true // concurrent Gets must each reach the gate, not share one
	g := startGateway(t, cfg, src)
	res := getAsync(g.base+"/scim/v2/Users/x", "tok")
	gated.waitEntered(t, 1)

	writeFileAtomic(t, src.path, strings.Replace(configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"),
		"shutdownTimeout: 10s", "shutdownTimeout: 10ms", 1))
	hup <- syscall.SIGHUP
	waitCount(t, g.out, "closing the targets of the previous configuration with requests still running", 1)
	if !gated.closed.Load() {
		t.Error("the old alpha is not closed after the grace period")
	}
	close(gated.gate)
	if r := <-res; r.err != nil || r.status != http.StatusNotFound {
		t.Errorf("the late request = %d %v, want its own 404", r.status, r.err)
	}
}

func TestReloadNeedsRestart(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"))
	hup := withHUP(src)
	g := startGateway(t, cfg, src)

	writeFileAtomic(t, src.path, strings.Replace(configDoc([]string{"alpha"}, []string{"tok"},
		"  watchConfig: false\n  publicURL: https://scim.example.com\n  maxPageSize: 5\n  defaultPageSize: 5\n"),
		"127.0.0.1:0", "127.0.0.1:1", 1))
	hup <- syscall.SIGHUP
	line := waitCount(t, g.out, msgRestart, 1)[0]
	if got := toStrings(line["keys"]); !slices.Equal(got, []string{"server.listen", "server.publicURL"}) {
		t.Errorf("needs restart keys = %v, want [server.listen server.publicURL]", got)
	}
	// Still on the old address; the engine's limits apply at once.
	status, doc := call(t, "GET", g.base+"/scim/v2/ServiceProviderConfig", "tok", "")
	if status != http.StatusOK || doc["filter"].(map[string]any)["maxResults"] != float64(5) {
		t.Errorf("ServiceProviderConfig = %d %v, want maxResults 5 after the reload", status, doc)
	}
}

func TestNeedsRestart(t *testing.T) {
	base := &config.Config{Server: config.Server{Listen: ":8080", WatchConfig: true}, Log: config.Log{Format: "json"},
		Telemetry: telemetry.Config{Exporter: "none", SampleRatio: new(0.1), Metrics: new(true)}}
	tests := []struct {
		name string
		edit func(c *config.Config)
		want []string
	}{
		{"nothing", func(*config.Config) {}, nil},
		{"live settings", func(c *config.Config) {
			c.Server.MaxPageSize, c.Server.ShutdownTimeout, c.Server.DrainDelay, c.Log.Level = 9, time.Second, time.Second, "debug"
		}, nil},
		{"listener", func(c *config.Config) {
			c.Server.Listen, c.Server.TLS = ":8443", config.TLS{CertFile: "c", KeyFile: "k"}
			c.Server.ReadHeaderTimeout, c.Server.ReadTimeout, c.Server.WriteTimeout, c.Server.IdleTimeout = 1, 1, 1, 1
		}, []string{"server.listen", "server.tls.certFile", "server.tls.keyFile", "server.readHeaderTimeout",
			"server.readTimeout", "server.writeTimeout", "server.idleTimeout"}},
		{"router", func(c *config.Config) {
			c.Server.PublicURL, c.Server.MaxBodyBytes, c.Server.AnonymousDiscovery = "https://x", 1, true
		}, []string{"server.publicURL", "server.maxBodyBytes", "server.anonymousDiscovery"}},
		{"process", func(c *config.Config) { c.Server.WatchConfig, c.Log.Format = false, "text" }, []string{"server.watchConfig", "log.format"}},
		{"telemetry exporter", func(c *config.Config) { c.Telemetry.Exporter = "otlp" }, []string{"telemetry"}},
		{"telemetry sample ratio", func(c *config.Config) { c.Telemetry.SampleRatio = new(0.5) }, []string{"telemetry"}},
		{"telemetry metrics off", func(c *config.Config) { c.Telemetry.Metrics = new(false) }, []string{"telemetry"}},
		// Pointers compare by value: a reload decodes new ones.
		{"telemetry same values", func(c *config.Config) { c.Telemetry.SampleRatio, c.Telemetry.Metrics = new(0.1), new(true) }, nil},
	}
	for _, tt := range tests {
		next := *base
		tt.edit(&next)
		if got := needsRestart(base, &next); !slices.Equal(got, tt.want) {
			t.Errorf("%s: needsRestart = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReloadListenFlag checks that --listen holds across reloads: the
// file's server.listen changing is no reason for a restart.
func TestReloadListenFlag(t *testing.T) {
	cfg, src := loadDoc(t, configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"))
	src.listen = "127.0.0.1:0"
	hup := withHUP(src)
	g := startGateway(t, cfg, src)
	writeFileAtomic(t, src.path, strings.Replace(configDoc([]string{"alpha"}, []string{"tok"}, "  watchConfig: false\n"), "127.0.0.1:0", "127.0.0.1:1", 1))
	hup <- syscall.SIGHUP
	waitCount(t, g.out, msgReloaded, 1)
	if lines := logLines(t, g.out, msgRestart); len(lines) != 0 {
		t.Errorf("needs restart reported with --listen set: %v", lines)
	}
}

// failingConfig is a target's settings whose Open fails.
type failingConfig struct{}

func (failingConfig) Validate() error { return nil }
func (failingConfig) Open(context.Context) (adapters.Adapter, error) {
	return nil, errors.New("vendor unreachable")
}

// TestOpenTargetsFailure checks that a target that does not open closes
// the adapters opened for the new set, and only those.
func TestOpenTargetsFailure(t *testing.T) {
	kept, fresh := newGatedConfig(), newGatedConfig()
	cfg := &config.Config{Targets: []config.Target{{Name: "kept", Adapter: "gated", Settings: kept}}}
	prev, err := openTargets(t.Context(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Targets = append(cfg.Targets,
		config.Target{Name: "fresh", Adapter: "gated", Settings: fresh},
		config.Target{Name: "broken", Adapter: "failing", Settings: failingConfig{}})
	_, err = openTargets(t.Context(), cfg, prev, nil)
	if err == nil || err.Error() != `target "broken": open: vendor unreachable` {
		t.Errorf("openTargets = %v, want target \"broken\": open: vendor unreachable", err)
	}
	if !fresh.closed.Load() || kept.closed.Load() {
		t.Errorf("closed: fresh %v, kept %v; want only the adapter opened by the failed call closed", fresh.closed.Load(), kept.closed.Load())
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, s := range list {
		out[i], _ = s.(string)
	}
	return out
}

// BenchmarkTrack measures what counting requests against the target set
// adds to every request.
func BenchmarkTrack(b *testing.B) {
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	live := newLiveTargets(slog.New(slog.NewTextHandler(io.Discard, nil)), router.NewHealth(router.HealthOptions{}), nil)
	live.install(newTargetSet(0), 0)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", noop}, {"tracked", live.track(noop)}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/healthz", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bc.h.ServeHTTP(nil, r)
				}
			})
		})
	}
}
