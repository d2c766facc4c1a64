/**
 * The JSON file each benchmark writes to `results/<name>.json`, and the report is generated from:
 * the figures, the machine they were measured on, the versions, and the parameters.
 */
import { cpus, totalmem, platform, arch, release } from 'node:os';
import { VERSION as SDK_VERSION } from '@anthropic-ai/sdk/version';
import { VERSION as CORE_VERSION } from '@envworker/core';
import type { Summary } from './stats.js';

/** A column of a benchmark's table. */
export interface MetricColumn {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
}

/** One configuration of a benchmark and its figures. */
export interface BenchCase {
  readonly params: Readonly<Record<string, number | string>>;
  readonly metrics: Readonly<Record<string, Summary>>;
}

/** A stated goal and whether the measured figure meets it. */
export interface GoalCheck {
  readonly goal: string;
  /** The figure compared: the median of a case's metric. */
  readonly value: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpu_model: string;
  readonly total_memory_bytes: number;
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
}

export interface Versions {
  readonly node: string;
  readonly envworker_core: string;
  readonly anthropic_sdk: string;
}

/** The content of `results/<name>.json`. */
export interface BenchResult {
  readonly name: string;
  readonly title: string;
  /** How it was measured, in a sentence or two (goes to the report above the table). */
  readonly method: string;
  readonly generated_at: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly columns: readonly MetricColumn[];
  readonly cases: readonly BenchCase[];
  readonly goals: readonly GoalCheck[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model.trim() ?? 'unknown',
    total_memory_bytes: totalmem(),
    platform: platform(),
    release: release(),
    arch: arch(),
  };
}

export function versions(): Versions {
  return { node: process.version, envworker_core: CORE_VERSION, anthropic_sdk: SDK_VERSION };
}
