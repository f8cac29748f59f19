// Package telemetry sets up OpenTelemetry for the gateway (traces exported
// over OTLP or to stdout, metrics exposed to Prometheus) and holds the small
// helpers every layer uses to record them: span starts, the attribute names,
// the instruments of docs/metrics.md, and the target a request addresses.
//
// Nothing here is needed for correctness: without Setup, spans go to the
// global (no-op) provider and measurements to no-op instruments.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name resource attribute, unless
// OTEL_SERVICE_NAME says otherwise.
const ServiceName = "scim-gateway"

// Trace exporters (Config.Exporter, OTEL_TRACES_EXPORTER).
const (
	ExporterNone   = "none"   // spans are made (trace ids in logs, traceparent to vendors) but not exported
	ExporterOTLP   = "otlp"   // OTLP to a collector, over Protocol
	ExporterStdout = "stdout" // one JSON document per span on stdout, for development ("console" in OTEL_TRACES_EXPORTER)
)

// OTLP protocols (Config.Protocol, OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Config is the `telemetry` block of the configuration. Zero fields defer to
// the standard OTEL_* environment variables, and then to the defaults noted;
// a field that is set wins over the environment.
type Config struct {
	// Exporter is where spans go: "otlp", "stdout" or "none". Empty:
	// OTEL_TRACES_EXPORTER ("otlp", "console", "none"), else "none".
	Exporter string `yaml:"exporter"`
	// Protocol is the OTLP transport: "grpc" or "http/protobuf". Empty:
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, else
	// "http/protobuf".
	Protocol string `yaml:"protocol"`
	// Endpoint is the collector's URL, e.g. "http://otel-collector:4318"
	// (an http scheme sends without TLS). Over HTTP a URL without a path
	// gets /v1/traces. Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
	// OTEL_EXPORTER_OTLP_ENDPOINT, else localhost (4317 for gRPC, 4318 for
	// HTTP). Headers (a collector's credentials) come only from
	// OTEL_EXPORTER_OTLP_HEADERS, never from the file.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of new traces recorded, 0 to 1, parent-based:
	// a request whose caller sent a sampled traceparent is always recorded.
	// Nil: OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, else 1.
	SampleRatio *float64 `yaml:"sampleRatio"`
	// Metrics switches the Prometheus endpoint /metrics on (nil means on).
	Metrics *bool `yaml:"metrics"`

	// ServiceVersion is service.version, the gateway's build; not read from
	// the file.
	ServiceVersion string `yaml:"-"`
	// Stdout receives the stdout exporter's spans; nil means os.Stdout. Not
	// read from the file.
	Stdout io.Writer `yaml:"-"`
	// SpanProcessors are added to the tracer provider, after the exporter's;
	// tests use them to record spans. Not read from the file.
	SpanProcessors []sdktrace.SpanProcessor `yaml:"-"`
}

// Validate reports every problem of c at once, each prefixed with its key.
// It checks only what is set in c: the environment is read by Setup.
func (c Config) Validate() error {
	var errs []error
	switch c.Exporter {
	case "", ExporterNone, ExporterOTLP, ExporterStdout:
	default:
		errs = append(errs, fmt.Errorf("exporter: want otlp, stdout or none, got %q", c.Exporter))
	}
	switch c.Protocol {
	case "", ProtocolGRPC, ProtocolHTTP:
	default:
		errs = append(errs, fmt.Errorf("protocol: want grpc or http/protobuf, got %q", c.Protocol))
	}
	if c.Endpoint != "" {
		if err := checkEndpoint(c.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
		}
	}
	if r := c.SampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		errs = append(errs, fmt.Errorf("sampleRatio: want 0 to 1, got %v", *r))
	}
	return errors.Join(errs...)
}

// checkEndpoint accepts an absolute http or https URL without credentials,
// query or fragment; the URL itself is not echoed (it may hold a secret).
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.User != nil:
		return errors.New("must not hold credentials; set OTEL_EXPORTER_OTLP_HEADERS")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("want an absolute http or https URL, e.g. http://otel-collector:4318")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// Telemetry is what Setup built: the providers, installed as OpenTelemetry's
// globals, and the Prometheus handler. Its methods are safe for concurrent
// use.
type Telemetry struct {
	tp       *sdktrace.TracerProvider
	mp       *sdkmetric.MeterProvider // nil when metrics are off
	in       *instruments             // nil when metrics are off
	metrics  http.Handler             // nil when metrics are off
	exporter string
}

