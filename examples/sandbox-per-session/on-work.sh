#!/bin/sh
# The on-work script of the sandbox-per-session example: run once per work item by the handover
# poller (src/handover-poller.ts), with the item's `--on-work` variables in the environment and
# its JSON on standard input. It starts one container for the item (one session, one sandbox)
# whose entrypoint is `envworker run` with no command: inside it, `run` holds the item's lease (the
# poller that claimed and acked the item does not) while it serves the item's agent session itself
# in /workspace (the agent toolset: bash, read, write, edit, glob, grep), and stops the item once
# the session's turn ended and it stayed idle for --max-idle.
#
# The container gets every ANTHROPIC_* variable, the secret included: it is this item's own
# sandbox, and the item's sessions token is the credential `run` heartbeats and serves the session
# with. The repository is
# mounted read-only at /envworker for the CLI (its sources and node_modules). --network host: the
# local control plane listens on the host's 127.0.0.1.
set -eu
: "${ANTHROPIC_WORK_ID:?not set: run me as an on-work script}"
: "${ENVWORKER_REPO:?not set: the repository root to mount (the launcher sets it)}"
image=${ENVWORKER_SESSION_IMAGE:-envworker-example/node-session:latest}

exec docker run --rm -i --network host \
  --name "envworker-session-$ANTHROPIC_WORK_ID" \
  --label envworker.example=sandbox-per-session \
  -e ANTHROPIC_WORK_ID -e ANTHROPIC_ENVIRONMENT_ID -e ANTHROPIC_SESSION_ID \
  -e ANTHROPIC_ENVIRONMENT_KEY -e ANTHROPIC_BASE_URL -e ANTHROPIC_WORK_SECRET \
  -v "$ENVWORKER_REPO:/envworker:ro" \
  -w /workspace \
  "$image" \
  node /envworker/packages/cli/bin/envworker.js run --log-format text --max-idle 500ms
