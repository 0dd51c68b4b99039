#!/usr/bin/env bash
# deploy/scaleout/run.sh: the production shape as separate processes, under
# load, with a worker killed mid-run.
#
# Starts a Temporal server (the official one, go.temporal.io/server
# v1.32.1, with PostgreSQL persistence), then per phase a fresh orderflow
# database, `orderflow migrate --seed-demo`, `orderflow sim` (ERP, carrier,
# bank, mail sink), `orderflow api` and the phase's workers, and drives
# ORDERS orders from quote to cash through the API with `orderflow bench
# -api`. Phases:
#
#   kill   2 workers; worker 1 gets `kill -9` once KILL_AFTER orders are
#          COMPLETED in the orders table (it stays dead; worker 2 finishes)
#   two    2 workers, nobody killed   (throughput)
#   one    1 worker                   (throughput)
#
# After each phase it asserts: bench completed every order; the orders
# table holds exactly ORDERS orders, all COMPLETED; and every simulator
# holds exactly one effect per idempotency key (ERP sales orders and
# invoices, carrier shipments, bank payments and transfers, the mail sink's
# Message-IDs, the simulators' webhook outbox). Exits non-zero when a check
# fails. Prints a summary, also written to $WORK/summary.txt.
#
#   bash deploy/scaleout/run.sh                      # all three phases
#   PHASES=kill bash deploy/scaleout/run.sh          # only the kill -9 proof
#   ORDERS=100 CONCURRENCY=20 KILL_AFTER=30 KEEP=1 bash deploy/scaleout/run.sh
#
# Needs Go, psql, curl, jq and ss, and PostgreSQL at PGHOST:PGPORT (user
# PGUSER, no password). Everything it starts runs on free loopback ports
# under a temporary directory; its databases are named
# scaleout_<random>_* and dropped at the end (KEEP=1 keeps them and the
# directory). The Temporal server and its schema tool are installed with
# `go install` into TEMPORAL_BIN (default .data/scaleout/bin in the
# repository) on first use: about 10 minutes cold on 2 busy cores, a minute
# with a warm module cache. docs/benchmarks.md ("Scale-out: separate
# processes, Temporal on PostgreSQL") has the results of a run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

ORDERS="${ORDERS:-100}"
CONCURRENCY="${CONCURRENCY:-20}"
KILL_AFTER="${KILL_AFTER:-30}"
PHASES="${PHASES:-kill two one}"
STAGE_TIMEOUT="${STAGE_TIMEOUT:-5m}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
TEMPORAL_VERSION="v1.32.1"
TEMPORAL_BIN="${TEMPORAL_BIN:-$repo/.data/scaleout/bin}"
KEEP="${KEEP:-}"
export PGHOST PGPORT PGUSER

for tool in go psql curl jq ss; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is not on PATH" >&2; exit 2; }
done
if (( KILL_AFTER >= ORDERS )); then
	echo "run.sh: KILL_AFTER ($KILL_AFTER) must be below ORDERS ($ORDERS): the kill must come mid-run" >&2
	exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/orderflow-scaleout.XXXXXX")"
prefix="scaleout_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
pids=()
databases=()

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

