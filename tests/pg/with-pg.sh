#!/bin/sh
# with-pg.sh N COMMAND [ARG...]
#
# Start N throw-away PostgreSQL servers on free loopback ports, run
# COMMAND with them, then stop them and delete their files - also when
# COMMAND fails or the script is interrupted (DESIGN §6: no test needs a
# server the machine did not start itself).  COMMAND's exit status is the
# script's.
#
# COMMAND sees, for i = 1..N:
#   QUOTA_PG_CONNINFO<i>   a libpq connection string (host=127.0.0.1 ...)
#   QUOTA_PG_DATA<i>       the server's data directory
#   QUOTA_PG_CONNINFO      the same as QUOTA_PG_CONNINFO1
#   QUOTA_PG_CTL           a command that runs pg_ctl as the servers'
#                          owner: "$QUOTA_PG_CTL" restart -D "$QUOTA_PG_DATA1"
#                          -m fast -w (tests restart a server on purpose)
#
# initdb refuses to run as root: as root, the servers run as the user
# "postgres" (Debian's postgresql package makes it).  The binaries are
# found on PATH or under /usr/lib/postgresql/*/bin (Debian).
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 N COMMAND [ARG...]" >&2
	exit 2
fi
n=$1
shift

bindir=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
	bindir=$(dirname "$(command -v initdb)")
else
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			bindir=$d
			break
		fi
	done
fi
if [ -z "$bindir" ]; then
	echo "with-pg: no initdb/pg_ctl (install postgresql:" \
	     "tests/install-deps.sh)" >&2
	exit 1
fi

top=$(mktemp -d /tmp/quota-pg.XXXXXX) || exit 1
chmod 755 "$top"
as=""
if [ "$(id -u)" = 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		echo "with-pg: running as root and no user 'postgres' to run" \
		     "the server as" >&2
		rm -rf "$top"
		exit 1
	fi
	chown postgres "$top"
	as="runuser -u postgres --"
fi

# The pg_ctl command the tests get (a small script, so that it is one word).
ctl="$top/pg_ctl"
printf '#!/bin/sh\nexec %s "%s/pg_ctl" "$@"\n' "$as" "$bindir" > "$ctl"
chmod 755 "$ctl"

started=""
cleanup() {
	for d in $started; do
		"$ctl" stop -D "$d" -m immediate -w >/dev/null 2>&1
	done
	rm -rf "$top"
}
trap 'cleanup' EXIT
trap 'exit 130' INT TERM HUP

# A free port: one nothing listens on, checked with the kernel's own table.
free_port() {
	p=$1
	while [ "$p" -lt 65000 ]; do
		hex=$(printf '%04X' "$p")
		if ! grep -qi ":$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$p"
			return 0
		fi
		p=$((p + 1))
	done
	return 1
}

port=$(( 20000 + ($$ % 20000) ))
i=1
while [ "$i" -le "$n" ]; do
	port=$(free_port "$port") || { echo "with-pg: no free port" >&2; exit 1; }
	data="$top/data$i"
	sock="$top/sock$i"
	mkdir "$sock"
	[ -n "$as" ] && chown postgres "$sock"
	if ! $as "$bindir/initdb" -D "$data" -U quota --auth=trust \
		-E UTF8 --no-locale >"$top/initdb$i.log" 2>&1; then
		echo "with-pg: initdb failed:" >&2
		cat "$top/initdb$i.log" >&2
		exit 1
	fi
	cat >> "$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
max_connections = 60
shared_buffers = 64MB
fsync = on
synchronous_commit = on
logging_collector = off
EOF
	if ! "$ctl" start -D "$data" -w -t 60 -l "$top/server$i.log" \
		>/dev/null 2>&1; then
		echo "with-pg: server $i did not start:" >&2
		cat "$top/server$i.log" >&2
		exit 1
	fi
	started="$started $data"
	conninfo="host=127.0.0.1 port=$port user=quota dbname=postgres"
	export "QUOTA_PG_CONNINFO$i=$conninfo"
	export "QUOTA_PG_DATA$i=$data"
	[ "$i" = 1 ] && export "QUOTA_PG_CONNINFO=$conninfo"
	port=$((port + 1))
	i=$((i + 1))
done
export QUOTA_PG_CTL="$ctl"

"$@"
rc=$?
exit $rc
