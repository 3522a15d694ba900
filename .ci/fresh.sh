# Sourced by .ci/run and .ci/readme_paths: make this run look like a machine that has never
# seen the project, even on a developer's machine where earlier setup lingers.
# - Every clone sits in a new private (0700) directory, as in a home directory.
# - As root, the embedded Postgres runs as an OS user named for this run only (created by
#   devstack, removed at the end), so a user made by hand earlier hides nothing.
# - Nothing of the checkout's .venv or .devstack is reused.
set -euo pipefail

CI_SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CI_WORK="$(mktemp -d -t credly-ci.XXXXXX)"  # mode 0700
chmod 0700 "$CI_WORK"
CI_CLONES=()
CI_USERS=()
if [ "$(id -u)" = 0 ]; then
    export DEVSTACK_PG_OS_USER="ci_pg_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
fi

# Free ports, so a developer's own stack (54329, 8765, 8025) may run meanwhile.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export DEVSTACK_PG_PORT="${DEVSTACK_PG_PORT:-$(free_port)}"
export DEVSTACK_SANDBOX_PORT="${DEVSTACK_SANDBOX_PORT:-$(free_port)}"
export DEVSTACK_SMTP_PORT="${DEVSTACK_SMTP_PORT:-$(free_port)}"

ci_say() { printf '\n== ci: %s\n' "$*"; }

# Clone the committed HEAD into a new private directory and cd there.
fresh_clone() {
    local dir="$CI_WORK/$1"
    git clone --quiet "$CI_SOURCE" "$dir"
    CI_CLONES+=("$dir")
    cd "$dir"
    ci_say "fresh clone in $dir (parent mode $(stat -c %a "$CI_WORK")${DEVSTACK_PG_OS_USER:+, postgres OS user $DEVSTACK_PG_OS_USER})"
}

# The day's summary must show badges issued: `issued` above zero.
expect_issued() {
    local summary="$1"
    if ! grep -Eq '^  issued +[1-9][0-9]*$' <<<"$summary"; then
        echo "ci: the run issued no badge:" >&2
        echo "$summary" >&2
        return 1
    fi
}

ci_cleanup() {
    local status=$?
    for dir in "${CI_CLONES[@]}"; do
        [ -x "$dir/.venv/bin/python" ] && (cd "$dir" && .venv/bin/python -m devstack down >/dev/null 2>&1 || true)
    done
    for user in ${DEVSTACK_PG_OS_USER:-} "${CI_USERS[@]}"; do
        id "$user" >/dev/null 2>&1 || continue
        pkill -KILL -u "$user" 2>/dev/null || true
        sleep 1
        userdel --remove "$user" 2>/dev/null || userdel "$user" || echo "ci: could not remove OS user $user" >&2
    done
    rm -rf "$CI_WORK"
    exit "$status"
}
trap ci_cleanup EXIT
