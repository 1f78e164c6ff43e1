#!/bin/sh
# Starts kakoi's TURN relay: relay/turnserver.conf plus the per-deployment values from the
# environment, written to $TURN_RUN_DIR/turnserver.conf (mode 0600: it holds the secret), then
# `exec turnserver -c` that file. Used by the container image (ENTRYPOINT), `make turn`, `make app`
# and the tests. POSIX sh + coreutils + openssl only. See relay/README.md for every variable.
set -eu

fail() { echo "kakoi-turn: $*" >&2; exit 2; }

CONF="${TURN_CONFIG:-$(dirname "$0")/turnserver.conf}"
RUN_DIR="${TURN_RUN_DIR:-/run/kakoi-turn}"
[ -r "$CONF" ] || fail "configuration $CONF is not readable"
[ -n "${TURN_SECRET:-}" ] || fail "TURN_SECRET (the TURN REST API shared secret) is required"
[ "${#TURN_SECRET}" -ge 32 ] || fail "TURN_SECRET must be at least 32 characters"
[ -n "${TURN_REALM:-}" ] || fail "TURN_REALM (e.g. turn.example.com) is required"
[ -n "${TURN_ALLOWED_PEER_CIDRS:-}" ] || fail "TURN_ALLOWED_PEER_CIDRS (the relay range, e.g. the relay subnets) is required"

number() { # name value min max
  case "$2" in '' | *[!0-9]*) fail "$1 must be a number, got '$2'" ;; esac
  [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || fail "$1 must be between $3 and $4, got $2"
}
LISTEN_PORT="${TURN_LISTEN_PORT:-5349}"
MIN_PORT="${TURN_MIN_PORT:-49152}"
MAX_PORT="${TURN_MAX_PORT:-49407}"
USER_QUOTA="${TURN_USER_QUOTA:-12}"
TOTAL_QUOTA="${TURN_TOTAL_QUOTA:-1200}"
number TURN_LISTEN_PORT "$LISTEN_PORT" 1 65535
number TURN_MIN_PORT "$MIN_PORT" 1024 65535
number TURN_MAX_PORT "$MAX_PORT" "$MIN_PORT" 65535
number TURN_USER_QUOTA "$USER_QUOTA" 1 1000
number TURN_TOTAL_QUOTA "$TOTAL_QUOTA" 1 100000
if [ "$LISTEN_PORT" -ge "$MIN_PORT" ] && [ "$LISTEN_PORT" -le "$MAX_PORT" ]; then
  fail "TURN_LISTEN_PORT ($LISTEN_PORT) must lie outside the relay range $MIN_PORT-$MAX_PORT"
fi

# a.b.c.d/n -> "first-last" (coturn takes ranges); IPv4 only: the relay subnets are IPv4.
cidr_range() {
  cidr="$1"
  case "$cidr" in *:*) fail "TURN_ALLOWED_PEER_CIDRS: '$cidr' is not an IPv4 CIDR (the relay range is IPv4)" ;; esac
  case "$cidr" in */*) addr="${cidr%/*}" bits="${cidr#*/}" ;; *) addr="$cidr" bits=32 ;; esac
  case "$bits" in '' | *[!0-9]*) fail "TURN_ALLOWED_PEER_CIDRS: bad prefix length in '$cidr'" ;; esac
  [ "$bits" -le 32 ] || fail "TURN_ALLOWED_PEER_CIDRS: bad prefix length in '$cidr'"
  old_ifs="$IFS"; IFS=.
  # shellcheck disable=SC2086
  set -- $addr
  IFS="$old_ifs"
  [ "$#" -eq 4 ] || fail "TURN_ALLOWED_PEER_CIDRS: '$cidr' is not an IPv4 CIDR"
  value=0
  for octet in "$@"; do
    case "$octet" in '' | *[!0-9]*) fail "TURN_ALLOWED_PEER_CIDRS: '$cidr' is not an IPv4 CIDR" ;; esac
    [ "$octet" -le 255 ] || fail "TURN_ALLOWED_PEER_CIDRS: '$cidr' is not an IPv4 CIDR"
    value=$(( (value << 8) | octet ))
  done
  size=$(( 1 << (32 - bits) ))
  first=$(( value & ~(size - 1) & 0xFFFFFFFF ))
  last=$(( first + size - 1 ))
  dotted() { echo "$(( ($1 >> 24) & 255 )).$(( ($1 >> 16) & 255 )).$(( ($1 >> 8) & 255 )).$(( $1 & 255 ))"; }
  echo "$(dotted "$first")-$(dotted "$last")"
}

ALLOWED=""
old_ifs="$IFS"; IFS=,
for cidr in $TURN_ALLOWED_PEER_CIDRS; do
  IFS="$old_ifs"
  cidr=$(echo "$cidr" | tr -d ' ')
  [ -n "$cidr" ] || continue
  range=$(cidr_range "$cidr") || exit 2
  ALLOWED="$ALLOWED allowed-peer-ip=$range"
done
IFS="$old_ifs"
[ -n "$ALLOWED" ] || fail "TURN_ALLOWED_PEER_CIDRS holds no CIDR"

mkdir -p "$RUN_DIR"
umask 077
if [ -n "${TURN_TLS_CERT:-}" ] || [ -n "${TURN_TLS_KEY:-}" ]; then
  [ -r "${TURN_TLS_CERT:-}" ] || fail "TURN_TLS_CERT (${TURN_TLS_CERT:-unset}) is not a readable PEM file"
  [ -r "${TURN_TLS_KEY:-}" ] || fail "TURN_TLS_KEY (${TURN_TLS_KEY:-unset}) is not a readable PEM file"
  CERT="$TURN_TLS_CERT" KEY="$TURN_TLS_KEY"
else
  # Behind a load balancer that re-encrypts to the target: a fresh self-signed pair per start.
  CERT="$RUN_DIR/tls.crt" KEY="$RUN_DIR/tls.key"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$TURN_REALM" -addext "subjectAltName=DNS:$TURN_REALM" \
    -keyout "$KEY" -out "$CERT" 2>/dev/null || fail "could not generate a self-signed certificate"
fi

OUT="$RUN_DIR/turnserver.conf"
{
  cat "$CONF"
  echo
  echo "# --- appended by relay/entrypoint.sh from the environment ---"
  echo "tls-listening-port=$LISTEN_PORT"
  [ -z "${TURN_LISTEN_IP:-}" ] || echo "listening-ip=$TURN_LISTEN_IP"
  [ -z "${TURN_RELAY_IP:-}" ] || echo "relay-ip=$TURN_RELAY_IP"
  [ -z "${TURN_EXTERNAL_IP:-}" ] || echo "external-ip=$TURN_EXTERNAL_IP"
  echo "min-port=$MIN_PORT"
  echo "max-port=$MAX_PORT"
  echo "realm=$TURN_REALM"
  echo "static-auth-secret=$TURN_SECRET"
  echo "cert=$CERT"
  echo "pkey=$KEY"
  echo "user-quota=$USER_QUOTA"
  echo "total-quota=$TOTAL_QUOTA"
  echo "userdb=$RUN_DIR/turndb"
  echo "pidfile=$RUN_DIR/turnserver.pid"
  for line in $ALLOWED; do echo "$line"; done
  # Local runs only (make turn, tests: the relay address is 127.0.0.1). Never set in the image.
  if [ "${TURN_ALLOW_LOOPBACK_PEERS:-false}" = true ]; then echo "allow-loopback-peers"; fi
} >"$OUT"
chmod 0600 "$OUT"

exec turnserver -c "$OUT" "$@"
