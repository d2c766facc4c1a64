/**
 * How work items and queue statistics read in the operator commands' tables. A work item's
 * `secret` is never shown (the API returns it only to a poll, but it is left out here anyway).
 */
import type { Metadata, Work, WorkQueueStats } from '@envworker/core';
import { formatFields, formatTable } from './table.js';

/** `k=v k2=v2`, or `-` when empty. */
export function formatMetadata(metadata: Metadata): string {
  const entries = Object.entries(metadata);
  return entries.length === 0 ? '-' : entries.map(([key, value]) => `${key}=${value}`).join(' ');
}

function orDash(value: string | null): string {
  return value ?? '-';
}

/** Items as a table, one row each. */
export function formatWorkTable(items: readonly Work[]): string {
  return formatTable(
    ['ID', 'STATE', 'TYPE', 'DATA ID', 'CREATED', 'LAST HEARTBEAT', 'METADATA'],
    items.map((work) => [work.id, work.state, work.data.type, work.data.id, work.created_at, orDash(work.latest_heartbeat_at), formatMetadata(work.metadata)]),
  );
}

/** One item, field by field. */
export function formatWork(work: Work): string {
  return formatFields([
    ['id', work.id],
    ['environment', work.environment_id],
    ['state', work.state],
    ['data', `${work.data.type} ${work.data.id}`],
    ['created', work.created_at],
    ['acknowledged', orDash(work.acknowledged_at)],
    ['started', orDash(work.started_at)],
    ['last heartbeat', orDash(work.latest_heartbeat_at)],
    ['stop requested', orDash(work.stop_requested_at)],
    ['stopped', orDash(work.stopped_at)],
    ['metadata', formatMetadata(work.metadata)],
  ]);
}

/** Queue statistics, field by field. */
export function formatStats(stats: WorkQueueStats): string {
  return formatFields([
    ['depth', String(stats.depth)],
    ['pending', String(stats.pending)],
    ['oldest queued', orDash(stats.oldest_queued_at)],
    ['workers polling', String(stats.workers_polling)],
  ]);
}

/** An item as JSON output shows it: as the API returned it, without its `secret`. */
export function workJson(work: Work): Omit<Work, 'secret'> {
  const { secret: _secret, ...rest } = work;
  return rest;
}
