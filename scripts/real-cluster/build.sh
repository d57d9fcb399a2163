#!/usr/bin/env bash
# Builds the REAL Kubernetes components used by rollout-medic's real-cluster
# end-to-end tier, from the Go module proxy only:
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok,
#   rollouts-controller (Argo Rollouts)
#
# Each component is built in its own throw-away "wrapper" Go module under the
# cache folder. A wrapper requires the upstream module at a pinned version and
# reproduces the upstream go.mod's replace directives: replaces that point at a
# local ./staging/src/k8s.io/<m> folder (k8s.io/kubernetes) are rewritten to
# the published k8s.io/<m> v0.X.Y module; replaces that point at a published
# module (argo-rollouts) are copied verbatim; other local-path replaces (etcd's
# ../api siblings, FORBIDDEN_DEPENDENCY guards) are dropped because the
# siblings are already required at the same version. The wrapper also mirrors
# the upstream `godebug default=` (or `go` line), so the binaries get the same
# GODEBUG defaults as upstream's own builds.
#
# Output goes to a cache folder OUTSIDE the repository, keyed by versions:
#   ${ROLLOUT_MEDIC_REAL_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-medic/real-cluster}/<key>/
#     bin/          the six binaries
#     crds/argo-rollouts/*.yaml   Argo Rollouts CRDs (manifests/crds of the module)
#     crds/kwok/*.yaml            kwok CRDs (kustomize/crd/bases of the module)
#     kwok-stages/**.yaml         kwok's stock stages (kustomize/stage of the module)
#     mod/<component>/            wrapper modules (go.mod / go.sum)
#     logs/<component>.log        build logs
#     versions.env                pinned versions and measured build time
#
# A second run with a warm cache only checks that each binary runs and prints
# the expected version (a few seconds). The last stdout line is the bin folder.
#
# Usage: scripts/real-cluster/build.sh [--check]
#   --check   do not build; exit 4 when the cache is not complete
# Exit codes: 0 ok, 1 build/verification failure, 3 no usable Go toolchain
#             (callers skip the tier), 4 (--check only) cache not built.
#
# Module downloads use the Go module proxy; GOMODCACHE and GOCACHE keep their
# defaults (outside the repository) so a rebuild reuses them.
set -euo pipefail

# ---- pinned versions ---------------------------------------------------------
KUBE_VERSION="1.34.4"        # k8s.io/kubernetes v1.34.4, staging modules v0.34.4
ETCD_VERSION="3.6.16"        # go.etcd.io/etcd/server/v3
KWOK_VERSION="0.8.0"         # sigs.k8s.io/kwok (go 1.26.0, k8s libs 0.36.1)
ROLLOUTS_VERSION="1.9.2"     # github.com/argoproj/argo-rollouts (v1.9.3 needs go >= 1.26.10)
MIN_GO_VERSION="1.26.0"      # etcd 3.6.16 and kwok 0.8.0 declare `go 1.26.0`
RECIPE_REVISION="1"          # bump when the build recipe changes (new cache key)
# -----------------------------------------------------------------------------

MODE="build"
case "${1:-}" in
  "") ;;
  --check) MODE="check" ;;
  -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

log() { echo "[real-cluster] $*" >&2; }
die() { echo "[real-cluster] ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

T_START="$(now)"

case "$(uname -m)" in
  x86_64|amd64) ARCH="amd64" ;;
  aarch64|arm64) ARCH="arm64" ;;
  *) ARCH="$(uname -m)" ;;
esac
OS="$(uname -s | tr '[:upper:]' '[:lower:]')"

KEY="k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_rollouts-${ROLLOUTS_VERSION}_${OS}-${ARCH}_r${RECIPE_REVISION}"
CACHE_BASE="${ROLLOUT_MEDIC_REAL_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rollout-medic/real-cluster}"
ROOT="${CACHE_BASE%/}/${KEY}"
BIN="${ROOT}/bin"

