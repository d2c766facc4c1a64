/** The CPU-burning load of the lateness benchmarks, as one bash command. */

/**
 * A bash command that spins for about `burnMs` (in whole seconds, at least one) on bash's own
 * clock and loop: no process started, no sleep, all CPU.
 */
export function cpuBurnCommand(burnMs: number): string {
  const seconds = Math.max(1, Math.round(burnMs / 1000));
  return `end=$((SECONDS + ${seconds})); while [ $SECONDS -lt $end ]; do :; done`;
}
