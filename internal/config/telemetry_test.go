package config_test

import (
	"strings"
	"testing"

	"github.com/scim-gateway/scim-gateway/internal/config"
)

func TestTelemetrySection(t *testing.T) {
	cfg := mustParse(t, minimal+`
telemetry:
  exporter: otlp
  protocol: grpc
  endpoint: http://otel-collector:4317
  sampleRatio: 0.25
  metrics: false
`, noEnv)
	tc := cfg.Telemetry
	if tc.Exporter != "otlp" || tc.Protocol != "grpc" || tc.Endpoint != "http://otel-collector:4317" ||
		tc.SampleRatio == nil || *tc.SampleRatio != 0.25 || tc.Metrics == nil || *tc.Metrics {
		t.Errorf("telemetry = %+v, want the values written", tc)
	}
	if def := mustParse(t, minimal, noEnv).Telemetry; def.Exporter != "" || def.SampleRatio != nil || def.Metrics != nil {
		t.Errorf("telemetry without a section = %+v, want every key unset (the OTEL_* variables decide)", def)
	}
}

func TestTelemetrySectionErrors(t *testing.T) {
	_, err := config.Parse([]byte(minimal+`
telemetry:
  exporter: zipkin
  protocol: http/json
  endpoint: "https://user:pass@collector:4318"
  sampleRatio: 1.5
  headers: {authorization: secret}
`), t.TempDir(), noEnv)
	if err == nil {
		t.Fatal("Parse accepted a bad telemetry section")
	}
	msg := err.Error()
	for _, want := range []string{"telemetry.exporter:", "telemetry.protocol:", "telemetry.endpoint:", "telemetry.sampleRatio:", "headers"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "pass") || strings.Contains(msg, "secret") {
		t.Errorf("error echoes a credential:\n%s", msg)
	}
}
