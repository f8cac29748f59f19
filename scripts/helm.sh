#!/usr/bin/env bash
# Checks the Helm chart (charts/scim-gateway) and what it ships:
#   1. helm lint --strict with the defaults and each values file of
#      charts/scim-gateway/ci and charts/scim-gateway/examples
#   2. helm template with each of them, the NOTES too; no "<no value>"
#      anywhere
#   3. each values file of test/k8s/testdata/bad-values (a misspelled key, a
#      wrong type, a missing secret...) fails helm template, with the error
#      its "# want:" line names
#   4. go vet and go test in test/k8s (a module of its own): every rendered
#      document decoded strictly into its Kubernetes type, selectors, probes,
#      secrets and the configuration cross-checked, `gateway validate` run on
#      the rendered configurations, the Grafana dashboard checked against
#      docs/metrics.md, the Dockerfile against the chart, and the Dockerfile's
#      build command run on the context .dockerignore leaves
#
# Installs helm into .tools/bin on first use with go install (a few minutes
# on a cold Go cache). scripts/test.sh runs this as its helm step.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

HELM_VERSION=v3.22.0
# The Kubernetes version helm v3.22.0 is built against (its k8s.io/client-go
# v0.37). Release binaries get it through -ldflags as below; without it helm
# assumes Kubernetes 1.20 and refuses the chart's kubeVersion.
HELM_KUBE_MINOR=37
TOOLS_BIN="$PWD/.tools/bin"
HELM="$TOOLS_BIN/helm"
CHART=charts/scim-gateway
# The release and namespace test/k8s expects.
RELEASE=ci
NAMESPACE=scim

step() { printf '\n==> %s\n' "$*"; }
fail() {
	echo "helm.sh: $*" >&2
	exit 1
}

install_helm() {
	if [[ "$("$HELM" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
		return
	fi
	step "installing helm $HELM_VERSION into .tools/bin"
	local pkg=helm.sh/helm/v3 ldflags
	ldflags="-s -w -X $pkg/internal/version.version=$HELM_VERSION"
	ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR"
	ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR"
	GOBIN="$TOOLS_BIN" go install -ldflags "$ldflags" "$pkg/cmd/helm@$HELM_VERSION"
}

install_helm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/render"

values=("$CHART"/ci/*.yaml "$CHART"/examples/*.yaml)

step "helm lint --strict $CHART (defaults and ${#values[@]} values files)"
"$HELM" lint --strict --quiet "$CHART" >/dev/null
for f in "${values[@]}"; do
	"$HELM" lint --strict --quiet "$CHART" -f "$f" >"$tmp/lint.out" 2>&1 || {
		cat "$tmp/lint.out" >&2
		fail "helm lint with $f"
	}
done
echo "lint clean"

# helm template leaves NOTES.txt out, and helm install --dry-run wants a
# cluster; a copy of the chart renders the notes as a document of their own.
notes_chart="$tmp/notes/$(basename "$CHART")"
mkdir -p "$tmp/notes"
cp -R "$CHART" "$tmp/notes/"
{
	echo '{{- define "notes-check" -}}'
	cat "$CHART/templates/NOTES.txt"
	echo '{{- end }}'
} >"$notes_chart/templates/_notes_check.tpl"
rm "$notes_chart/templates/NOTES.txt"
printf '%s\n' 'kind: NotesCheck' 'notes: |' '  {{- include "notes-check" . | nindent 2 }}' >"$notes_chart/templates/notes-check.yaml"

step "helm template, with the notes, per values file"
for f in "${values[@]}"; do
	out="$tmp/render/$(basename "$f")"
	[[ ! -e "$out" ]] || fail "two values files named $(basename "$f")"
	"$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" -f "$f" >"$out"
	"$HELM" template "$RELEASE" "$notes_chart" --namespace "$NAMESPACE" -f "$f" \
		--show-only templates/notes-check.yaml >"$tmp/notes.out"
	grep -qF "/targets/" "$tmp/notes.out" || fail "$f: the notes do not name a target's URL"
	if grep -n '<no value>' "$out" "$tmp/notes.out"; then
		fail "$f: a template read a value that is not there"
	fi
	echo "$f: $(grep -c '^kind:' "$out") objects"
done

step "values with mistakes fail helm template"
for f in test/k8s/testdata/bad-values/*.yaml; do
	want=$(sed -n 's/^# want: //p' "$f")
	[[ -n "$want" ]] || fail "$f: no '# want: ERROR TEXT' line"
	if "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" -f "$f" >/dev/null 2>"$tmp/err"; then
		fail "$f: helm template succeeded, want an error naming $want"
	fi
	grep -qF -- "$want" "$tmp/err" || {
		cat "$tmp/err" >&2
		fail "$f: the error does not name $want"
	}
	echo "$f: refused ($want)"
done

step "test/k8s: manifests, configurations, dashboard"
if [[ -z "${GATEWAY_BIN:-}" ]]; then
	GATEWAY_BIN="$tmp/gateway"
	# As the Dockerfile builds it, so that test/k8s's run of the Dockerfile's
	# build finds the packages compiled.
	CGO_ENABLED=0 go build -trimpath -o "$GATEWAY_BIN" ./cmd/gateway
fi
[[ "$GATEWAY_BIN" == /* ]] || GATEWAY_BIN="$PWD/$GATEWAY_BIN"
(
	cd test/k8s
	go vet ./...
	HELM_RENDER_DIR="$tmp/render" GATEWAY_BIN="$GATEWAY_BIN" go test -count=1 ./...
)
