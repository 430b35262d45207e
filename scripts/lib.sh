# Shared shell helpers for scripts/test, scripts/demo and friends.
#
# Source this file; it defines functions only and changes no shell options.
#   dm_install_deps   install the Debian packages the build and tests need
#   dm_install_optional PKG...  install what only some tests need (chromium),
#                     saying so; without it those tests say SKIPPED
#   dm_install_axe DIR  npm's axe-core into DIR/node_modules (the page audit)
#   dm_pg_start       start a throwaway PostgreSQL on a Unix socket, export PG*
#   dm_pg_stop        stop it and remove its directory
# shellcheck shell=bash

DM_PG_BIN=${DM_PG_BIN:-/usr/lib/postgresql/15/bin}

dm_log() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# Debian packages the build, the tests, the demo, the benchmark and the fuzzers
# (clang and its compiler-rt runtime: scripts/fuzz) use.
DM_DEPS=(build-essential cmake pkg-config libpq-dev libevent-dev libconfig-dev check
    libcurl4-openssl-dev libssl-dev libsystemd-dev postgresql-15 python3
    python3-aiosmtpd python3-psycopg2 python3-yaml prometheus wrk valgrind systemd
    clang-format curl openssl debhelper dpkg-dev lintian clang libclang-rt-14-dev libicu-dev
    pgbouncer)

# Why the packages that are large, or that a reader would not guess, are in
# the lists; printed before they are installed. The rest are the compiler,
# the libraries dormant links against and small tools.
declare -gA DM_WHY=(
    [postgresql-15]="the real database every integration test runs against"
    [prometheus]="promtool checks /metrics and the alerting rules (large: about 100 MB)"
    [systemd]="systemd-analyze verifies the unit (tests/e2e/test_systemd_unit.py)"
    [wrk]="the delivery benchmark's load generator (bench/)"
    [valgrind]="memory checks by hand; no test runs it"
    [python3-yaml]="reads the alerting rules in tests/e2e/test_monitoring.py"
    [debhelper]="builds the Debian package (tests/e2e/test_package.py)"
    [dpkg-dev]="dpkg-buildpackage, for the same test"
    [lintian]="checks the built package (large: perl and its libraries)"
    [clang]="builds and runs the libFuzzer harnesses (scripts/fuzz, a step of scripts/test)"
    [libclang-rt-14-dev]="clang's fuzzer and sanitizer runtime, for the same"
    [libicu-dev]="ICU writes the dates in messages and pages in each language and time zone"
    [npm]="installs axe-core, which audits the confirmation pages' accessibility"
    [pgbouncer]="the pooler the lease tests run several instances behind (tests/e2e/test_pgbouncer.py)"
    [chromium]="the browser tests drive the confirmation page in it (large: about 300 MB with its libraries)"
)

# Prints what is about to be installed, one package a line with its reason.
dm_say_installing() {
    local what=$1 p
    shift
    dm_log "installing $what: $*"
    for p in "$@"; do
        [[ -n ${DM_WHY[$p]:-} ]] && dm_log "  $p: ${DM_WHY[$p]}"
    done
    return 0
}

# Install whatever in DM_DEPS is missing; runs apt-get update at most once and
# only when something has to be installed. Needs root when it has work to do.
# Says what it installs (and why, for the large ones) before it does.
dm_install_deps() {
    local missing=() p
    for p in "${DM_DEPS[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    # The package can be "installed" while the server binaries are not there
    # (e.g. a half-removed package); initdb is what we actually run.
    if [[ ! -x $DM_PG_BIN/initdb ]] && [[ " ${missing[*]} " != *" postgresql-15 "* ]]; then
        missing+=(postgresql-15)
    fi
    if ((${#missing[@]} == 0)); then
        dm_log "all ${#DM_DEPS[@]} required packages are installed"
        return 0
    fi
    if ((EUID != 0)); then
        dm_log "missing packages: ${missing[*]} (run as root to install them)"
        return 1
    fi
    dm_say_installing "${#missing[@]} required package(s)" "${missing[@]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || return 1
    if [[ ! -x $DM_PG_BIN/initdb ]]; then
        dm_log "PostgreSQL 15 server binaries not found in $DM_PG_BIN"
        return 1
    fi
}

# Install packages that only some tests need (chromium for the browser
# tests) when missing, saying so first. A failure is only a notice: those
# tests then print "SKIPPED: ... not installed" and ctest counts them as
# skipped, not passed.
dm_install_optional() {
    local missing=() p
    for p in "$@"; do
        # A command of that name from elsewhere (a machine's own Node.js and
        # npm, say) serves as well; Debian's would conflict with it.
        dpkg -s "$p" >/dev/null 2>&1 || command -v "$p" >/dev/null || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    if ((EUID != 0)); then
        dm_log "notice: not root, so not installing ${missing[*]}: the tests that need them will say SKIPPED"
        return 0
    fi
    dm_say_installing "for the browser tests" "${missing[@]}"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null; }; then
        dm_log "notice: could not install ${missing[*]}: the tests that need them will say SKIPPED"
    fi
    return 0
}

# Run a command as the postgres user (the server refuses to run as root).
dm_as_postgres() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Print a TCP port number that nothing listens on and whose socket file does
# not exist in directory $1. The server listens on no TCP port at all; the
# number only names the socket, but keeping it unused avoids confusing anyone.
dm_free_port() {
    local dir=$1 port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 40000))
        [[ -e $dir/.s.PGSQL.$port ]] && continue
        if command -v ss >/dev/null 2>&1 && ss -Htan "sport = :$port" 2>/dev/null | grep -q .; then
            continue
        fi
        echo "$port"
        return 0
    done
    return 1
}

