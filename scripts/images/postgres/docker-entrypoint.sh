#!/usr/bin/env bash
# Entrypoint of the `postgres:10` stand-in (Debian's PostgreSQL 15), built
# by scripts/build-images.sh. It mimics the official image's entrypoint:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user),
#   PGDATA (default /var/lib/postgresql/data), POSTGRES_INITDB_ARGS,
#   POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   /docker-entrypoint-initdb.d/*.sh and *.sql run once on a new cluster.
# Started as root, it fixes the ownership of PGDATA and /var/run/postgresql
# (they may be bind mounts created by root), then re-executes itself as
# the postgres user and finally `exec`s postgres in the foreground, so that
# docker stop's signal reaches the server (STOPSIGNAL is SIGINT: fast
# shutdown, as in the official image; SIGTERM is a smart shutdown).
set -Eeo pipefail

log() { printf '%s: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }
die() { printf 'docker-entrypoint: error: %s\n' "$*" >&2; exit 1; }

# `docker run postgres:10 -c foo=bar` means `postgres -c foo=bar`.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	# Bind mounts are created by root: hand them to postgres.
	find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 700 "$PGDATA"
	chmod 3775 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		die "Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".
       (Or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password.)"
	fi
	[ -w "$PGDATA" ] || die "$PGDATA is not writable by the postgres user (uid $(id -u))"
	log "initializing a new cluster in $PGDATA for user $POSTGRES_USER"
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
		$POSTGRES_INITDB_ARGS -D "$PGDATA"
	{
		echo
		echo "# Added by the mrs-deploy stand-in entrypoint"
		echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"
	{
		echo
		echo "# Added by the mrs-deploy stand-in entrypoint"
		echo "listen_addresses = '*'"
		echo "jit = off"
	} >> "$PGDATA/postgresql.conf"

	# A temporary server on the Unix socket only, to create the database
	# and run the init scripts.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	export PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD" PGHOST=/var/run/postgresql
	psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --dbname postgres)
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		exists="$("${psql[@]}" -tA --set db="$POSTGRES_DB" \
			<<<"SELECT 1 FROM pg_database WHERE datname = :'db'")"
		if [ -z "$exists" ]; then
			"${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
		fi
	fi
	shopt -s nullglob
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh)
				log "running $f"
				# shellcheck disable=SC1090 # the init scripts are the user's
				if [ -x "$f" ]; then "$f"; else . "$f"; fi
				;;
			*.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
			*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
			*) log "ignoring $f" ;;
		esac
	done
	shopt -u nullglob
	unset PGUSER PGPASSWORD PGHOST
	pg_ctl -D "$PGDATA" -m fast -w stop
	log "PostgreSQL init process complete; ready for start up."
else
	log "PostgreSQL database directory appears to contain a database; skipping initialization"
fi

exec "$@"
