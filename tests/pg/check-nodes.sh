#!/bin/sh
# check-nodes.sh NODE WORKDIR - several gateway nodes sharing accounts
# through one PostgreSQL server (issue 12; DESIGN §6).  Runs under
# tests/pg/with-pg.sh 1 (QUOTA_PG_CONNINFO, QUOTA_PG_DATA1, QUOTA_PG_CTL).
#
# Three runs of 4 processes x QUOTA_PG_NODE_OPS (default 10,000) keyed
# operations (charges, reservations, commits) on the same 10 accounts,
# each in its own database:
#   plain     nothing goes wrong
#   restart   the server is restarted once after about a third of the ops
#   kill      node 2 is killed with SIGKILL after about a third of the ops
# after each, `NODE verify` loads every account fresh from the server and
# checks units, replays and money (tests/pg/node_verify.h).  Then leases: 4
# processes charging one hot prepaid account of 2,000,000 units 1 unit at
# a time on leases of 10,000 until it is spent; `NODE lease-verify`.
set -u

node=$1
work=$2
nops=${QUOTA_PG_NODE_OPS:-10000}
nproc=4
: "${QUOTA_PG_CONNINFO:?run under tests/pg/with-pg.sh}"

rm -rf "$work"
mkdir -p "$work" || exit 1

# The acknowledged operations of all nodes so far (ack lines).
acks() {
	cat "$1"/log.* 2>/dev/null | grep -c '^A '
}

scenario() {
	name=$1
	fault=$2
	dir=$work/$name
	mkdir -p "$dir"
	ci="$QUOTA_PG_CONNINFO dbname=$name"
	echo "== check-nodes: $name ($nproc processes x $nops operations)"
	"$node" mkdb "$QUOTA_PG_CONNINFO" "$name" || return 1
	"$node" setup "$ci" "$dir" || return 1
	pids=""
	p=0
	while [ "$p" -lt "$nproc" ]; do
		"$node" run "$ci" "$dir" "$p" "$nops" "$nproc" &
		pids="$pids $!"
		eval "pid$p=$!"
		p=$((p + 1))
	done
	killed=""
	if [ "$fault" != none ]; then
		third=$((nproc * nops / 3))
		while [ "$(acks "$dir")" -lt "$third" ]; do
			sleep 0.1
		done
		case $fault in
		restart)
			echo "check-nodes: $(acks "$dir") ops acknowledged:" \
			     "restarting the server"
			"$QUOTA_PG_CTL" restart -D "$QUOTA_PG_DATA1" -m fast -w \
				>/dev/null || { echo "restart failed" >&2; return 1; }
			;;
		kill)
			killed=2
			echo "check-nodes: $(acks "$dir") ops acknowledged:" \
			     "killing node 2 (SIGKILL)"
			kill -KILL "$pid2"
			;;
		esac
	fi
	failed=0
	for pid in $pids; do
		wait "$pid"
		rc=$?
		if [ "$pid" = "${pid2:-}" ] && [ -n "$killed" ]; then
			[ "$rc" = 137 ] || { echo "node 2 was not killed" \
				"(status $rc)" >&2; failed=1; }
		elif [ "$rc" != 0 ]; then
			echo "check-nodes: $name: a node failed (status $rc)" >&2
			failed=1
		fi
	done
	[ "$failed" = 0 ] || return 1
	"$node" verify "$ci" "$dir" "$nproc" $killed || return 1
}

leases() {
	dir=$work/leases
	mkdir -p "$dir"
	ci="$QUOTA_PG_CONNINFO dbname=leases"
	echo "== check-nodes: leases ($nproc processes, one hot account)"
	"$node" mkdb "$QUOTA_PG_CONNINFO" leases || return 1
	"$node" lease-setup "$ci" || return 1
	pids=""
	p=0
	while [ "$p" -lt "$nproc" ]; do
		"$node" lease "$ci" "$dir" "$p" 1000000 10000 &
		pids="$pids $!"
		p=$((p + 1))
	done
	failed=0
	for pid in $pids; do
		wait "$pid" || failed=1
	done
	[ "$failed" = 0 ] || return 1
	"$node" lease-verify "$ci" "$dir" "$nproc"
}

start=$(date +%s)
scenario plain none || exit 1
scenario restart restart || exit 1
scenario kill kill || exit 1
leases || exit 1
echo "check-nodes: all passed in $(( $(date +%s) - start )) s"
