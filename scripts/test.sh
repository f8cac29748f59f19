#!/usr/bin/env bash
# Runs every check of the project, the same on a laptop and in CI:
#   fmt          gofmt -l finds nothing to reformat
#   vet          go vet ./...
#   staticcheck  staticcheck ./... (installed into .tools/ on first use)
#   test         go test -race ./...
#   helm         scripts/helm.sh: the Helm chart, its manifests, the dashboard
#                (installs helm into .tools/ on first use)
#   fuzz         each Fuzz target for FUZZTIME (default 5s)
# With arguments, runs only the named steps: scripts/test.sh vet test
#
# Needs Go (go.mod's version) and network access to the Go module proxy on
# first use. Services that later tests need (e.g. redis-server, from Debian's
# packages) are to be installed here, before the test step, when absent.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# staticcheck 2026.2.2, the first release line that knows Go 1.26.
STATICCHECK_VERSION=v0.8.2
TOOLS_BIN="$PWD/.tools/bin"
FUZZTIME="${FUZZTIME:-5s}"

step() { printf '\n==> %s\n' "$*"; }

need_go() {
	if ! command -v go >/dev/null 2>&1; then
		echo "go not found: install Go $(sed -n 's/^go //p' go.mod) or newer" >&2
		exit 1
	fi
}

# need_redis installs redis-server, which the cache tests run (a real one
# per test, on a loopback port), from Debian's packages when it is absent.
need_redis() {
	if command -v redis-server >/dev/null 2>&1; then
		return
	fi
	step "installing redis-server (Debian package) for the cache tests"
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "redis-server not found and no apt-get to install it: install redis-server 6 or newer" >&2
		exit 1
	fi
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "redis-server not found; installing it needs root or sudo: apt-get install redis-server" >&2
			exit 1
		fi
		sudo=(sudo)
	fi
	if ! "${sudo[@]}" apt-get update -qq ||
		! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; then
		echo "could not install redis-server with apt-get" >&2
		exit 1
	fi
	if ! command -v redis-server >/dev/null 2>&1; then
		echo "redis-server still not found after installing the package" >&2
		exit 1
	fi
}

run_fmt() {
	step "gofmt -l"
	local files unformatted
	files=$(find . -name '*.go' -not -path './.git/*' -not -path './.tools/*')
	# shellcheck disable=SC2086 # one argument per file
	unformatted=$(gofmt -l $files)
	if [[ -n "$unformatted" ]]; then
		echo "these files need gofmt -w:" >&2
		echo "$unformatted" >&2
		return 1
	fi
	echo "all files formatted"
}

run_vet() {
	step "go vet ./..."
	go vet ./...
}

run_staticcheck() {
	local want="${STATICCHECK_VERSION#v}"
	if ! "$TOOLS_BIN/staticcheck" -version 2>/dev/null | grep -qF "($want)"; then
		step "installing staticcheck $STATICCHECK_VERSION into .tools/bin"
		GOBIN="$TOOLS_BIN" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	fi
	step "staticcheck ./..."
	"$TOOLS_BIN/staticcheck" ./...
}

run_test() {
	need_redis
	step "go test -race ./..."
	go test -race ./...
}

run_helm() {
	step "scripts/helm.sh"
	scripts/helm.sh
}

run_fuzz() {
	step "fuzz each target for $FUZZTIME"
	local pkg dir target found=0
	for pkg in $(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		grep -qs '^func Fuzz' "$dir"/*_test.go || continue
		for target in $(go test -run '^$' -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			found=$((found + 1))
			echo "--- $pkg $target"
			fuzz_one "$pkg" "$target"
		done
	done
	echo "fuzzed $found targets"
}

# fuzz_one fuzzes one target. Go 1.26's fuzz coordinator can fail a target
# with a bare "context deadline exceeded" when -fuzztime runs out while a
# worker is busy (golang/go#75804, fixed in Go 1.27). A real finding always
# writes its input to testdata/fuzz; a failure without one is that race,
# and the target runs once more.
fuzz_one() {
	local pkg=$1 target=$2 out try
	for try in 1 2; do
		if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
			echo "$out"
			return 0
		fi
		echo "$out"
		if grep -q 'Failing input written' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
			return 1
		fi
		echo "(the fuzz coordinator's deadline race, not a finding: attempt $try)"
	done
	return 1
}

need_go
steps=("$@")
if [[ ${#steps[@]} -eq 0 ]]; then
	steps=(fmt vet staticcheck test helm fuzz)
fi
for s in "${steps[@]}"; do
	case "$s" in
	fmt | vet | staticcheck | test | helm | fuzz) "run_$s" ;;
	*)
		echo "unknown step $s (want fmt, vet, staticcheck, test, helm or fuzz)" >&2
		exit 2
		;;
	esac
done
step "all checks passed: ${steps[*]}"
