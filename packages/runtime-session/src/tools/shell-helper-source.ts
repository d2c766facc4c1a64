/**
 * The program of the shell helper (`helperShellSpawner()`): a bash script, run once per spawner
 * with the worker's loopback port as `$1`, that starts every shell by forking itself, which is
 * far cheaper than the worker forking its own large process. Job control (`set -m`) gives each
 * forked job a process group of its own, in the worker's session (see `shell-spawner.ts` for why the
 * session matters). A request on stdin is its size, 8 decimal digits, then that many bytes of
 * bash assignments of `id`, `cwd` and the array `vars` (`NAME=value` each), single-quoted by the
 * worker and read with `eval`. Both are read with `read -N`, in a few syscalls: `read -d` takes
 * one syscall per byte, about 350 a request, which was a sixth of the helper's CPU per shell. The
 * job enters the directory, connects to the worker, writes the id and a newline on that
 * connection, makes it its stdin, stdout and stderr, replaces the environment with exactly the
 * given variables (the helper starts with an empty one, so bash's own OLDPWD, PWD and SHLVL are
 * all it has to drop), and execs the shell. The helper answers on stdout, one line each:
 * `pid <id> <pid>`, or `error <id> <why>` from a job that could not start. It ends when its stdin
 * does (the worker is gone); a shell then sees end of input once the worker's end of its
 * connection closes. Bash reaps the jobs as they exit.
 *
 * `LC_ALL=C`, set and never exported, makes `read -N` count bytes, and keeps bash from loading the
 * locale a job's `LANG` names when the job exports it: the shell it execs loads it anyway.
 */
export const SHELL_HELPER_SCRIPT = `
port=$1
set -m
exec 2>/dev/null
LC_ALL=C
while IFS= read -r -N 8 size && IFS= read -r -N "$((10#$size))" request; do
  id='' cwd='' vars=()
  eval "$request"
  (
    cd -- "$cwd" || { printf 'error %s cannot enter the working directory\\n' "$id"; exit 1; }
    exec 0<>"/dev/tcp/127.0.0.1/$port" || { printf 'error %s cannot reach the worker\\n' "$id"; exit 1; }
    exec 1>&0 2>&0
    printf '%s\\n' "$id"
    unset OLDPWD PWD SHLVL
    if ((\${#vars[@]} > 0)); then export -- "\${vars[@]}"; fi
    exec /bin/bash --noprofile --norc
  ) &
  printf 'pid %s %s\\n' "$id" "$!"
done
`;
