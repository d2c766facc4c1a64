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

/**
 * A plot of a benchmark's cases that the report draws (an SVG next to its table): the median of
 * each metric against a parameter, with the min–max of the runs as an error bar. A case without
 * one of the metrics (say, one not measured here) is left out of the plot.
 */
export interface PlotSpec {
  /** File name stem of the SVG (lower-case letters, digits and `-`; unique within the benchmark). */
  readonly id: string;
  readonly title: string;
  /** The parameter on the x axis: a numeric axis when every value is a number, else one category per value in case order. */
  readonly x: string;
  /** Title of the x axis; default the parameter's name. */
  readonly xLabel?: string;
  /** `log` needs a numeric parameter with values above 0. */
  readonly xScale?: 'linear' | 'log';
  /** The metrics drawn (keys of `columns`), one series each, named by their column's label. */
  readonly y: readonly string[];
  readonly yLabel: string;
  /** `log` needs every median, min and max above 0. */
  readonly yScale?: 'linear' | 'log';
  /** A parameter whose values split the series further (one line or bar group per metric and value). */
  readonly series?: string;
  /** A parameter whose values each get their own panel, side by side. */
  readonly facet?: string;
  /** Lines for a trend over a numeric x (the default), bars for a few categories. */
  readonly mark?: 'line' | 'bar';
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
  /** Plots the report draws from the cases; none when absent. */
  readonly plots?: readonly PlotSpec[];
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