# Never build inside the repository.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd -P)"
ROOT_REAL="$(realpath -m "${ROOT}" 2>/dev/null || echo "${ROOT}")"
case "${ROOT_REAL}/" in
  "${REPO_ROOT}/"*) die "cache folder ${ROOT_REAL} is inside the repository ${REPO_ROOT}; set ROLLOUT_MEDIC_REAL_CLUSTER_CACHE elsewhere" ;;
esac
mkdir -p "${ROOT}"

# One build at a time per cache key.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${ROOT}/.lock"
  if ! flock -n 9; then
    log "another build holds ${ROOT}/.lock; waiting for it"
    flock 9
  fi
fi

# ---- expected versions / verification ----------------------------------------
KUBE_MINOR="$(echo "${KUBE_VERSION}" | cut -d. -f2)"
STAGING_VERSION="v0.${KUBE_VERSION#1.}"

# component -> binaries
COMPONENTS=(etcd kwok kubernetes rollouts)
bins_of() {
  case "$1" in
    etcd) echo "etcd" ;;
    kubernetes) echo "kube-apiserver kube-controller-manager kube-scheduler" ;;
    kwok) echo "kwok" ;;
    rollouts) echo "rollouts-controller" ;;
  esac
}
# binary -> fixed string its --version output must contain
expected_version_of() {
  case "$1" in
    etcd) echo "etcd Version: ${ETCD_VERSION}" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler) echo "Kubernetes v${KUBE_VERSION}" ;;
    kwok) echo "kwok version v${KWOK_VERSION} " ;;
    rollouts-controller) echo "v${ROLLOUTS_VERSION}" ;;
  esac
}
version_line() { # binary path -> first line of `--version`
  timeout 60 "$1" --version 2>&1 | head -n 1 || true
}
binary_ok() { # name [dir]
  local dir="${2:-$BIN}" out
  [ -x "${dir}/$1" ] || return 1
  out="$(timeout 60 "${dir}/$1" --version 2>&1 || true)"
  grep -qF -- "$(expected_version_of "$1")" <<<"${out}"
}
component_ok() {
  local b
  for b in $(bins_of "$1"); do binary_ok "$b" || return 1; done
}
assets_ok() {
  compgen -G "${ROOT}/crds/argo-rollouts/*.yaml" >/dev/null &&
    compgen -G "${ROOT}/crds/kwok/*.yaml" >/dev/null &&
    [ -f "${ROOT}/kwok-stages/node/fast/node-initialize.yaml" ]
}

print_summary() {
  local b
  echo "real-cluster components (cache key ${KEY}):"
  for c in "${COMPONENTS[@]}"; do
    for b in $(bins_of "$c"); do
      printf '  %-24s %s\n' "$b" "$(version_line "${BIN}/$b")"
    done
  done
  echo "  crds:                    ${ROOT}/crds"
  echo "  kwok stages:             ${ROOT}/kwok-stages"
}

# ---- warm path -----------------------------------------------------------------
MISSING=()
for c in "${COMPONENTS[@]}"; do
  component_ok "$c" || MISSING+=("$c")
done
if [ "${#MISSING[@]}" -eq 0 ] && assets_ok; then
  print_summary
  echo "warm cache: all components present and verified in $(elapsed "${T_START}")s"
  if [ -f "${ROOT}/versions.env" ]; then
    grep -E '^COLD_BUILD_SECONDS=' "${ROOT}/versions.env" | sed 's/^COLD_BUILD_SECONDS=/  (cold build of this key took /; s/$/s)/' || true
  fi
  echo "${BIN}"
  exit 0
fi

if [ "${MODE}" = "check" ]; then
  echo "[real-cluster] cache ${ROOT} is incomplete (missing: ${MISSING[*]:-assets}); run scripts/real-cluster/build.sh" >&2
  exit 4
fi

