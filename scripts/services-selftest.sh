#!/usr/bin/env bash
# Checks the services of scripts/services.sh from the outside, with the same
# credentials the tests use: password logins over TCP, the read-only users, an
# S3 put/get and the Temporal search attributes. Leaves nothing behind.
#   scripts/services.sh start && scripts/services-selftest.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(scripts/services.sh env)"

failures=0
ok() { echo "ok    $*"; }
bad() {
  echo "FAIL  $*"
  failures=$((failures + 1))
}
check() { # description command...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
refuse() { # description command... (must fail)
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then bad "$what"; else ok "$what"; fi
}

PSQL=psql
for d in /usr/lib/postgresql/*/bin; do [[ -x $d/psql ]] && PSQL=$d/psql; done
TEMPORAL=${MMS_TEMPORAL_CLI:-temporal}
T=mms_selftest_$$

pg() { # user password db sql
  PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$MMS_PG_HOST" -p "$MMS_PG_PORT" -U "$1" -d "$3" -tAc "$4"
}
my() { # user password sql
  MYSQL_PWD=$2 mariadb --no-defaults --protocol=TCP -h "$MMS_MYSQL_HOST" -P "$MMS_MYSQL_PORT" -u "$1" -N -B -e "$3"
}
s3() { # method key [curl args]
  local m=$1 k=$2
  shift 2
  curl -sS --fail --max-time 10 --aws-sigv4 "aws:amz:$MMS_S3_REGION:s3" --user "$MMS_S3_ACCESS_KEY:$MMS_S3_SECRET_KEY" \
    -X "$m" "$MMS_S3_ENDPOINT/$MMS_S3_BUCKET/$k" "$@"
}
cleanup() {
  pg "$MMS_PG_USER" "$MMS_PG_PASSWORD" "$MMS_PG_SOURCE_DB" "DROP TABLE IF EXISTS $T" >/dev/null 2>&1 || true
  my "$MMS_MYSQL_USER" "$MMS_MYSQL_PASSWORD" "DROP TABLE IF EXISTS \`$MMS_MYSQL_SOURCE_DB\`.$T" >/dev/null 2>&1 || true
  s3 DELETE "$T.txt" -o /dev/null 2>/dev/null || true
}
trap cleanup EXIT

# PostgreSQL
check "postgres: $MMS_PG_USER logs in over TCP and writes" \
  pg "$MMS_PG_USER" "$MMS_PG_PASSWORD" "$MMS_PG_SOURCE_DB" "CREATE TABLE $T (id int PRIMARY KEY, s text); INSERT INTO $T VALUES (1, 'ünï')"
check "postgres: $MMS_PG_READER_USER reads a new table in $MMS_PG_SOURCE_DB" \
  pg "$MMS_PG_READER_USER" "$MMS_PG_READER_PASSWORD" "$MMS_PG_SOURCE_DB" "SELECT s FROM $T"
refuse "postgres: $MMS_PG_READER_USER cannot write" \
  pg "$MMS_PG_READER_USER" "$MMS_PG_READER_PASSWORD" "$MMS_PG_SOURCE_DB" "INSERT INTO $T VALUES (2, 'x')"
check "postgres: database $MMS_PG_TARGET_DB exists" \
  pg "$MMS_PG_USER" "$MMS_PG_PASSWORD" "$MMS_PG_TARGET_DB" "SELECT 1"
refuse "postgres: a wrong password is refused" pg "$MMS_PG_USER" wrong-password postgres "SELECT 1"

# MariaDB
check "mariadb: $MMS_MYSQL_USER logs in over TCP and writes" \
  my "$MMS_MYSQL_USER" "$MMS_MYSQL_PASSWORD" "CREATE TABLE \`$MMS_MYSQL_SOURCE_DB\`.$T (id int PRIMARY KEY, s varchar(10)); INSERT INTO \`$MMS_MYSQL_SOURCE_DB\`.$T VALUES (1, 'ünï')"
check "mariadb: $MMS_MYSQL_READER_USER reads $MMS_MYSQL_SOURCE_DB" \
  my "$MMS_MYSQL_READER_USER" "$MMS_MYSQL_READER_PASSWORD" "SELECT s FROM \`$MMS_MYSQL_SOURCE_DB\`.$T"
refuse "mariadb: $MMS_MYSQL_READER_USER cannot write" \
  my "$MMS_MYSQL_READER_USER" "$MMS_MYSQL_READER_PASSWORD" "INSERT INTO \`$MMS_MYSQL_SOURCE_DB\`.$T VALUES (2, 'x')"
check "mariadb: database $MMS_MYSQL_TARGET_DB exists" \
  my "$MMS_MYSQL_USER" "$MMS_MYSQL_PASSWORD" "USE \`$MMS_MYSQL_TARGET_DB\`"
if [[ $(my "$MMS_MYSQL_USER" "$MMS_MYSQL_PASSWORD" "SELECT @@local_infile" 2>/dev/null) == 1 ]]; then
  ok "mariadb: local_infile is on"
else
  bad "mariadb: local_infile is on"
fi

# S3
body="hello from $T"
sha=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
check "s3: put an object" s3 PUT "$T.txt" -H "x-amz-content-sha256: $sha" --data-binary "$body"
if [[ $(s3 GET "$T.txt" 2>/dev/null) == "$body" ]]; then ok "s3: get it back"; else bad "s3: get it back"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' "$MMS_S3_ENDPOINT/$MMS_S3_BUCKET/$T.txt" || true)
if [[ $code == 403 ]]; then ok "s3: anonymous read refused"; else bad "s3: anonymous read refused (HTTP $code)"; fi

# Temporal
check "temporal: cluster health" "$TEMPORAL" operator cluster health --address "$MMS_TEMPORAL_ADDRESS"
sa=$("$TEMPORAL" operator search-attribute list --address "$MMS_TEMPORAL_ADDRESS" --namespace "$MMS_TEMPORAL_NAMESPACE" 2>&1 || true)
for a in MmsJobId MmsSource MmsTarget MmsKind MmsStatus; do
  if grep -Eq "^\s*$a\s+Keyword" <<<"$sa"; then ok "temporal: search attribute $a (Keyword)"; else bad "temporal: search attribute $a"; fi
done

if ((failures)); then
  echo "selftest: $failures check(s) failed"
  exit 1
fi
echo "selftest: all checks passed"
