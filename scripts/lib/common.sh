# Sourced by the scripts under scripts/ (bash, set -euo pipefail).

# grep_q is grep -q that reads all its input: under pipefail, grep -q quitting
# at its first match can kill the writer with SIGPIPE and fail a pipeline that
# matched.
grep_q() { grep "$@" >/dev/null; }