cleanup() {
	local rc=$? pid db
	set +e
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for _ in $(seq 1 50); do
		local alive=0
		for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		(( alive )) || break
		sleep 0.2
	done
	for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	wait 2>/dev/null
	if [[ -n "$KEEP" ]]; then
		log "KEEP is set: kept $WORK and the databases ${databases[*]}"
	else
		for db in "${databases[@]}"; do
			psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
				log "could not drop database $db"
		done
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback TCP port nobody listens on and this run has
# not handed out yet, below 32768: Temporal keeps its membership ports in a
# smallint column, and Linux hands out ephemeral ports from 32768 up.
taken=" "
free_port() {
	local p
	while :; do
		p=$(( 20000 + RANDOM % 12768 ))
		[[ "$taken" == *" $p "* ]] && continue
		[[ -z "$(ss -Htln "sport = :$p")" ]] || continue
		taken+="$p "
		echo "$p"
		return
	done
}

# start NAME CMD...: runs CMD in the background with its output in
# $WORK/logs/NAME.log and remembers its pid; sets started_pid.
started_pid=""
start() {
	local name="$1"
	shift
	"$@" >"$WORK/logs/$name.log" 2>&1 &
	started_pid=$!
	pids+=("$started_pid")
}

# wait_for WHAT PID SECONDS CMD...: waits until CMD succeeds; fails when
# PID exits first or time runs out.
wait_for() {
	local what="$1" pid="$2" secs="$3"
	shift 3
	local deadline=$(( SECONDS + secs ))
	until "$@" >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || die "$what exited while starting; see $WORK/logs"
		(( SECONDS < deadline )) || die "$what not ready after ${secs}s; see $WORK/logs"
		sleep 0.5
	done
}

sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

mkdir -p "$WORK/logs" "$WORK/bin"
log "work directory $WORK, databases ${prefix}_*"

# --- binaries ------------------------------------------------------------------
# The processes run the production build (-tags nodev, as deploy/Dockerfile
# builds it); bench lives only in the dev build, which embeds Temporal.
log "building orderflow (production build, and the dev build for bench)"
(cd "$repo" && go build -tags nodev -o "$WORK/bin/orderflow" ./cmd/orderflow)
(cd "$repo" && go build -o "$WORK/bin/orderflow-bench" ./cmd/orderflow)
if [[ ! -x "$TEMPORAL_BIN/server" || ! -x "$TEMPORAL_BIN/sql" ]]; then
	log "installing the Temporal server and its schema tool $TEMPORAL_VERSION into $TEMPORAL_BIN (cold: ~10 minutes)"
	mkdir -p "$TEMPORAL_BIN"
	# Outside the repository, so orderflow's go.mod plays no part.
	(cd "$WORK" && GOBIN="$TEMPORAL_BIN" GOFLAGS="" go install \
		"go.temporal.io/server/cmd/server@$TEMPORAL_VERSION" \
		"go.temporal.io/server/cmd/tools/sql@$TEMPORAL_VERSION")
fi
temporal_mod="$(cd "$WORK" && GOFLAGS="" go mod download -json "go.temporal.io/server@$TEMPORAL_VERSION" | jq -r .Dir)"
[[ -d "$temporal_mod/schema/postgresql/v12" ]] || die "no PostgreSQL schema in $temporal_mod"
of="$WORK/bin/orderflow"

# --- Temporal on PostgreSQL ------------------------------------------------------
tdb="${prefix}_temporal"
vdb="${prefix}_visibility"
databases+=("$tdb" "$vdb")
schema_tool() { "$TEMPORAL_BIN/sql" --plugin postgres12 --ep "$PGHOST" -p "$PGPORT" -u "$PGUSER" "$@"; }
for pair in "$tdb:temporal" "$vdb:visibility"; do
	db="${pair%%:*}" dir="${pair#*:}"
	log "Temporal schema: $db ($dir)"
	{
		schema_tool --db "$db" create-database
		schema_tool --db "$db" setup-schema -v 0.0
		schema_tool --db "$db" update-schema -d "$temporal_mod/schema/postgresql/v12/$dir/versioned"
	} >>"$WORK/logs/temporal-schema.log" 2>&1 || die "Temporal schema setup of $db failed; see $WORK/logs/temporal-schema.log"
done

fe=$(free_port) fe_http=$(free_port) hist=$(free_port) match=$(free_port) tworker=$(free_port)
fe_m=$(free_port) hist_m=$(free_port) match_m=$(free_port) tworker_m=$(free_port) tmetrics=$(free_port)
mkdir -p "$WORK/temporal/config/dynamicconfig"
# The module's config/development-postgres12.yaml with this run's user,
# databases and ports; no archival, no pprof.
cat >"$WORK/temporal/config/scaleout.yaml" <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: "postgres12"
        databaseName: "$tdb"
        connectAddr: "$PGHOST:$PGPORT"
        connectProtocol: "tcp"
        user: "$PGUSER"
        password: ""
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: "1h"
    postgres-visibility:
      sql:
        pluginName: "postgres12"
        databaseName: "$vdb"
        connectAddr: "$PGHOST:$PGPORT"
        connectProtocol: "tcp"
        user: "$PGUSER"
        password: ""
        maxConns: 2
        maxIdleConns: 2
        maxConnLifetime: "1h"
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:$tmetrics"
services:
  frontend:
    rpc: {grpcPort: $fe, membershipPort: $fe_m, bindOnLocalHost: true, httpPort: $fe_http}
  matching:
    rpc: {grpcPort: $match, membershipPort: $match_m, bindOnLocalHost: true}
  history:
    rpc: {grpcPort: $hist, membershipPort: $hist_m, bindOnLocalHost: true}
  worker:
    rpc: {grpcPort: $tworker, membershipPort: $tworker_m, bindOnLocalHost: true}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:$fe"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "$WORK/temporal/config/dynamicconfig/scaleout.yaml"
  pollInterval: "10s"
EOF
# As orderflow's embedded dev server: the API's order listing and bench's
# polling share the visibility rate limit, whose default is 10/s.
cat >"$WORK/temporal/config/dynamicconfig/scaleout.yaml" <<EOF
limit.maxIDLength:
  - value: 255
frontend.namespaceRPS.visibility:
  - value: 100
EOF
log "starting Temporal (frontend 127.0.0.1:$fe)"
start temporal "$TEMPORAL_BIN/server" --root "$WORK/temporal" --config config --env scaleout --allow-no-auth start
temporal_pid=$started_pid
export TEMPORAL_ADDRESS="127.0.0.1:$fe" TEMPORAL_NAMESPACE="default"
# temporal-setup registers the namespace and the search attributes; it fails
# until the frontend answers.
wait_for "Temporal" "$temporal_pid" 180 "$of" temporal-setup -retention 24h
log "Temporal ready: namespace default with orderflow's search attributes"

# --- phases ------------------------------------------------------------------------
summary=()
failures=0

# check NAME SQL_RESULT WANT: records one assertion of the phase.
check() {
	local name="$1" got="$2" want="$3"
	if [[ "$got" == "$want" ]]; then
		echo "  ok    $name ($got)" >>"$phase_checks"
	else
		echo "  FAIL  $name: got $got, want $want" >>"$phase_checks"
		failures=$(( failures + 1 ))
	fi
}

# one_per_key DB TABLE ID_COLUMN ORDER_COLUMN KEYS_TABLE KEY_REGEX ANSWER_FIELD [WHERE]:
# the effects in TABLE (rows matching WHERE) are exactly one per order, and
# each is the answer of exactly one idempotency key matching KEY_REGEX
# (keys are <order id>/<step>..., activities.Key), every such key answered
# 2xx, one such key per order.
one_per_key() {
	local db="$1" table="$2" idcol="$3" ordercol="$4" keys="$5" pattern="$6" field="$7" where="${8:-true}"
	local label="$table: one per order and per key ~ '$pattern'"
	check "$label: effects" "$(sql "$db" "SELECT count(*) FROM $table WHERE $where")" "$ORDERS"
	check "$label: orders with other than one" "$(sql "$db" "
		SELECT count(*) FROM (SELECT 1 FROM $table WHERE $where GROUP BY $ordercol HAVING count(*) <> 1) d")" 0
	check "$label: keys" "$(sql "$db" "SELECT count(*) FROM $keys WHERE key ~ '$pattern'")" "$ORDERS"
	check "$label: keys not answered 2xx" "$(sql "$db" "
		SELECT count(*) FROM $keys WHERE key ~ '$pattern' AND (status IS NULL OR status NOT BETWEEN 200 AND 299)")" 0
	check "$label: effects named by exactly one key of their order" "$(sql "$db" "
		SELECT count(*) FROM $table t WHERE $where AND (
			SELECT count(*) FROM $keys k WHERE k.key ~ '$pattern'
			AND convert_from(k.answer, 'UTF8')::jsonb->>'$field' = t.$idcol
			AND split_part(k.key, '/', 1) = t.$ordercol) = 1")" "$ORDERS"
}

run_phase() {
	local phase="$1" workers="$2" kill_one="$3"
	local db="${prefix}_${phase}"
	databases+=("$db")
	phase_checks="$WORK/$phase.checks"
	: >"$phase_checks"
	local api erp carrier bank mail smtp
	api=$(free_port) erp=$(free_port) carrier=$(free_port) bank=$(free_port) mail=$(free_port) smtp=$(free_port)
	local dburl="postgres://$PGUSER@$PGHOST:$PGPORT/$db?sslmode=disable"
	# Each phase its own namespace: a workflow of an earlier phase that is
	# still open (a mail activity retried after the kill) must not reach
	# this phase's workers and simulators.
	local -a env=(
		env DATABASE_URL="$dburl" ORDERFLOW_ALLOW_DEV_SECRETS=1 TEMPORAL_NAMESPACE="scaleout-$phase"
		ORDERFLOW_API_ADDR="127.0.0.1:$api" ORDERFLOW_PUBLIC_URL="http://127.0.0.1:$api"
		ORDERFLOW_ERP_URL="http://127.0.0.1:$erp" ORDERFLOW_CARRIER_URL="http://127.0.0.1:$carrier"
		ORDERFLOW_BANK_URL="http://127.0.0.1:$bank"
		ORDERFLOW_SMTP_HOST=127.0.0.1 ORDERFLOW_SMTP_PORT="$smtp"
	)
	log "phase $phase: $workers worker(s)$([[ $kill_one == 1 ]] && echo ", kill -9 worker 1 after $KILL_AFTER COMPLETED"), database $db"
	"${env[@]}" "$of" temporal-setup -retention 24h >"$WORK/logs/$phase-temporal-setup.log" 2>&1 ||
		die "temporal-setup failed; see $WORK/logs/$phase-temporal-setup.log"
	"${env[@]}" "$of" migrate --seed-demo >"$WORK/logs/$phase-migrate.log" 2>&1 ||
		die "migrate failed; see $WORK/logs/$phase-migrate.log"

	local -a phase_pids=()
	start "$phase-sim" "${env[@]}" "$of" sim -erp-addr "127.0.0.1:$erp" -carrier-addr "127.0.0.1:$carrier" \
		-bank-addr "127.0.0.1:$bank" -mail-addr "127.0.0.1:$mail" -smtp-addr "127.0.0.1:$smtp"
	phase_pids+=("$started_pid")
	wait_for "sim" "$started_pid" 60 curl -sf "http://127.0.0.1:$mail/messages"
	start "$phase-api" "${env[@]}" "$of" api
	phase_pids+=("$started_pid")
	wait_for "api" "$started_pid" 60 curl -sf "http://127.0.0.1:$api/readyz"
	local -a worker_pids=()
	local i metrics
	for (( i = 1; i <= workers; i++ )); do
		metrics=$(free_port)
		start "$phase-worker$i" "${env[@]}" ORDERFLOW_WORKER_METRICS_ADDR="127.0.0.1:$metrics" "$of" worker
		worker_pids+=("$started_pid")
		phase_pids+=("$started_pid")
		wait_for "worker $i" "$started_pid" 60 curl -sf "http://127.0.0.1:$metrics/metrics"
	done

	local load_before load_after
	load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
	local bench_start=$SECONDS
	local -a cost=(-cost=false)
	[[ $kill_one == 1 ]] && cost=(-temporal "127.0.0.1:$fe")
	start "$phase-bench" "${env[@]}" "$WORK/bin/orderflow-bench" bench -api "http://127.0.0.1:$api" \
		-erp "http://127.0.0.1:$erp" -carrier "http://127.0.0.1:$carrier" -bank "http://127.0.0.1:$bank" \
		-mail "http://127.0.0.1:$mail" -orders "$ORDERS" -concurrency "$CONCURRENCY" \
		-stage-timeout "$STAGE_TIMEOUT" -json "$WORK/$phase.bench.json" "${cost[@]}"
	local bench_pid=$started_pid

	local kill_note="-"
	if [[ $kill_one == 1 ]]; then
		local done_n=0
		while kill -0 "$bench_pid" 2>/dev/null; do
			done_n=$(sql "$db" "SELECT count(*) FROM orders WHERE status = 'COMPLETED'" 2>/dev/null || echo 0)
			(( done_n >= KILL_AFTER )) && break
			sleep 0.25
		done
		if kill -0 "$bench_pid" 2>/dev/null; then
			local open_n
			kill -KILL "${worker_pids[0]}"
			open_n=$(sql "$db" "SELECT count(*) FROM orders WHERE status <> 'COMPLETED'")
			kill_note="$(( SECONDS - bench_start ))s into the run, $done_n COMPLETED, $open_n open"
			log "kill -9 worker 1 (pid ${worker_pids[0]}): $kill_note"
			check "worker 1 killed mid-run with orders open" "$(( open_n > 0 ))" 1
		else
			check "worker 1 killed mid-run" "bench ended first" "killed"
		fi
	fi

	local bench_rc=0
	wait "$bench_pid" || bench_rc=$?
	local wall=$(( SECONDS - bench_start ))
	load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
	[[ $bench_rc == 0 ]] || log "bench exited $bench_rc; see $WORK/logs/$phase-bench.log"
	check "bench exit status" "$bench_rc" 0
	local rate="?" completed="?"
	if [[ -s "$WORK/$phase.bench.json" ]]; then
		rate="$(jq -r '.report.orders_per_second * 100 | round / 100' "$WORK/$phase.bench.json")"
		completed="$(jq -r '.report.completed' "$WORK/$phase.bench.json")"
	fi
	check "bench: orders completed" "$completed" "$ORDERS"

	# A mail whose activity was on the killed worker is sent again once its
	# attempt times out, possibly after the order shows COMPLETED (mails do
	# not hold the order up). Wait until every order has as many distinct
	# mails as the most mailed one, or 3 minutes.
	local mails
	mails="WITH m AS (
		SELECT substring(convert_from(raw, 'UTF8') from '(?in)^Message-ID:[ \t\r\n]*(<[^>]+>)') AS mid,
		       substring(convert_from(raw, 'UTF8') from '(?in)^X-Orderflow-Order:[ \t]*([^\r\n]+)') AS order_id,
		       duplicate
		FROM mailsink_messages),
	per_order AS (SELECT order_id, count(DISTINCT mid) AS n FROM m
		WHERE order_id IS NOT NULL AND order_id NOT LIKE 'customer-%' GROUP BY order_id)"
	# The customers' workflows mail too (reorder reminders of a customer
	# who ordered many times in a minute): under customer-<id>, not an
	# order; their Message-IDs are checked once like every other.
	local settle_start=$SECONDS settled=""
	while (( SECONDS - settle_start < 180 )); do
		settled="$(sql "$db" "$mails SELECT count(*) = $ORDERS AND min(n) = max(n) FROM per_order")"
		[[ "$settled" == t ]] && break
		sleep 1
	done
	local settle_note="mail settled $(( SECONDS - settle_start ))s after bench"
	[[ "$settled" == t ]] || settle_note="mail not settled after 180s"

	# orderflow's projection.
	check "orders table: orders" "$(sql "$db" "SELECT count(*) FROM orders")" "$ORDERS"
	check "orders table: COMPLETED" "$(sql "$db" "SELECT count(*) FROM orders WHERE status = 'COMPLETED'")" "$ORDERS"
	check "orders table: needing attention" "$(sql "$db" "SELECT count(*) FROM orders WHERE needs_attention")" 0

	# ERP: one sales order and one invoice per order, each made under one key.
	one_per_key "$db" erpsim_sales_orders id order_id erpsim_idempotency_keys '/sales-order$' sales_order_id
	check "erpsim_sales_orders: cancelled" "$(sql "$db" "SELECT count(*) FROM erpsim_sales_orders WHERE status = 'cancelled'")" 0
	# A customer invoiced per shipment has <order>/invoice/<shipment>; an
	# undo's key ends in /undo.
	one_per_key "$db" erpsim_invoices id order_id erpsim_idempotency_keys '/invoice(/(?!undo$)[^/]+)?$' invoice_id
	check "erpsim_invoices: void or not paid in full" "$(sql "$db" "
		SELECT count(*) FROM erpsim_invoices WHERE status <> 'open' OR paid_minor <> amount_minor")" 0
	check "erpsim_idempotency_keys: claims never answered" "$(sql "$db" "SELECT count(*) FROM erpsim_idempotency_keys WHERE status IS NULL")" 0
	# Carrier: one delivery shipment per order, booked under one key.
	one_per_key "$db" carriersim_shipments shipment_id reference carriersim_idempotency_keys '/shipment/[^/]+$' shipment_id "kind = 'delivery'"
	check "carriersim_shipments: not delivered" "$(sql "$db" "SELECT count(*) FROM carriersim_shipments WHERE status <> 'delivered'")" 0
	check "carriersim_idempotency_keys: claims never answered" "$(sql "$db" "SELECT count(*) FROM carriersim_idempotency_keys WHERE status IS NULL")" 0
	# Bank: one payment per invoice (the buyer's, from the load generator)
	# and no transfer (orderflow pays out only refunds).
	check "banksim_transactions: payments" "$(sql "$db" "SELECT count(*) FROM banksim_transactions")" "$ORDERS"
	check "banksim_transactions: invoices paid other than once" "$(sql "$db" "
		SELECT count(*) FROM erpsim_invoices i WHERE (SELECT count(*) FROM banksim_transactions t WHERE t.reference = i.number) <> 1")" 0
	check "banksim_transfers" "$(sql "$db" "SELECT count(*) FROM banksim_transfers")" 0
	# Webhooks the simulators sent: each event once, all delivered.
	check "sim_outbox: events not delivered" "$(sql "$db" "SELECT count(*) FROM sim_outbox WHERE status <> 'delivered'")" 0
	# Mail: a resend keeps its Message-ID and the sink marks it duplicate;
	# no Message-ID may arrive twice as an original, and every order gets
	# as many distinct mails as the first.
	check "mailsink: messages without a Message-ID" "$(sql "$db" "$mails SELECT count(*) FROM m WHERE mid IS NULL")" 0
	check "mailsink: Message-IDs received other than once as an original" "$(sql "$db" "
		$mails SELECT count(*) FROM (SELECT mid FROM m GROUP BY mid HAVING count(*) FILTER (WHERE NOT duplicate) <> 1) d")" 0
	check "mailsink: orders with mail" "$(sql "$db" "$mails SELECT count(*) FROM per_order")" "$ORDERS"
	check "mailsink: mails of other orders" "$(sql "$db" "$mails SELECT count(*) FROM per_order WHERE order_id NOT IN (SELECT id FROM orders)")" 0
	check "mailsink: distinct mail counts per order" "$(sql "$db" "$mails SELECT count(DISTINCT n) FROM per_order")" 1
	local per_order resent customer_mails
	per_order="$(sql "$db" "$mails SELECT min(n) FROM per_order")"
	resent="$(sql "$db" "SELECT count(*) FROM mailsink_messages WHERE duplicate")"
	customer_mails="$(sql "$db" "$mails SELECT count(DISTINCT mid) FROM m WHERE order_id LIKE 'customer-%'")"

	# Stop the phase's processes before the next phase.
	local pid
	for pid in "${phase_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${phase_pids[@]}"; do wait "$pid" 2>/dev/null || true; done

	local failed_here
	failed_here="$(grep -c '^  FAIL' "$phase_checks" || true)"
	summary+=("$(printf '%-5s %7s %6s %8s %9s %6s  %-36s  %s' "$phase" "$workers" "$completed" "$rate" "${wall}s" \
		"$(grep -c '^  ok' "$phase_checks")/$(wc -l <"$phase_checks")" "$kill_note" "load $load_before -> $load_after")")
	{
		echo "phase $phase ($workers worker(s)): $completed/$ORDERS COMPLETED, $rate orders/s, ${wall}s; $settle_note; $per_order mails per order, $resent resent as duplicates, $customer_mails from the customers' workflows"
		cat "$phase_checks"
	} >>"$WORK/checks.txt"
	[[ "$failed_here" == 0 ]] || log "phase $phase: $failed_here check(s) failed"
}