# Start a private PostgreSQL 15 listening only on a Unix socket in a fresh
# temporary directory, tuned for speed (no durability), and export PGHOST,
# PGPORT, PGUSER, PGDATABASE, DM_PG_BIN, DM_PG_DATA and DM_PG_DIR. Tests may
# stop and start it to simulate an outage:
#   runuser -u postgres -- "$DM_PG_BIN/pg_ctl" -D "$DM_PG_DATA" stop -m fast
#   runuser -u postgres -- "$DM_PG_BIN/pg_ctl" -D "$DM_PG_DATA" start -w
dm_pg_start() {
    local dir port
    # Always /tmp: the socket path must stay short (108 bytes) and reachable
    # by the postgres user whatever TMPDIR says.
    dir=$(mktemp -d /tmp/dormant-pg.XXXXXX) || return 1
    # mktemp makes it 0700; the server (postgres) owns it, and root must be able
    # to traverse it to reach the socket (root can anyway; others too, so a
    # non-root test user works as well).
    chmod 0755 "$dir"
    if ((EUID == 0)); then
        chown postgres:postgres "$dir" || return 1
    fi
    port=$(dm_free_port "$dir") || {
        dm_log "no free port found"
        return 1
    }
    if ! dm_as_postgres "$DM_PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
        --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        dm_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF
# dormant tests: socket only, speed over durability
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0777
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 256MB
logging_collector = off
log_min_messages = warning
EOF
    if ! dm_as_postgres "$DM_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
        -w -t 60 start >/dev/null; then
        dm_log "PostgreSQL failed to start:"
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        return 1
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        "$DM_PG_BIN/pg_isready" -q -h "$dir" -p "$port" && break
        sleep 0.1
    done
    export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    export DM_PG_BIN DM_PG_DIR=$dir DM_PG_DATA=$dir/data
    dm_log "PostgreSQL 15 running: PGHOST=$PGHOST PGPORT=$PGPORT"
}

# Stop the server started by dm_pg_start (if any) and remove its directory.
# Safe to call twice, and from an EXIT trap.
dm_pg_stop() {
    local dir=${DM_PG_DIR:-}
    [[ -n $dir && -d $dir ]] || return 0
    if [[ -f $dir/data/postmaster.pid ]]; then
        dm_as_postgres "$DM_PG_BIN/pg_ctl" -D "$dir/data" stop -m immediate -w \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    unset DM_PG_DIR DM_PG_DATA PGHOST PGPORT
}

# The axe-core version the accessibility test (tests/e2e/test_page_axe.py) runs.
DM_AXE_VERSION=4.14.1

# Install npm's axe-core into DIR/node_modules (a directory of the build,
# never committed) unless that version is there already. Without npm or the
# registry it only says so: the audit test then skips.
dm_install_axe() {
    local dir=$1 have
    have=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$dir/node_modules/axe-core/package.json" \
        2>/dev/null | head -1) || true
    [[ $have == "$DM_AXE_VERSION" ]] && return 0
    if ! command -v npm >/dev/null; then
        dm_log "notice: npm is missing: the accessibility audit skips"
        return 0
    fi
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --no-save --prefix "$dir" \
        "axe-core@$DM_AXE_VERSION" >/dev/null ||
        dm_log "notice: could not install axe-core $DM_AXE_VERSION: the accessibility audit skips"
}
