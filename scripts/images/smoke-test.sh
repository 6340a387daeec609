#!/usr/bin/env bash
# Smoke test of the images scripts/build-images.sh builds: runs them on
# private networks, checks what docs/IMAGES.md promises, and removes every
# container, volume and network it created (the images stay). Ports are
# published on 127.0.0.1 only, on ports the engine picks.
# usage: scripts/images/smoke-test.sh   (exit 0 when every check passes)
set -euo pipefail

RUN_ID="smoke$$"
NET="mrs-$RUN_ID"
WEB="mrs-$RUN_ID-web"
BIND_DIR="$(mktemp -d)"
CONTAINERS=()
PASSED=0
FAILED=0

cleanup() {
	local c
	for c in "${CONTAINERS[@]}"; do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
	docker network rm "$NET" "$WEB" >/dev/null 2>&1 || true
	rm -rf "$BIND_DIR" || true
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
run() { # run NAME DOCKER-RUN-ARGS...
	local name="$RUN_ID-$1"
	shift
	CONTAINERS+=("$name")
	docker run -d --name "$name" "$@" >/dev/null
}
host_port() { docker port "$RUN_ID-$1" "$2" | head -n 1 | sed 's/.*://'; }
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
wait_for() { # wait_for SECONDS COMMAND...
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}
stop_time_ok() { # the container stops within 5 s and exits 0
	local started=$SECONDS
	docker stop -t 10 "$RUN_ID-$1" >/dev/null
	[ $((SECONDS - started)) -le 5 ] && [ "$(docker inspect -f '{{.State.ExitCode}}' "$RUN_ID-$1")" = 0 ]
}

for image in betagouv/mrs:master djfarrelly/maildev postgres:10 mrs-deploy/traefik:3 mrs-deploy/sshd:test; do
	docker image inspect "$image" >/dev/null 2>&1 || { echo "missing image $image: run scripts/build-images.sh" >&2; exit 1; }
done
docker network create "$NET" >/dev/null
docker network create "$WEB" >/dev/null

# PostgreSQL, plain and with bind-mounted data and socket directories.
run pg --network "$NET" --network-alias postgres \
	-e POSTGRES_USER=django -e POSTGRES_PASSWORD=django -e POSTGRES_DB=mrs postgres:10
mkdir -p "$BIND_DIR/data" "$BIND_DIR/run"
run pgbind --network "$NET" -e POSTGRES_USER=django -e POSTGRES_PASSWORD=django -e POSTGRES_DB=mrs \
	-v "$BIND_DIR/data:/var/lib/postgresql/data" -v "$BIND_DIR/run:/var/run/postgresql" postgres:10
check "postgres accepts connections" wait_for 60 docker exec "$RUN_ID-pg" pg_isready -U django -d mrs
check "postgres with bind mounts accepts connections" wait_for 60 docker exec "$RUN_ID-pgbind" pg_isready -U django -d mrs
check "psql works in the postgres container" docker exec "$RUN_ID-pg" psql -U django -d mrs -tAc 'SELECT 1'
check "pg_dumpall is in PATH" docker exec "$RUN_ID-pg" pg_dumpall -U django --schema-only
check "postgres refuses to init without POSTGRES_PASSWORD" \
	bash -c '! docker run --rm postgres:10'

# The app.
check "app exits 1 without SECRET_KEY" bash -c 'docker run --rm betagouv/mrs:master; [ $? = 1 ]'
db_env=(-e DB_USER=django -e DB_PASSWORD=django -e DB_NAME=mrs)
run app --network "$NET" -e SECRET_KEY=smoke -e "DB_HOST=$RUN_ID-pg" "${db_env[@]}" \
	-e BASICAUTH_DISABLE=1 -e ALLOWED_HOSTS=localhost -e GIT_COMMIT=smoke123 \
	-p 127.0.0.1::8000 betagouv/mrs:master
APP_PORT="$(host_port app 8000/tcp)"
check "app answers 200 for Host: localhost" wait_for 60 \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' 'http://127.0.0.1:$APP_PORT/?test=$RUN_ID')\" = 200 ]"
check "app answers 403 for another Host" [ "$(http_code -H 'Host: evil.example' "http://127.0.0.1:$APP_PORT/")" = 403 ]
check "app /version is GIT_COMMIT" [ "$(curl -s -H 'Host: localhost' "http://127.0.0.1:$APP_PORT/version")" = smoke123 ]
check "app logs the request with its query" bash -c "docker logs $RUN_ID-app | grep -q 'GET /?test=$RUN_ID .*host=localhost status=200'"
check "djcli dbcheck" docker exec "$RUN_ID-app" djcli dbcheck
check "djcli dbcheck through the bind-mounted postgres" docker exec -e "DB_HOST=$RUN_ID-pgbind" "$RUN_ID-app" djcli dbcheck
check "djcli dbcheck by network alias, own resolver" docker exec -e DB_HOST=postgres -e STANDIN_RESOLVER=own "$RUN_ID-app" djcli dbcheck
check "djcli createsuperuser" docker exec "$RUN_ID-app" djcli createsuperuser admin admin@example.org pw
check "the superuser is in auth_user" bash -c "docker exec $RUN_ID-pg psql -U django -d mrs -tAc \"SELECT email FROM auth_user WHERE username = 'admin'\" | grep -qx admin@example.org"
check "djcli loaddata" docker exec "$RUN_ID-app" djcli loaddata groups

run authapp --network "$NET" -e SECRET_KEY=smoke -e "DB_HOST=$RUN_ID-pg" "${db_env[@]}" \
	-p 127.0.0.1::8000 betagouv/mrs:master
AUTH_PORT="$(host_port authapp 8000/tcp)"
check "basic auth: 401 without credentials" wait_for 60 \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AUTH_PORT/)\" = 401 ]"
check "basic auth: 200 with dev:dev" [ "$(http_code -u dev:dev "http://127.0.0.1:$AUTH_PORT/")" = 200 ]

# Mail.
run mail --network "$NET" -p 127.0.0.1::80 djfarrelly/maildev
MAIL_PORT="$(host_port mail 80/tcp)"
check "maildev web answers" wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$MAIL_PORT/)\" = 200 ]"
check "mrs sendtestemail" docker exec -e "EMAIL_HOST=$RUN_ID-mail" -e EMAIL_PORT=25 "$RUN_ID-app" mrs sendtestemail "smoke@$RUN_ID.example"
check "the message is in maildev's /email" bash -c "curl -s http://127.0.0.1:$MAIL_PORT/email | grep -q 'smoke@$RUN_ID.example'"

# Traefik, discovering a labelled app through the Docker API.
check "traefik version runs" docker run --rm mrs-deploy/traefik:3 version
run routed --network "$WEB" -e SECRET_KEY=smoke -e "DB_HOST=$RUN_ID-pg" "${db_env[@]}" \
	-e BASICAUTH_DISABLE=1 -e "ALLOWED_HOSTS=$RUN_ID.localhost" \
	-l traefik.enable=true -l "traefik.http.routers.$RUN_ID.rule=Host(\`$RUN_ID.localhost\`)" \
	-l "traefik.http.services.$RUN_ID.loadbalancer.server.port=8000" -l "traefik.docker.network=$WEB" \
	betagouv/mrs:master
docker network connect "$NET" "$RUN_ID-routed"
run traefik --network "$WEB" -v /var/run/docker.sock:/var/run/docker.sock:ro -p 127.0.0.1::80 \
	mrs-deploy/traefik:3 --global.checknewversion=false --global.sendanonymoususage=false \
	--providers.docker=true --providers.docker.exposedbydefault=false \
	"--providers.docker.network=$WEB" --entrypoints.web.address=:80
TRAEFIK_PORT="$(host_port traefik 80/tcp)"
check "traefik routes by Host to the labelled app" wait_for 60 \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: $RUN_ID.localhost' http://127.0.0.1:$TRAEFIK_PORT/)\" = 200 ]"
check "traefik answers 404 for an unknown Host" [ "$(http_code -H 'Host: nobody.localhost' "http://127.0.0.1:$TRAEFIK_PORT/")" = 404 ]

# OpenSSH: key login as root, sudo, minisign, sftp.
ssh-keygen -q -t ed25519 -N '' -f "$BIND_DIR/key"
run sshd -e "SSH_AUTHORIZED_KEYS=$(cat "$BIND_DIR/key.pub")" -p 127.0.0.1::22 mrs-deploy/sshd:test
SSH_PORT="$(host_port sshd 22/tcp)"
ssh_cmd=(ssh -i "$BIND_DIR/key" -p "$SSH_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1)
check "sshd accepts the key" wait_for 20 "${ssh_cmd[@]}" true
check "sudo and minisign on the ssh host" "${ssh_cmd[@]}" 'sudo -n true && minisign -v'
check "sftp on the ssh host" bash -c "echo 'ls /' | sftp -b - -i '$BIND_DIR/key' -P '$SSH_PORT' -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1"

# Prompt, clean stops.
for c in app mail traefik pg pgbind sshd; do
	check "docker stop $c within 5 s, exit 0" stop_time_ok "$c"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
