#!/usr/bin/env bash
# Start/stop the lab Asterisk inside the cached sid chroot (see provision.sh).
#   asterisk.sh start   -> configs copied in, /proc and /dev bind-mounted, Asterisk up, ARI+AMI answering
#   asterisk.sh stop    -> Asterisk stopped, mounts released
#   asterisk.sh restart
#   asterisk.sh cli "pjsip show contacts"
# CALLBACKD_LAB_INSTANCE=b runs the lab's second server (README "Running several servers") in the
# same chroot with its own config, run, log, astdb and spool dirs and ports: ARI/HTTP 8089, AMI 5039,
# SIP 5160, its trunk carrier-b to a SIPp carrier on 5181 (test/lab/asterisk-b/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
LAB_CACHE=${CALLBACKD_LAB_CACHE:-/var/cache/callbackd-lab}
ROOTFS="$LAB_CACHE/sid-asterisk"
INSTANCE=${CALLBACKD_LAB_INSTANCE:-a}
case "$INSTANCE" in
  a) NAME=asterisk-lab; HTTP_PORT=8088; AMI_PORT=5038; SIP_PORT=5060; OTHER=asterisk-lab-b ;;
  b) NAME=asterisk-lab-b; HTTP_PORT=8089; AMI_PORT=5039; SIP_PORT=5160; OTHER=asterisk-lab ;;
  *) echo "lab asterisk: CALLBACKD_LAB_INSTANCE must be a or b" >&2; exit 2 ;;
