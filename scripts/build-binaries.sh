#!/usr/bin/env bash
# Builds (or reuses) the real components PinFi runs against, from Go modules through the Go
# module proxy, cached by version outside the repository:
#   kube-apiserver, kube-controller-manager, kube-scheduler,
#   kubectl                                                  (k8s.io/kubernetes $K8S_VERSION)
#   etcd                                                     (go.etcd.io/etcd/server/v3 $ETCD_VERSION)
#   kwok, kwokctl                                            (sigs.k8s.io/kwok $KWOK_VERSION)
#   helm                                                     (helm.sh/helm/v3 $HELM_VERSION)
#
# Each component lands in $PINFI_CACHE_DIR/bin/<component>-<version>/ through a temporary folder
# and an atomic rename, with a manifest of sha256 sums: a half-written or corrupted entry is
# detected and rebuilt, never trusted.
#
# Usage: build-binaries.sh [k8s|kwok|helm|all]   (default all). Prints one line per step.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.8}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${PINFI_CACHE_DIR:-$HOME/.cache/pinfi}"
BIN="$CACHE/bin"
LOGS="$CACHE/logs"
mkdir -p "$BIN" "$LOGS"

log() { printf '[pinfi-build] %s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[pinfi-build] ERROR: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "no Go toolchain on PATH: install Go >= 1.25 (it must reach a Go module proxy), or point PINFI_*_BINARY variables at prebuilt binaries (see README)"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# verify DIR FILE...: true when DIR holds every FILE and a manifest whose every entry matches its sha256.
verify() {
  local dir="$1"; shift
  [ -f "$dir/MANIFEST.sha256" ] || return 1
  local f; for f in "$@"; do [ -x "$dir/$f" ] || return 1; done
  (cd "$dir" && sha256sum --quiet --check MANIFEST.sha256 >/dev/null 2>&1)
}

# finish TMP DEST: write the manifest of TMP and move it into place atomically.
finish() {
  local tmp="$1" dest="$2"
  (cd "$tmp" && find . -maxdepth 1 -type f ! -name MANIFEST.sha256 -printf '%f\n' | sort | xargs sha256sum > MANIFEST.sha256)
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

build_k8s() {
  local dest="$BIN/kubernetes-$K8S_VERSION"
  if verify "$dest" kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; then log "kubernetes $K8S_VERSION + etcd $ETCD_VERSION: cached in $dest"; return; fi
  [ -d "$dest" ] && log "kubernetes $K8S_VERSION: cache entry is incomplete or corrupt, rebuilding"
  local work; work="$(mktemp -d "$CACHE/.build-k8s.XXXXXX")"
  local logf="$LOGS/build-kubernetes-$K8S_VERSION.log"
  log "kubernetes $K8S_VERSION + etcd $ETCD_VERSION: building (about 10 minutes cold on 2 cores; log: $logf)"
  (
    set -euo pipefail
    cd "$work"
    go mod init pinfi.local/k8sbuild
    local gomod; gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    [ -f "$gomod" ] || { echo "cannot read k8s.io/kubernetes@$K8S_VERSION go.mod"; exit 1; }
    local staging="v0${K8S_VERSION#v1}"
    grep -E '^\s*k8s.io/[^ ]+ => \./staging/' "$gomod" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@$staging"
    done
    go get "k8s.io/kubernetes@$K8S_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    cat > tools.go <<'GO'
//go:build tools
package tools
import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "go.etcd.io/etcd/server/v3"
)
GO
    go mod tidy -e >/dev/null 2>&1 || true
    local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
    local date; date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    local ld=""
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
    done
    mkdir -p out
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      echo "== $c"; go build -trimpath -ldflags "-s -w $ld" -o "out/$c" "k8s.io/kubernetes/cmd/$c"
    done
    echo "== etcd"; go build -trimpath -ldflags "-s -w" -o out/etcd go.etcd.io/etcd/server/v3
  ) >"$logf" 2>&1 || die "kubernetes build failed (is the Go module proxy reachable?); see $logf: $(tail -n 3 "$logf" | tr '\n' ' ')"
  finish "$work/out" "$dest"; rm -rf "$work"
  log "kubernetes $K8S_VERSION + etcd $ETCD_VERSION: built into $dest"
}

# build_tool NAME VERSION MODULE-PATH... : go install each package of one module into the cache.
build_tool() {
  local name="$1" version="$2"; shift 2
  local dest="$BIN/$name-$version"
  local bins=(); local p; for p in "$@"; do bins+=("${p##*/}"); done
  if verify "$dest" "${bins[@]}"; then log "$name $version: cached in $dest"; return; fi
  [ -d "$dest" ] && log "$name $version: cache entry is incomplete or corrupt, rebuilding"
  local work; work="$(mktemp -d "$CACHE/.build-$name.XXXXXX")"
  local logf="$LOGS/build-$name-$version.log"
  log "$name $version: building (a few minutes cold; log: $logf)"
  (
    set -euo pipefail
    mkdir -p "$work/out"
    for pkg in "$@"; do echo "== $pkg@$version"; GOBIN="$work/out" go install -trimpath -ldflags "-s -w" "$pkg@$version"; done
  ) >"$logf" 2>&1 || die "$name build failed (is the Go module proxy reachable?); see $logf: $(tail -n 3 "$logf" | tr '\n' ' ')"
  finish "$work/out" "$dest"; rm -rf "$work"
  log "$name $version: built into $dest"
}

what="${1:-all}"
case "$what" in
  k8s) build_k8s ;;
  kwok) build_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl ;;
  helm) build_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm ;;
  all)
    build_k8s
    build_tool kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
    build_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
    ;;
  *) die "unknown component '$what' (k8s|kwok|helm|all)" ;;
esac