# ---- Go toolchain --------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  echo "[real-cluster] 'go' not found on PATH: cannot build the real-cluster binaries (need Go >= ${MIN_GO_VERSION}); skipping this tier" >&2
  exit 3
fi
export GOFLAGS="-mod=mod" GOTOOLCHAIN="local" CGO_ENABLED="0" GOWORK="off"
GO_VERSION="$(go env GOVERSION 2>/dev/null || true)"
GO_VERSION_NUM="${GO_VERSION#go}"
GO_VERSION_NUM="${GO_VERSION_NUM%%[!0-9.]*}"
if [ -z "${GO_VERSION_NUM}" ] || [ "$(printf '%s\n%s\n' "${MIN_GO_VERSION}" "${GO_VERSION_NUM}" | sort -V | head -n 1)" != "${MIN_GO_VERSION}" ]; then
  echo "[real-cluster] Go ${GO_VERSION:-unknown} is older than the required ${MIN_GO_VERSION}: cannot build the real-cluster binaries; skipping this tier" >&2
  exit 3
fi
for m in "$(go env GOMODCACHE)" "$(go env GOCACHE)"; do
  case "$(mkdir -p "$m" && cd "$m" && pwd -P)/" in
    "${REPO_ROOT}/"*) die "GOMODCACHE/GOCACHE ($m) must not be inside the repository" ;;
  esac
done

log "cold build into ${ROOT} (missing: ${MISSING[*]:-assets only}); ${GO_VERSION}, GOMODCACHE=$(go env GOMODCACHE), GOCACHE=$(go env GOCACHE)"
mkdir -p "${BIN}" "${ROOT}/mod" "${ROOT}/logs"

# GoMod file of module@version (downloads the module into GOMODCACHE).
gomod_file() {
  local f
  f="$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
  [ -n "$f" ] && [ -f "$f" ] || die "cannot download $1 from the module proxy"
  echo "$f"
}

