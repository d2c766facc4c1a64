/**
 * Proves on a real redis-server that scripts declare every key they touch, all under one hash
 * tag. A standalone Redis 7 does not refuse an undeclared key, even in a script with a shebang
 * (only a cluster refuses, and only a key of another slot), so this watches the server instead:
 * MONITOR shows each EVAL or EVALSHA with its declared keys, followed by every command its script ran
 * (source `lua`; a script runs atomically, so nothing comes between), and `COMMAND GETKEYS` tells
 * which keys each of those commands touched.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/** What the audit saw between start and {@link KeyAudit.stop}. */
export interface KeyAuditReport {
  /** Calls of the audited scripts, by script name. */
  readonly calls: ReadonlyMap<string, number>;
  /** Each key touched without being declared, and each set of declared keys under more than one hash tag (once each). */
  readonly violations: readonly string[];
}

export interface KeyAudit {
  stop(): Promise<KeyAuditReport>;
}

interface ScriptCall {
  readonly name: string;
  readonly declared: readonly string[];
  readonly commands: Buffer[][];
}

/** The hash tag Redis Cluster hashes a key by: the text between the first `{` and the next `}`, when not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * Starts watching calls of `scripts` (name → Lua source). A call is known by its digest, whether
 * sent as EVALSHA or as EVAL: ioredis sends a script's source with EVAL the first time it uses the
 * script on a connection, and EVALSHA after that, so a script called once per connection only ever
 * shows as EVAL. The scripts are loaded too, so that a client's EVALSHA finds them. Calls of other
 * scripts are not audited.
 */
export async function startKeyAudit(url: string, scripts: ReadonlyMap<string, string>): Promise<KeyAudit> {
  const client = new Redis(url);
  const names = new Map<string, string>();
  for (const [name, lua] of scripts) {
    const digest = createHash('sha1').update(lua).digest('hex');
    const loaded = String(await client.script('LOAD', lua));
    if (loaded !== digest) throw new Error(`key audit: the server digests ${name} as ${loaded}, not ${digest}`);
    names.set(digest, name);
  }
  const calls: ScriptCall[] = [];
  let current: ScriptCall | undefined;
  const monitor = await openMonitor(url, (source, args) => {
    if (source === 'lua') {
      current?.commands.push(args);
      return;
    }
    current = undefined;
    const command = args[0]?.toString().toLowerCase();
    const script = args[1];
    if (script === undefined) return;
    let digest: string;
    if (command === 'evalsha') digest = script.toString().toLowerCase();
    else if (command === 'eval') digest = createHash('sha1').update(script).digest('hex');
    else return;
    const name = names.get(digest);
    if (name === undefined) return;
    const count = Number(args[2]?.toString());
    current = { name, declared: args.slice(3, 3 + count).map(String), commands: [] };
    calls.push(current);
  });
  return {
    stop: async () => {
      await monitor.close();
      try {
        return await judge(client, calls);
      } finally {
        client.disconnect();
      }
    },
  };
}

async function judge(client: Redis, calls: readonly ScriptCall[]): Promise<KeyAuditReport> {
  const counts = new Map<string, number>();
  const violations = new Set<string>();
  const keysOf = await touchedKeys(client, calls.flatMap((call) => call.commands));
  for (const call of calls) {
    counts.set(call.name, (counts.get(call.name) ?? 0) + 1);
    const tags = new Set(call.declared.map(hashTag));
    if (tags.size !== 1) violations.add(`${call.name}: declared keys under ${tags.size} hash tags: ${call.declared.join(' ')}`);
    const declared = new Set(call.declared);
    for (const command of call.commands) {
      for (const key of keysOf.get(commandId(command)) ?? []) {
        if (!declared.has(key)) violations.add(`${call.name}: ${command[0]?.toString()} touched undeclared key ${key}`);
      }
    }
  }
  return { calls: counts, violations: [...violations] };
}

function commandId(command: readonly Buffer[]): string {
  return command.map((part) => part.toString('base64')).join(' ');
}

/** The keys of each distinct command, as the server itself extracts them. */
async function touchedKeys(client: Redis, commands: readonly Buffer[][]): Promise<Map<string, string[]>> {
  const distinct = new Map<string, Buffer[]>();
  for (const command of commands) distinct.set(commandId(command), command);
  const entries = [...distinct];
  const keys = new Map<string, string[]>();
  for (let start = 0; start < entries.length; start += 1000) {
    const batch = entries.slice(start, start + 1000);
    const pipeline = client.pipeline();
    for (const [, command] of batch) pipeline.call('COMMAND', 'GETKEYS', ...command);
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach(([id], index) => {
      const [error, reply] = replies[index] ?? [new Error('no reply'), null];
      if (error !== null) {
        if (/no key arguments/.test(error.message)) keys.set(id, []);
        else throw new Error(`key audit: COMMAND GETKEYS failed: ${error.message}`);
      } else {
        keys.set(id, (reply as unknown[]).map(String));
      }
    });
  }
  return keys;
}

/**
 * A raw MONITOR connection: each line's source (`lua` for a script's own commands) and its
 * arguments, unescaped to their exact bytes (ioredis' own monitor splits arguments that contain
 * a quote followed by a space wrongly).
 */
async function openMonitor(url: string, onLine: (source: string, args: Buffer[]) => void): Promise<{ close(): Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.write('MONITOR\r\n');
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) !== -1) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (line === '+OK') resolve();
        else if (line.startsWith('-')) reject(new Error(`key audit: MONITOR refused: ${line}`));
        else parseMonitorLine(line, onLine);
      }
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      }),
  };
}

/** `+<time> [<db> <source>] "arg" "arg" …`, arguments escaped as Redis's sdscatrepr does. */
function parseMonitorLine(line: string, onLine: (source: string, args: Buffer[]) => void): void {
  const header = /^\+\S+ \[\d+ ([^\]]+)\] /.exec(line);
  if (header === null) return;
  const args: Buffer[] = [];
  let index = header[0].length;
  while (index < line.length) {
    if (line[index] !== '"') throw new Error(`key audit: cannot read the MONITOR line ${line.slice(0, 200)}`);
    const bytes: number[] = [];
    index += 1;
    while (line[index] !== '"') {
      const char = line[index];
      if (char === undefined) throw new Error(`key audit: unterminated argument in ${line.slice(0, 200)}`);
      if (char !== '\\') {
        bytes.push(line.charCodeAt(index));
        index += 1;
        continue;
      }
      const escaped = line[index + 1];
      if (escaped === 'x') {
        bytes.push(Number.parseInt(line.slice(index + 2, index + 4), 16));
        index += 4;
      } else {
        bytes.push(({ n: 10, r: 13, t: 9, a: 7, b: 8 } as Record<string, number>)[escaped ?? ''] ?? line.charCodeAt(index + 1));
        index += 2;
      }
    }
    args.push(Buffer.from(bytes));
    index += line[index + 1] === ' ' ? 2 : 1;
  }
  onLine(header[1] ?? '', args);
}
