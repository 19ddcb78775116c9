#!/usr/bin/env bash
# with-cluster.sh COMMAND [ARGS...]
#
# Starts a 3-node Apache Kafka KRaft cluster ($KAFKA_VERSION, default
# 4.1.1) for the real-broker tests, runs COMMAND with TRIBUTARY_KAFKA_STATE
# pointing at it, stops the cluster (also on failure or Ctrl-C) and exits
# with COMMAND's status. `make test` and `make test-kafka` run through it.
#
# Without java (and outside CI, where TRIBUTARY_REQUIRE_KAFKA=1 or CI is
# set) it runs COMMAND without a cluster, and the real-broker tests skip.
# When COMMAND fails the cluster's logs are kept and their path printed.
set -uo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${KAFKA_VERSION:-4.1.1}

if ! command -v java >/dev/null; then
	if [ -n "${CI:-}" ] || [ "${TRIBUTARY_REQUIRE_KAFKA:-}" = 1 ]; then
		echo "with-cluster.sh: java is not installed; the real-Kafka tests need Java 17+ and Maven" >&2
		exit 1
	fi
	echo "with-cluster.sh: java is not installed: running without a Kafka cluster (real-Kafka tests skip)" >&2
	exec "$@"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tributary-kafka-run.XXXXXX") || exit 1
bin=$work/kafkacluster
keep=
cleanup() {
	if [ -x "$bin" ] && [ -e "$work/cluster/state.json" ]; then
		if [ -n "$keep" ]; then
			"$bin" down -keep -dir "$work/cluster" >/dev/null 2>&1
			echo "with-cluster.sh: Kafka logs kept in $work/cluster/node*/server.log" >&2
			return
		fi
		"$bin" down -dir "$work/cluster" >/dev/null 2>&1
	fi
	[ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'keep=1; exit 130' INT
trap 'keep=1; exit 143' TERM

(cd "$root" && "$GO" build -o "$bin" ./internal/kafkatest/cmd/kafkacluster) || exit 1
began=$(date +%s)
if ! "$bin" up -dir "$work/cluster" -version "$version" >/dev/null 2>"$work/up.log"; then
	keep=1
	cat "$work/up.log" >&2
	echo "with-cluster.sh: Kafka $version did not start" >&2
	exit 1
fi
echo "with-cluster.sh: Kafka $version cluster up in $(($(date +%s) - began)) s" >&2

TRIBUTARY_KAFKA_STATE=$work/cluster/state.json "$@"
rc=$?
[ $rc -eq 0 ] || keep=1
exit $rc