# Replace directives of a go.mod file, one per line as `old [oldver] => new [newver]`.
replace_lines() {
  awk '
    { sub(/\/\/.*/, "") }
    /^replace[[:space:]]*\(/ { inblock = 1; next }
    inblock && /^[[:space:]]*\)/ { inblock = 0; next }
    /^replace[[:space:]]+[^([:space:]]/ { sub(/^replace[[:space:]]+/, ""); if (NF) print; next }
    inblock && NF { print }
  ' "$1"
}

# Mirrors upstream replace directives into the wrapper in the current folder.
mirror_replaces() { # upstream go.mod, staging version ("" = none)
  local modfile="$1" staging="$2" line old oldv new newv args=()
  while IFS= read -r line; do
    # shellcheck disable=SC2086
    set -- $line
    if [ "${2:-}" = "=>" ]; then old="$1"; oldv=""; new="${3:-}"; newv="${4:-}"
    elif [ "${3:-}" = "=>" ]; then old="$1"; oldv="$2"; new="${4:-}"; newv="${5:-}"
    else die "cannot parse replace directive '${line}' in ${modfile}"; fi
    case "${new}" in
      ./*|../*|/*)
        if [[ "${old}" == k8s.io/* && -n "${staging}" ]]; then
          args+=("-replace=${old}=${old}@${staging}")
        fi # other local-path replaces cannot (and need not) be reproduced
        ;;
      *)
        [ -n "${newv}" ] || die "replace '${line}' has no version"
        args+=("-replace=${old}${oldv:+@${oldv}}=${new}@${newv}")
        ;;
    esac
  done < <(replace_lines "${modfile}")
  if [ "${#args[@]}" -gt 0 ]; then go mod edit "${args[@]}"; fi
  echo "${#args[@]}"
}

# `godebug default=` of the upstream module, else its language version.
godebug_default() {
  local d
  d="$(sed -n 's/^godebug[[:space:]]\{1,\}default=\([^[:space:]]*\).*/\1/p' "$1" | head -n 1)"
  if [ -z "$d" ]; then
    d="go$(sed -n 's/^go[[:space:]]\{1,\}\([0-9]\{1,\}\.[0-9]\{1,\}\).*/\1/p' "$1" | head -n 1)"
  fi
  echo "$d"
}

# build_component <name> <module> <version> <staging version or ""> <ldflags> <pkg>...
build_component() {
  local name="$1" module="$2" version="$3" staging="$4" ldflags="$5"
  shift 5
  local t0 dir modfile n pkg tools=() tmpbin b
  t0="$(now)"
  dir="${ROOT}/mod/${name}"
  log "[${name}] ${module}@${version}: preparing wrapper module ${dir}"
  rm -rf "${dir}"
  mkdir -p "${dir}"
  if ! (
    cd "${dir}"
    go mod init "rollout-medic.local/real-cluster/${name}" >/dev/null 2>&1
    modfile="$(gomod_file "${module}@${version}")"
    n="$(mirror_replaces "${modfile}" "${staging}")"
    go mod edit -godebug="default=$(godebug_default "${modfile}")"
    log "[${name}] mirrored ${n} replace directive(s), godebug default=$(godebug_default "${modfile}")"
    for pkg in "$@"; do tools+=("${pkg}@${version}"); done
    go get -tool "${tools[@]}"
    tmpbin="${ROOT}/bin.tmp.${name}"
    rm -rf "${tmpbin}"
    mkdir -p "${tmpbin}"
    log "[${name}] go build $* (this is the slow part)"
    # One package: name the output explicitly (go.etcd.io/etcd/server/v3 would be "server").
    if [ "$#" -eq 1 ]; then
      go build -trimpath -ldflags "${ldflags}" -o "${tmpbin}/$(bins_of "${name}")" "$1"
    else
      go build -trimpath -ldflags "${ldflags}" -o "${tmpbin}/" "$@"
    fi
    for b in $(bins_of "${name}"); do
      [ -x "${tmpbin}/${b}" ] || die "[${name}] ${b} was not produced"
      binary_ok "${b}" "${tmpbin}" || die "[${name}] ${b} --version printed '$(version_line "${tmpbin}/${b}")', expected '$(expected_version_of "${b}")'"
      mv -f "${tmpbin}/${b}" "${BIN}/${b}"
    done
    rm -rf "${tmpbin}"
  ) 2>&1 | tee "${ROOT}/logs/${name}.log" >&2; then
    die "[${name}] build failed; see ${ROOT}/logs/${name}.log"
  fi
  component_ok "${name}" || die "[${name}] verification failed; see ${ROOT}/logs/${name}.log"
  log "[${name}] built and verified in $(elapsed "${t0}")s"
  echo "${name}=$(elapsed "${t0}")" >>"${ROOT}/logs/durations"
}

BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
K8S_LDFLAGS="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_LDFLAGS+=" -X ${p}.gitVersion=v${KUBE_VERSION} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${KUBE_MINOR}"
  K8S_LDFLAGS+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=${BUILD_DATE}"
done
RO_PKG="github.com/argoproj/argo-rollouts/utils/version"
RO_LDFLAGS="-s -w -X ${RO_PKG}.version=${ROLLOUTS_VERSION} -X ${RO_PKG}.gitTag=v${ROLLOUTS_VERSION}"
RO_LDFLAGS+=" -X ${RO_PKG}.gitCommit=module-proxy -X ${RO_PKG}.gitTreeState=clean -X ${RO_PKG}.buildDate=${BUILD_DATE}"

: >"${ROOT}/logs/durations"
for c in "${MISSING[@]}"; do
  case "$c" in
    etcd)
      build_component etcd go.etcd.io/etcd/server/v3 "v${ETCD_VERSION}" "" "-s -w" \
        go.etcd.io/etcd/server/v3 ;;
    kubernetes)
      build_component kubernetes k8s.io/kubernetes "v${KUBE_VERSION}" "${STAGING_VERSION}" "${K8S_LDFLAGS}" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler ;;
    kwok)
      build_component kwok sigs.k8s.io/kwok "v${KWOK_VERSION}" "" \
        "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}" sigs.k8s.io/kwok/cmd/kwok ;;
    rollouts)
      build_component rollouts github.com/argoproj/argo-rollouts "v${ROLLOUTS_VERSION}" "" "${RO_LDFLAGS}" \
        github.com/argoproj/argo-rollouts/cmd/rollouts-controller ;;
  esac
