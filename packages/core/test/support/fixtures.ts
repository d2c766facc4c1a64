/** Valid wire objects for the fault server to answer with, and the headers every call carries. */
import { readFileSync } from 'node:fs';

export const ENV_ID = 'env_0123456789abcdefghijklmn';
export const WORK_ID = 'work_0123456789abcdefghijklmn';
export const ENV_KEY = 'envkey-SECRET-0123456789';
export const API_KEY = 'adminkey-SECRET-9876543210';
export const SESSIONS_TOKEN = 'sesstok-SECRET-5555555555';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};

/** The headers every call sends, whatever the method (contract §1). */
export const FIXED_HEADERS = {
  'anthropic-version': '2026-10-21',
  'anthropic-beta': 'managed-agents-2026-04-01',
  'user-agent': `${packageJson.name}/${packageJson.version}`,
} as const;

export function workJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'work',
    id: WORK_ID,
    environment_id: ENV_ID,
    data: { type: 'session', id: 'sesn_0123456789abcdefghijklmn' },
    state: 'queued',
    created_at: '2026-11-28T17:00:00.123456Z',
    acknowledged_at: null,
    started_at: null,
    latest_heartbeat_at: null,
    stop_requested_at: null,
    stopped_at: null,
    metadata: {},
    secret: null,
    ...overrides,
  };
}

export function heartbeatJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'work_heartbeat',
    last_heartbeat: '2026-11-28T17:00:01.000001Z',
    lease_extended: true,
    state: 'active',
    ttl_seconds: 120,
    ...overrides,
  };
}

export function statsJson(): Record<string, unknown> {
  return { type: 'work_queue_stats', depth: 2, pending: 1, oldest_queued_at: '2026-11-28T17:00:00.123456Z', workers_polling: 1 };
}

export function environmentJson(): Record<string, unknown> {
  return {
    type: 'environment',
    id: ENV_ID,
    name: 'dev',
    environment_key: ENV_KEY,
    created_at: '2026-11-28T17:00:00.123456Z',
    config: { type: 'self_hosted' },
  };
}

/** The request headers minus the two undici adds on its own (`host`, `connection`). */
export function sentHeaders(headers: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const { host: _host, connection: _connection, ...rest } = headers;
  return rest;
}
