#!/usr/bin/env bash
# Check functions are called through run(), which ShellCheck cannot follow:
# shellcheck disable=SC2317
#
# deploy/check.sh: runs every check of deploy/ that this machine can run, and
# says which it had to skip and why. Exits non-zero when a check that ran
# failed; a skipped check is not a failure, but it is printed.
#
#   bash deploy/check.sh            # from anywhere in the repository
#   CHECK_STRICT=1 bash deploy/check.sh   # a skipped check fails the run too
#
# Tools: yamllint and ShellCheck are Debian packages
# (apt-get install yamllint shellcheck). Helm and kubeconform are Go modules,
# installed with `go install` into $TOOLS_DIR on first use (the Go module
# proxy serves them); deploy/manifestcheck is built from this repository.
# hadolint and a Docker daemon are not available here: the Dockerfile is only
# checked for the settings the chart relies on.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
chart="$here/helm/orderflow"
TOOLS_DIR="${TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/orderflow-deploy-tools}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
# Kubernetes version the rendered manifests are checked against.
KUBE_VERSION="${KUBE_VERSION:-1.33.0}"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

failed=()
skipped=()
passed=()

pass() { passed+=("$1"); echo "PASS  $1"; }
fail() { failed+=("$1"); echo "FAIL  $1"; }
skip() { skipped+=("$1: $2"); echo "SKIP  $1 ($2)"; }

# run NAME CMD...: runs a check, shows its output indented, records the result.
run() {
	local name="$1"
	shift
	echo "----  $name: $*"
	if "$@" >"$out/log" 2>&1; then
		sed 's/^/      /' "$out/log"
		pass "$name"
	else
		sed 's/^/      /' "$out/log"
		fail "$name"
	fi
}

# tool NAME MODULE VERSION: prints the path of NAME, installing it with
# `go install` when it is not on PATH; prints nothing when it cannot be had.
tool() {
	local name="$1" module="$2" version="$3"
	if command -v "$name" >/dev/null 2>&1; then
		command -v "$name"
		return
	fi
	if [[ -x "$TOOLS_DIR/bin/$name" ]]; then
		echo "$TOOLS_DIR/bin/$name"
		return
	fi
	command -v go >/dev/null 2>&1 || return 0
	mkdir -p "$TOOLS_DIR/bin"
	echo "      installing $module@$version into $TOOLS_DIR/bin (first run only)" >&2
	# Outside the repository, so orderflow's go.mod plays no part.
	if (cd "$TOOLS_DIR" && GOBIN="$TOOLS_DIR/bin" GOFLAGS="" go install "$module@$version") >"$TOOLS_DIR/$name-install.log" 2>&1; then
		echo "$TOOLS_DIR/bin/$name"
	else
		echo "      go install $module@$version failed; see $TOOLS_DIR/$name-install.log" >&2
	fi
}

# Value sets the chart is rendered with: the REQUIRED values alone, and every
# optional feature switched on.
value_sets=("$chart/ci/required-values.yaml" "$chart/ci/all-features-values.yaml")

# --- plain YAML (not templates) --------------------------------------------
if command -v yamllint >/dev/null 2>&1; then
	run "yamllint: chart values and metadata, Temporal cluster values" \
		yamllint -c "$here/.yamllint.yaml" "$chart/Chart.yaml" "$chart/values.yaml" "$chart/ci" \
		"$here/temporal-cluster/values.yaml"
else
	skip "yamllint" "not installed: apt-get install yamllint"
fi

# --- shell -----------------------------------------------------------------
run "bash -n: deploy/scaleout/run.sh" bash -n "$here/scaleout/run.sh"
if command -v shellcheck >/dev/null 2>&1; then
	run "shellcheck: deploy/check.sh" shellcheck "$here/check.sh"
	run "shellcheck: deploy/scaleout/run.sh" shellcheck "$here/scaleout/run.sh"
else
	skip "shellcheck" "not installed: apt-get install shellcheck"
fi

# --- Dockerfile ------------------------------------------------------------
# No hadolint here and no Docker daemon to build with: check the facts the
# chart depends on (static binary, non-root numeric user, entrypoint).
dockerfile_facts() {
	local f="$here/Dockerfile" ok=0
	grep -q '^FROM golang:1\.26 AS build' "$f" || { echo "builder is not golang:1.26"; ok=1; }
	grep -q 'CGO_ENABLED=0 go build -tags nodev -trimpath -ldflags="-s -w" -o /orderflow ./cmd/orderflow' "$f" || { echo "build line changed"; ok=1; }
	grep -q '^FROM gcr.io/distroless/static-debian12:nonroot' "$f" || { echo "runtime is not distroless static nonroot"; ok=1; }
	grep -q '^USER 65532:65532' "$f" || { echo "USER must be numeric 65532 (the chart's runAsUser)"; ok=1; }
	grep -q '^ENTRYPOINT \["/orderflow"\]' "$f" || { echo "ENTRYPOINT is not /orderflow"; ok=1; }
	[[ $ok -eq 0 ]] && echo "builder, build line, runtime, user and entrypoint as the chart expects"
	return "$ok"
}
run "Dockerfile: settings the chart relies on" dockerfile_facts
if command -v hadolint >/dev/null 2>&1; then
	run "hadolint: deploy/Dockerfile" hadolint "$here/Dockerfile"
