// @ts-check
/**
 * The conformance program of the worker-thread runtime: it obeys `metadata.conformance` of the work
 * item it reads on standard input, as `@envworker/core/conformance` describes (behaviour.ts), with
 * only what any on-work program has: standard input, `process.env`, standard output, and the
 * polite signal as `process.on('SIGTERM')`. Plain JavaScript, since a thread gets no TypeScript
 * loader (and so it cannot import the TypeScript sources of core either: the few names it needs are
 * repeated here).
 *
 *   exit:<code>  exit at once with that code
 *   trap:<code>  print the ready line, wait for the polite signal, exit with that code
 *   ignore       print the ready line, ignore the polite signal, run until killed
 *   sleep        print the ready line, run until the polite signal's default effect ends it
 *   echo         print `CONFORMANCE <json>` (what it sees), exit 0
 */
const READY_LINE = 'CONFORMANCE-READY';
const ECHO_PREFIX = 'CONFORMANCE ';
const CANARY = 'ENVWORKER_CONFORMANCE_CANARY';
const ON_WORK_VARIABLES = [
  'ANTHROPIC_WORK_ID',
  'ANTHROPIC_ENVIRONMENT_ID',
  'ANTHROPIC_SESSION_ID',
  'ANTHROPIC_ENVIRONMENT_KEY',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_WORK_SECRET',
];

let stdin = '';
for await (const chunk of process.stdin) stdin += chunk;
const behaviour = JSON.parse(stdin).metadata?.conformance;
const withCode = typeof behaviour === 'string' ? /^(exit|trap):(\d{1,3})$/.exec(behaviour) : null;

/** Keeps the thread alive until the polite signal or a kill ends it. */
function runUntilEnded() {
  return setInterval(() => undefined, 60_000);
}

if (withCode?.[1] === 'exit') {
  process.exitCode = Number(withCode[2]);
} else if (withCode?.[1] === 'trap') {
  const alive = runUntilEnded();
  process.on('SIGTERM', () => {
    clearInterval(alive);
    process.exitCode = Number(withCode[2]);
  });
  process.stdout.write(`${READY_LINE}\n`);
} else if (behaviour === 'ignore') {
  runUntilEnded();
  process.on('SIGTERM', () => undefined);
  process.stdout.write(`${READY_LINE}\n`);
} else if (behaviour === 'sleep') {
  runUntilEnded();
  process.stdout.write(`${READY_LINE}\n`);
} else if (behaviour === 'echo') {
  const names = Object.keys(process.env);
  const echo = {
    env: Object.fromEntries(names.filter((name) => ON_WORK_VARIABLES.includes(name)).map((name) => [name, process.env[name]])),
    otherAnthropicVariables: names.filter((name) => name.startsWith('ANTHROPIC_') && !ON_WORK_VARIABLES.includes(name)).sort(),
    canaryVisible: names.includes(CANARY),
    stdin,
  };
  process.stdout.write(`${ECHO_PREFIX}${JSON.stringify(echo)}\n`);
} else {
  process.stderr.write(`metadata.conformance must be one of exit:<code>, trap:<code>, ignore, sleep, echo; got ${JSON.stringify(behaviour)}\n`);
  process.exitCode = 2;
}
