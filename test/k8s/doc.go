// Package k8s checks the deployment artifacts: the Helm chart's rendered
// manifests, decoded strictly into the Kubernetes API types; the chart's
// values schema; the Grafana dashboard against the metrics contract in
// docs/metrics.md; and the Dockerfile against the chart.
//
// It is a module of its own, so that the gateway's module does not depend on
// the Kubernetes API packages. scripts/helm.sh renders the chart with each
// values file into a directory and runs these tests with
//
//	HELM_RENDER_DIR  the directory of rendered files, one per values file
//	GATEWAY_BIN      a gateway binary, which checks the rendered configurations
package k8s