for phase in $PHASES; do
	case "$phase" in
	kill) run_phase kill 2 1 ;;
	two) run_phase two 2 0 ;;
	one) run_phase one 1 0 ;;
	*) die "unknown phase $phase (kill, two, one)" ;;
	esac
done

{
	echo "orderflow scale-out: $ORDERS orders, $CONCURRENCY in flight, Temporal $TEMPORAL_VERSION on PostgreSQL, $(nproc) CPUs"
	printf '%-5s %7s %6s %8s %9s %6s  %-36s  %s\n' phase workers "done" orders/s wall checks "kill -9" "load average (1/5/15 min) before -> after"
	printf '%s\n' "${summary[@]}"
	echo
	cat "$WORK/checks.txt"
	if [[ -s "$WORK/kill.bench.json" ]]; then
		echo
		echo "kill phase, per order from the histories (mean, min-max):"
		jq -r '(.cost.rows // [])[] | select(.name | test("^(runs|history events|workflow tasks|activities|activity attempts|billable actions)$"))
			| "  \(.name): \(.mean * 10 | round / 10) (\(.min)-\(.max))"' "$WORK/kill.bench.json"
	fi
} | tee "$WORK/summary.txt"
if (( failures > 0 )); then
	die "$failures check(s) failed; logs in $WORK/logs (KEEP=1 keeps them)"
fi
log "all checks passed"
