#!/usr/bin/env bash
# Start meter-tui at boot in a detached tmux session; attach later over ssh with `tmux a`.
#
#   crontab -e, then add:   @reboot /home/pi/digital_meter/startup_cron.sh &
#
# Works from wherever the project lies: it finds its own folder and the project's .venv there.
#   METER_TUI_SESSION  tmux session name (default: meter)
#   METER_TUI_ARGS     extra arguments for meter-tui, e.g. "--demo" or "--port /dev/ttyUSB0"
#   METER_TUI_LOG      where this script logs what it did (default: startup_cron.log beside it)
#   TMUX_TMPDIR        tmux's own: where its socket lives (tmux and `tmux a` must agree)
# Running it again while the session exists does nothing. Exits 0 when the session runs, 1 when it cannot start it.

set -u

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
session="${METER_TUI_SESSION:-meter}"
log="${METER_TUI_LOG:-$here/startup_cron.log}"
app="$here/.venv/bin/meter-tui"
# cron starts jobs with PATH=/usr/bin:/bin; tmux may live elsewhere.
PATH="$PATH:/usr/local/bin:/usr/bin:/bin"

say() {
    printf '%s startup_cron: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >>"$log"
}

if ! command -v tmux >/dev/null 2>&1; then
    say "tmux not found (sudo apt install tmux); nothing started"
    exit 1
fi
if [ ! -x "$app" ]; then
    say "$app not found: install first (cd $here && python3 -m venv .venv && .venv/bin/pip install .); nothing started"
    exit 1
fi

# Run from inside another tmux session (by hand), tmux would refuse to nest: the new session is detached anyway.
unset TMUX

if tmux has-session -t "=$session" 2>/dev/null; then
    say "session '$session' already runs; nothing to do"
    exit 0
fi

read -r -a extra <<<"${METER_TUI_ARGS:-}"
command="$(printf '%q ' "$app" "${extra[@]}")"
# When meter-tui stops, the pane stays open and says why, so that `tmux a` shows the error instead of nothing.
pane="cd $(printf '%q' "$here") && $command; status=\$?; echo; echo \"meter-tui stopped (exit \$status); press Enter to close\"; read -r _"

if tmux new-session -d -s "$session" -x 80 -y 24 "$pane" 2>>"$log"; then
    say "started session '$session': $command"
    exit 0
fi
say "tmux could not start session '$session'"
exit 1