esac
ETC="$ROOTFS/etc/$NAME"
ARI_URL=${CALLBACKD_LAB_ARI:-http://127.0.0.1:$HTTP_PORT}

die() { echo "lab asterisk: $*" >&2; exit 1; }
[ -x "$ROOTFS/usr/sbin/asterisk" ] || die "no chroot at $ROOTFS; run test/lab/provision.sh first"

mounted() { grep -q " $1 " /proc/mounts; }
mount_all() {
  for d in proc dev; do
    mounted "$ROOTFS/$d" || mount --bind "/$d" "$ROOTFS/$d" || die "cannot bind-mount /$d (need root)"
  done
}
umount_all() {
  for d in dev proc; do mounted "$ROOTFS/$d" && umount -l "$ROOTFS/$d" || true; done
}
in_chroot() { chroot "$ROOTFS" "$@"; }
cli() { in_chroot /usr/sbin/asterisk -C /etc/$NAME/asterisk.conf -rx "$1"; }
pid() { cat "$ROOTFS/run/$NAME/asterisk.pid" 2>/dev/null || true; }
running() { local p; p=$(pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# The other instance shares the chroot's /proc and /dev mounts: they stay while it runs.
other_running() { local p; p=$(cat "$ROOTFS/run/$OTHER/asterisk.pid" 2>/dev/null || true); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

install_config() {
  # Fresh state every start: registrations live in astdb, and a test must not inherit the last one's.
  rm -rf "$ETC" "$ROOTFS/var/lib/$NAME"; mkdir -p "$ETC" "$ROOTFS/run/$NAME" "$ROOTFS/var/log/$NAME" \
    "$ROOTFS/var/lib/$NAME" "$ROOTFS/var/spool/$NAME" "$ROOTFS/var/spool/$NAME/recording"
  # The sample configs that admins copy are loaded unchanged; the lab only adds its own files.
  cp "$repo"/sip-config/*.conf "$ETC/"
  cp "$repo"/dialplan/*.conf "$ETC/"
  cp "$here"/asterisk/*.conf "$ETC/"
  # The FastAGI shared secret, new for every start and never in the repo (SECURITY.md): the
  # dialplan #tryincludes it, the lab's callbackd reads the same file (agi.secretFile, test/lab/lab.ts).
  (umask 077; echo "CALLBACKD_AGI_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > "$ETC/callbackd-agi-secret.conf")
  # Extra config for one run (the benchmark's generated phones), e.g. pjsip_bench.conf.
  if [ -n "${CALLBACKD_LAB_EXTRA_DIR:-}" ]; then cp "$CALLBACKD_LAB_EXTRA_DIR"/*.conf "$ETC/"; fi
  # Asterisk looks up this machine's hostname for every new channel; the chroot has no
  # /etc/hosts, so each lookup went to DNS and one in ~15 stalled for the resolver's 5 s timeout
  # (measured: ARI originate took 5.0 s instead of 2 ms). Give the chroot the host's names.
  cp /etc/hosts "$ROOTFS/etc/hosts"
  grep -qw "$(hostname)" "$ROOTFS/etc/hosts" || echo "127.0.1.1 $(hostname)" >> "$ROOTFS/etc/hosts"
  for f in rtp.conf indications.conf musiconhold.conf features.conf stasis.conf codecs.conf; do
    [ -f "$ROOTFS/etc/asterisk/$f" ] && cp "$ROOTFS/etc/asterisk/$f" "$ETC/" || true
  done
  if [ "$INSTANCE" = b ]; then
    # The second server: the same samples on its own dirs and ports, plus its own trunk.
    sed -i "s#/asterisk-lab\$#/$NAME#" "$ETC/asterisk.conf"
    sed -i "s/^bindport=8088/bindport=$HTTP_PORT/" "$ETC/http.conf"
    sed -i "s/^port=5038/port=$AMI_PORT/" "$ETC/manager.conf"
    sed -i "s/^bind=127.0.0.1:5060/bind=127.0.0.1:$SIP_PORT/" "$ETC/pjsip.conf"
    cp "$here"/asterisk-b/*.conf "$ETC/"
    # Its RTP ports apart from server a's, so two busy servers never race for one port.
    printf '[general]\nrtpstart=30000\nrtpend=39999\n' > "$ETC/rtp.conf"
  fi
}

wait_ready() {
  # $1: the pid of the chroot we launched. Asterisk writes its own pid file a moment after it
  # starts, so "is it still alive?" must ask the process we launched, not the pid file.
  local child=$1 i
  for i in $(seq 1 150); do
    if curl -fsS -o /dev/null -u "callbackd:lab-ari-secret" "$ARI_URL/ari/asterisk/info" 2>/dev/null \
      && (exec 3<>/dev/tcp/127.0.0.1/$AMI_PORT) 2>/dev/null; then
      return 0
    fi
    kill -0 "$child" 2>/dev/null || { tail -30 "$ROOTFS/var/log/$NAME/console.log" >&2 || true; die "Asterisk exited during start"; }
    sleep 0.2
  done
  die "Asterisk did not answer on ARI/AMI within 30 s (log: $ROOTFS/var/log/$NAME/)"
}

start() {
  if running; then echo "lab asterisk: already running (pid $(pid))"; return 0; fi
  install_config
  mount_all
  # -f: foreground (we background it ourselves), so the process is ours to kill even if CLI fails.
  nohup chroot "$ROOTFS" /usr/sbin/asterisk -f -C /etc/$NAME/asterisk.conf \
    > "$ROOTFS/var/log/$NAME/console.log" 2>&1 < /dev/null &
  wait_ready $!
  echo "lab asterisk $INSTANCE: up (pid $(pid)), $(cli 'core show version' | head -1)"
}

stop() {
  if running; then
    cli "core stop now" >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do running || break; sleep 0.1; done
    running && kill -9 "$(pid)" 2>/dev/null || true
  fi
  rm -f "$ROOTFS/run/$NAME/asterisk.pid"
  other_running || umount_all
  echo "lab asterisk $INSTANCE: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running && echo "running (pid $(pid))" || { echo "stopped"; exit 1; } ;;
  cli) shift; cli "$*" ;;
  *) echo "usage: $0 start|stop|restart|status|cli COMMAND" >&2; exit 2 ;;
esac