done

# ---- manifests from the module cache ---------------------------------------------
module_dir() { # wrapper name, module path
  (cd "${ROOT}/mod/$1" 2>/dev/null && go list -m -f '{{.Dir}}' "$2" 2>/dev/null) || true
}
ensure_wrapper_for_assets() { # wrapper name, module, version
  if [ ! -f "${ROOT}/mod/$1/go.mod" ]; then
    mkdir -p "${ROOT}/mod/$1"
    (cd "${ROOT}/mod/$1" && go mod init "rollout-medic.local/real-cluster/$1" >/dev/null 2>&1 &&
      go mod edit -require="$2@$3" && go mod download "$2") >&2
  fi
}
ensure_wrapper_for_assets rollouts github.com/argoproj/argo-rollouts "v${ROLLOUTS_VERSION}"
ensure_wrapper_for_assets kwok sigs.k8s.io/kwok "v${KWOK_VERSION}"
RO_DIR="$(module_dir rollouts github.com/argoproj/argo-rollouts)"
KWOK_DIR="$(module_dir kwok sigs.k8s.io/kwok)"
[ -d "${RO_DIR}/manifests/crds" ] || die "argo-rollouts module folder not found (${RO_DIR:-?})"
[ -d "${KWOK_DIR}/kustomize/crd/bases" ] || die "kwok module folder not found (${KWOK_DIR:-?})"
rm -rf "${ROOT}/crds" "${ROOT}/kwok-stages"
mkdir -p "${ROOT}/crds/argo-rollouts" "${ROOT}/crds/kwok" "${ROOT}/kwok-stages"
find "${RO_DIR}/manifests/crds" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -exec cp {} "${ROOT}/crds/argo-rollouts/" \;
cp "${KWOK_DIR}"/kustomize/crd/bases/*.yaml "${ROOT}/crds/kwok/"
(
  cd "${KWOK_DIR}/kustomize/stage"
  find . -name '*.yaml' ! -name kustomization.yaml ! -path '*/testdata/*' -print | while IFS= read -r f; do
    mkdir -p "${ROOT}/kwok-stages/$(dirname "$f")"
    cp "$f" "${ROOT}/kwok-stages/$f"
  done
)
chmod -R u+w "${ROOT}/crds" "${ROOT}/kwok-stages"
assets_ok || die "CRDs / kwok stages were not copied"

TOTAL="$(elapsed "${T_START}")"
{
  echo "KUBE_VERSION=${KUBE_VERSION}"
  echo "ETCD_VERSION=${ETCD_VERSION}"
  echo "KWOK_VERSION=${KWOK_VERSION}"
  echo "ROLLOUTS_VERSION=${ROLLOUTS_VERSION}"
  echo "GO_VERSION=${GO_VERSION}"
  echo "BUILT_AT=${BUILD_DATE}"
  echo "BUILT_COMPONENTS=${MISSING[*]:-}"
  echo "COLD_BUILD_SECONDS=${TOTAL}"
  sed 's/^/BUILD_SECONDS_/' "${ROOT}/logs/durations"
} >"${ROOT}/versions.env"

print_summary
echo "cold build: built ${MISSING[*]:-assets} in ${TOTAL}s ($(tr '\n' ' ' <"${ROOT}/logs/durations"))"
echo "${BIN}"
