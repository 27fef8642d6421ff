#!/usr/bin/env bash
# Installs grok2api as a systemd service:
#   /usr/local/bin/grok2api                the binary
#   /etc/systemd/system/grok2api.service   the unit
#   /etc/grok2api/config.toml              from config.example.toml, only if absent
#   /etc/grok2api/config.example.toml      always refreshed
#   /etc/grok2api/grok2api.env             secrets template, only if absent
#   user and group grok2api                if absent
# Running it again upgrades the binary, the unit and the example, restarts the service if
# it is running, and never touches an existing config.toml or grok2api.env.
#
# Usage: sudo deploy/install.sh [BINARY]    (default: dist/grok2api; see npm run build / release)
# DESTDIR=/some/root deploy/install.sh …    installs under that root and leaves users and
#                                           systemd alone (packaging, tests)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
binary=${1:-$repo/dist/grok2api}
destdir=${DESTDIR:-}
user=grok2api

die() {
  echo "install.sh: $*" >&2
  exit 1
}

[[ -f $binary && -x $binary ]] || die "no executable at $binary (build one with: npm run build)"
[[ -n $destdir || $(id -u) -eq 0 ]] || die "run as root (or set DESTDIR to install under another root)"

bin_dir=$destdir/usr/local/bin
etc_dir=$destdir/etc/grok2api
unit_dir=$destdir/etc/systemd/system

# Files holding secrets are root:grok2api 0640, so only the service can read them.
owner=()
if [[ -z $destdir ]]; then
  getent group "$user" >/dev/null || groupadd --system "$user"
  id -u "$user" >/dev/null 2>&1 ||
    useradd --system --gid "$user" --home-dir /var/lib/grok2api --no-create-home --shell /usr/sbin/nologin "$user"
  owner=(-o root -g "$user")
fi

install -d -m 0755 "$bin_dir" "$unit_dir"
install -d -m 0750 "${owner[@]}" "$etc_dir"

# Copy, check that the copy runs here (architecture, libc, a noexec mount), then rename:
# a binary that cannot run never replaces one that can, and a running service keeps the
# old file until it restarts.
install -m 0755 "$binary" "$bin_dir/grok2api.new"
if ! version=$(timeout 30 "$bin_dir/grok2api.new" --version 2>&1) || [[ $version != grok2api\ * ]]; then
  rm -f "$bin_dir/grok2api.new"
  die "$binary does not run on this machine (--version said: ${version:-nothing}); nothing was replaced"
fi
mv -f "$bin_dir/grok2api.new" "$bin_dir/grok2api"
install -m 0644 "$here/grok2api.service" "$unit_dir/grok2api.service"
install -m 0640 "${owner[@]}" "$repo/config.example.toml" "$etc_dir/config.example.toml"

if [[ ! -e $etc_dir/config.toml ]]; then
  install -m 0640 "${owner[@]}" "$repo/config.example.toml" "$etc_dir/config.toml"
  echo "installed $etc_dir/config.toml (every option commented out: the defaults)"
fi

if [[ ! -e $etc_dir/grok2api.env ]]; then
  env_tmp=$(mktemp)
  cat >"$env_tmp" <<'ENV'
# Secrets for grok2api, read by systemd (EnvironmentFile=). Uncomment and fill in.
#XAI_API_KEY=xai-...
# Required when host is not a loopback address and XAI_API_KEY is set (comma-separated):
#GROK2API_API_KEYS=a-long-random-client-key
#GROK2API_METRICS_TOKEN=a-long-random-metrics-token
# Teams: virtual keys, the usage ledger and the dashboard at /admin/ (at least 16 characters):
#GROK2API_ADMIN_TOKEN=a-long-random-admin-token
#GROK2API_STORE_URL=postgres://grok2api:...@db.internal:5432/grok2api
#GROK2API_REDIS_URL=redis://127.0.0.1:6379
ENV
  install -m 0640 "${owner[@]}" "$env_tmp" "$etc_dir/grok2api.env"
  rm -f "$env_tmp"
  echo "installed $etc_dir/grok2api.env (put XAI_API_KEY there)"
fi

if [[ -z $destdir && -d /run/systemd/system ]]; then
  systemctl daemon-reload
  systemctl try-restart grok2api.service # only if it is running
fi

echo "grok2api ${version#grok2api } installed."
if [[ -z $destdir ]]; then
  echo "Next: edit /etc/grok2api/config.toml and /etc/grok2api/grok2api.env, then"
  echo "  grok2api --check-config /etc/grok2api/config.toml --env-file /etc/grok2api/grok2api.env"
  echo "  systemctl enable --now grok2api"
fi
