# Sourced by the scripts that drive the real window under Xvfb (smoke-gui.sh,
# smoke-gui-banks.sh, test-windows-gui.sh), after they set work (a temporary
# directory), pids (the array their cleanup kills), deadline (in SECONDS) and
# define fail.
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# wait_for DESCRIPTION COMMAND...: retry COMMAND until it succeeds, for
# WAIT_FOR seconds (30) and never past deadline; fail at once if the window's
# process gui_pid (once set; its name gui_name) has exited.
wait_for() {
  local what="$1"; shift
  local until=$((SECONDS + ${WAIT_FOR:-30}))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > until || SECONDS > deadline)); then fail "timed out waiting for $what"; fi
    if [ -n "${gui_pid:-}" ] && ! kill -0 "$gui_pid" 2>/dev/null; then fail "${gui_name:-inkan} exited while waiting for $what (see inkan.log)"; fi
    sleep 0.3
  done
}

# start_xvfb: an Xvfb of 1280×900, exported as DISPLAY once it takes clients.
# -displayfd: Xvfb picks a free display itself and writes its number once it
# accepts clients, so parallel test runs cannot race for the same display.
start_xvfb() {
  Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3> "$work/display" > "$work/xvfb.log" 2>&1 &
  xvfb_pid=$!
  pids+=("$xvfb_pid")
  wait_for "Xvfb to report its display" test -s "$work/display"
  export DISPLAY=":$(head -n1 "$work/display")"
  wait_for "Xvfb on $DISPLAY" xdotool getmouselocation
}