// Setup configures OpenTelemetry from cfg and the OTEL_* environment
// variables and installs the result as the global tracer provider, meter
// provider and propagator (W3C tracecontext and baggage), and as the
// instruments the Record functions write to. The environment is the
// process's: the SDK and the exporters read their OTEL_* variables
// themselves. Call Shutdown when done, so that buffered spans are exported.
//
// The instruments are process-wide: a second Setup replaces the first's.
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(
			attribute.String("service.name", ServiceName),
			attribute.String("service.version", cfg.ServiceVersion),
		),
		// Last, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	exp, name, err := spanExporter(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if exp != nil {
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	for _, p := range cfg.SpanProcessors {
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	}
	switch {
	case cfg.SampleRatio != nil:
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*cfg.SampleRatio))))
	case os.Getenv("OTEL_TRACES_SAMPLER") != "":
		// The SDK reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
		// itself when no sampler is given.
	default:
		opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	}
	t := &Telemetry{tp: sdktrace.NewTracerProvider(opts...), exporter: name}

	if cfg.Metrics == nil || *cfg.Metrics {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		pe, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			_ = t.tp.Shutdown(ctx)
			return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
		}
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(pe))
		// OpenMetrics carries the exemplars (trace ids) of histogram
		// observations; Prometheus asks for it when it stores exemplars.
		t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	}

	otel.SetTracerProvider(t.tp)
	otel.SetTextMapPropagator(Propagator)
	if t.mp != nil {
		otel.SetMeterProvider(t.mp)
		t.in = newInstruments(t.mp)
		install(t.in)
	} else {
		install(nil)
	}
	return t, nil
}

// spanExporter returns the exporter cfg and the environment ask for (nil
// for none) and its name.
func spanExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, string, error) {
	name := cfg.Exporter
	if name == "" {
		// OTEL_TRACES_EXPORTER may list several; the first is used.
		name, _, _ = strings.Cut(os.Getenv("OTEL_TRACES_EXPORTER"), ",")
		name = strings.TrimSpace(name)
		if name == "console" {
			name = ExporterStdout
		}
	}
	switch name {
	case "", ExporterNone:
		return nil, ExporterNone, nil
	case ExporterStdout:
		w := cfg.Stdout
		if w == nil {
			w = os.Stdout
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return nil, "", fmt.Errorf("telemetry: stdout exporter: %w", err)
		}
		return exp, name, nil
	case ExporterOTLP:
	default:
		return nil, "", fmt.Errorf("telemetry: OTEL_TRACES_EXPORTER: want otlp, console or none, got %q", name)
	}
	proto := cfg.Protocol
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	}
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch proto {
	case ProtocolGRPC:
		var opts []otlptracegrpc.Option
		if cfg.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		}
		// The exporter reads the other OTEL_EXPORTER_OTLP_* variables
		// (endpoint, headers, TLS, timeout, compression) itself.
		exp, err = otlptracegrpc.New(ctx, opts...)
	case "", ProtocolHTTP:
		var opts []otlptracehttp.Option
		if cfg.Endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(httpTracesURL(cfg.Endpoint)))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	default:
		return nil, "", fmt.Errorf("telemetry: OTLP protocol: want grpc or http/protobuf, got %q", proto)
	}
	if err != nil {
		return nil, "", fmt.Errorf("telemetry: OTLP exporter: %w", err)
	}
	return exp, name, nil
}

// httpTracesURL adds the OTLP/HTTP traces path to a collector URL without
// one, as OTEL_EXPORTER_OTLP_ENDPOINT does.
func httpTracesURL(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return endpoint
	}
	u.Path = "/v1/traces"
	return u.String()
}

// Exporter names the trace exporter in use: "otlp", "stdout" or "none".
func (t *Telemetry) Exporter() string { return t.exporter }

// TracerProvider returns the tracer provider Setup installed.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// MetricsHandler returns the Prometheus scrape handler (text and
// OpenMetrics), or nil when metrics are off.
func (t *Telemetry) MetricsHandler() http.Handler { return t.metrics }

// Shutdown exports the spans still buffered and stops the providers; ctx
// bounds the wait. The instruments go back to no-ops. Safe to call more than
// once.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if err := t.tp.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("telemetry: traces: %w", err))
	}
	if t.mp != nil {
		uninstall(t.in)
		if err := t.mp.Shutdown(ctx); err != nil && !errors.Is(err, sdkmetric.ErrReaderShutdown) {
			errs = append(errs, fmt.Errorf("telemetry: metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}
