#!/bin/bash
# The demo's first run as a user sees it: `agent-tui demo` in tmux on a fresh data dir;
# seconds from the start to the login form, and to the entry screen when Enter is pressed as
# soon as the form shows (the login waits while the store seeds). docs/benchmarks.md
# ("The demo's first run"). Usage: bench/demo_first_run.sh [runs]
cd "$(dirname "$0")/.." || exit 1
for _ in $(seq "${1:-3}"); do
  D=$(mktemp -d)
  export TMUX_TMPDIR=$D AGENT_TUI_DATA_DIR=$D/home AGENT_TUI_DEMO_PORT=$((20000 + RANDOM % 10000))
  export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
  unset TMUX
  S=bench$$
  start=$(date +%s.%N)
  tmux new-session -d -s $S -x 120 -y 36 ".venv/bin/agent-tui demo; sleep 30"
  until tmux capture-pane -t $S -p | grep -q "坐席登录"; do sleep 0.05; done
  form=$(echo "$(date +%s.%N) - $start" | bc)
  tmux send-keys -t $S Enter
  until tmux capture-pane -t $S -p | grep -q "来电号码"; do sleep 0.05; done
  in=$(echo "$(date +%s.%N) - $start" | bc)
  echo "login form ${form}s  logged in ${in}s  load $(cut -d' ' -f1 /proc/loadavg)"
  tmux kill-server
  rm -rf "$D"
done
