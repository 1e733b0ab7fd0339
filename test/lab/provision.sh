#!/usr/bin/env bash
# Provision the lab's host tools and the Asterisk 22 chroot (Debian sid).
# Idempotent: a cached chroot is reused, so reruns take seconds.
# Why a chroot: Asterisk 22 is not packaged for Debian 12, it is in sid; the chroot shares the host
# network, so everything binds to 127.0.0.1.
set -euo pipefail

LAB_CACHE=${CALLBACKD_LAB_CACHE:-/var/cache/callbackd-lab}
ROOTFS="$LAB_CACHE/sid-asterisk"

die() { echo "provision: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and bind mounts need it)"

need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v sipp >/dev/null || need_pkgs+=(sip-tester)
# smtp-sink (from postfix, never started as a service here) is the real SMTP server of the email tests.
[ -x /usr/sbin/smtp-sink ] || need_pkgs+=(postfix)
# The console's browser tests (test/browser) drive Debian's Chromium; never a downloaded build.
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "provision: installing ${need_pkgs[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# The mirror is whatever this machine's apt already uses; nothing is hard-coded.
mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt sources"
  echo "$uri"
}

if [ -x "$ROOTFS/usr/sbin/asterisk" ]; then
  echo "provision: reusing cached chroot $ROOTFS"
else
  mkdir -p "$LAB_CACHE"
  tmp="$ROOTFS.partial"
  rm -rf "$tmp"
  echo "provision: debootstrap sid into $tmp (about a minute)"
  debootstrap --variant=minbase --include=asterisk,asterisk-modules,asterisk-config \
    sid "$tmp" "$(mirror)" > "$LAB_CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$LAB_CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $LAB_CACHE/debootstrap.log)"; }
  mv "$tmp" "$ROOTFS"
fi
"$ROOTFS/usr/sbin/asterisk" -V 2>/dev/null || chroot "$ROOTFS" /usr/sbin/asterisk -V
echo "provision: sipp $(sipp -v 2>&1 | grep -o 'v[0-9.]*' | head -1)"