else
	skip "hadolint" "not packaged in Debian or on the reachable registries"
fi
if docker info >/dev/null 2>&1; then
	run "docker build" docker build -f "$here/Dockerfile" -t orderflow:check "$repo"
else
	skip "docker build" "no Docker daemon on this machine"
fi

# --- Grafana dashboard -------------------------------------------------------
# deploy/grafana/orderflow-dashboard.json: valid JSON with title, uid,
# schemaVersion, panels and the ${datasource} variable; unique panel ids,
# each panel with a type, the datasource and targets; and every metric an
# expr reads is one orderflow registers. The check is a Go test in
# internal/metrics, so the list of metrics comes from the code itself.
if command -v go >/dev/null 2>&1; then
	dashboard_check() { (cd "$repo" && go test -count=1 -run 'TestGrafanaDashboard' ./internal/metrics/); }
	run "Grafana dashboard: JSON, panels and metric names" dashboard_check
else
	skip "Grafana dashboard" "go is not on PATH"
fi

# --- Helm chart --------------------------------------------------------------
helm="$(tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION")"
if [[ -n "$helm" ]]; then
	for values in "${value_sets[@]}"; do
		set_name="$(basename "$values" .yaml)"
		run "helm lint --strict ($set_name)" "$helm" lint --strict "$chart" -f "$values"
		render() { "$helm" template orderflow "$chart" -f "$1" --namespace orders --kube-version "$KUBE_VERSION" >"$2"; }
		run "helm template ($set_name)" render "$values" "$out/$set_name.rendered.yaml"
		# The rendered manifests are plain YAML: lint them too (duplicate
		# keys, indentation, syntax); helm does not catch duplicate keys.
		if command -v yamllint >/dev/null 2>&1; then
			run "yamllint: rendered manifests ($set_name)" \
				yamllint -c "$here/.yamllint-rendered.yaml" "$out/$set_name.rendered.yaml"
		fi
	done

	# The chart must refuse to render when a REQUIRED value is missing, and
	# say which.
	refuses() {
		local want="$1"
		shift
		if "$helm" template orderflow "$chart" -f "$chart/ci/required-values.yaml" \
			--kube-version "$KUBE_VERSION" "$@" >"$out/refused.log" 2>&1; then
			echo "rendered with $*: it must not"
			return 1
		fi
		grep -oF "$want" "$out/refused.log" | head -n 1 | grep . || { cat "$out/refused.log"; return 1; }
	}
	run "helm template refuses a missing Secret name" \
		refuses "secrets.existingSecret is required" --set secrets.existingSecret=
	run "helm template refuses a missing Temporal address" \
		refuses "temporal.address is required" --set temporal.address=
	run "helm template refuses a bad SMTP TLS mode" \
		refuses "config.smtp.tls must be none, starttls or tls" --set config.smtp.tls=ssl
	run "helm template refuses invoices without the seller's name" \
		refuses "config.seller.name is required" --set config.seller.name=

	# NOTES.txt is what an operator reads after an install, and `helm
	# template` does not render it: render it through tpl in a copy of the
	# chart, and check it tells how to register the search attributes.
	notes() {
		local copy="$out/notes-chart"
		rm -rf "$copy" && mkdir -p "$copy" && cp -r "$chart" "$copy/" || return 1
		cp "$chart/templates/NOTES.txt" "$copy/orderflow/notes.txt"
		printf '%s\n' 'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}' >"$copy/orderflow/templates/notes-check.yaml"
		"$helm" template orderflow "$copy/orderflow" -f "$chart/ci/required-values.yaml" \
			--kube-version "$KUBE_VERSION" --namespace orders --show-only templates/notes-check.yaml >"$out/notes.yaml" || return 1
		grep -q 'temporal operator search-attribute create' "$out/notes.yaml" &&
			grep -q -- '--name PONumber --type Keyword' "$out/notes.yaml" &&
			echo "renders, with the search-attribute command"
	}
	run "NOTES.txt renders" notes

	# What each value set renders, as a list of kinds and names: a quick look
	# that every expected object is there.
	expect_objects() {
		local file="$1"
		shift
		local want missing=0
		for want in "$@"; do
			if ! grep -A4 "^kind: ${want%%/*}\$" "$file" | grep -q "name: ${want#*/}\$"; then
				echo "missing $want"
				missing=1
			fi
		done
		[[ $missing -eq 0 ]] && echo "all of: $*"
		return "$missing"
	}
	run "rendered objects (required-values)" expect_objects "$out/required-values.rendered.yaml" \
		ConfigMap/orderflow-config Deployment/orderflow-api Deployment/orderflow-worker \
		Service/orderflow-api Service/orderflow-worker-metrics \
		PodDisruptionBudget/orderflow-api PodDisruptionBudget/orderflow-worker Job/orderflow-migrate
	run "rendered objects (all-features-values)" expect_objects "$out/all-features-values.rendered.yaml" \
		Ingress/orderflow ServiceMonitor/orderflow-api ServiceMonitor/orderflow-worker \
		Job/orderflow-search-attributes Job/orderflow-migrate

	# --- schema and reference checks of the rendered manifests --------------
	# manifestcheck decodes every object strictly into the Kubernetes API's Go
	# types (unknown, misspelt or duplicate fields and wrong types fail) and
	# checks the links between objects; see deploy/manifestcheck/main.go.
	if command -v go >/dev/null 2>&1 &&
		(cd "$here/manifestcheck" && go build -o "$out/manifestcheck" .) >"$out/build.log" 2>&1; then
		for values in "${value_sets[@]}"; do
			set_name="$(basename "$values" .yaml)"
			run "manifestcheck ($set_name)" "$out/manifestcheck" "$out/$set_name.rendered.yaml"
		done

		# The checks above must be able to fail: render known mistakes and
		# expect each to be caught.
		rejects() {
			local want="$1"
			shift
			"$helm" template orderflow "$chart" -f "$chart/ci/required-values.yaml" \
				--kube-version "$KUBE_VERSION" "$@" >"$out/broken.yaml" || return 1
			if "$out/manifestcheck" "$out/broken.yaml" >"$out/broken.log" 2>&1; then
				echo "manifestcheck accepted a render with $*"
				return 1
			fi
			grep -F "$want" "$out/broken.log" || { cat "$out/broken.log"; return 1; }
		}
		run "manifestcheck rejects a misspelt field" \
			rejects 'unknown field "spec.template.spec.containers[0].readinessProbe.httpGet.prot"' \
			--set api.readinessProbe.httpGet.prot=http
		run "manifestcheck rejects a probe on an undeclared port" \
			rejects 'liveness probe uses port "metrix"' \
			--set worker.livenessProbe.tcpSocket.port=metrix
		run "manifestcheck rejects a writable root filesystem" \
			rejects 'readOnlyRootFilesystem is not true' \
			--set securityContext.readOnlyRootFilesystem=false
	else
		sed 's/^/      /' "$out/build.log" 2>/dev/null
		skip "manifestcheck" "go is missing or deploy/manifestcheck does not build"
	fi

	# kubeconform validates against the published JSON schemas of the
	# Kubernetes API. They are downloaded on use, and this machine has no
	# network, so it runs only when told where a copy is:
	#   KUBECONFORM_SCHEMA_LOCATION=default            (fetch them; needs network)
	#   KUBECONFORM_SCHEMA_LOCATION=/path/to/schemas/{{.NormalizedKubernetesVersion}}-standalone-strict/{{.ResourceKind}}{{.KindSuffix}}.json
	if [[ -n "${KUBECONFORM_SCHEMA_LOCATION:-}" ]]; then
		kubeconform="$(tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")"
		if [[ -z "$kubeconform" ]]; then
			skip "kubeconform" "could not be installed with go install"
		else
			for values in "${value_sets[@]}"; do
				set_name="$(basename "$values" .yaml)"
				# ServiceMonitor has no schema there: -ignore-missing-schemas skips it.
				run "kubeconform ($set_name)" "$kubeconform" -strict -summary -ignore-missing-schemas \
					-kubernetes-version "$KUBE_VERSION" -schema-location "$KUBECONFORM_SCHEMA_LOCATION" \
					"$out/$set_name.rendered.yaml"
			done
		fi
	else
		skip "kubeconform" "its schemas must be downloaded and there is no network; set KUBECONFORM_SCHEMA_LOCATION to run it"
	fi
else
	skip "helm lint / helm template / manifestcheck / kubeconform" "helm is not on PATH and go install $HELM_VERSION failed"
fi

echo
echo "passed: ${#passed[@]}  failed: ${#failed[@]}  skipped: ${#skipped[@]}"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
for f in "${failed[@]}"; do echo "  failed:  $f"; done
if [[ ${#failed[@]} -gt 0 ]]; then
	exit 1
fi
if [[ -n "${CHECK_STRICT:-}" && ${#skipped[@]} -gt 0 ]]; then
	echo "CHECK_STRICT is set and some checks were skipped"
	exit 1
fi
exit 0
