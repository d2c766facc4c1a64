/**
 * @envworker/cli: the `envworker` binary. Its entry point is `bin/envworker.js`; this module
 * exports the same CLI as a function, for hosts that run it in-process (and for tests).
 */
export { runCli } from './cli.js';
export { processContext, type CliContext, type OutputStream, type SignalSource } from './cli-context.js';
export { parseDuration, formatDuration, parseDurationRange, DurationError, MAX_DURATION_MS } from './config/duration.js';
export { VERSION } from './version.js';
export { startLiveView, REDRAW_INTERVAL_MS, type LiveView } from './live/live-view.js';
export { renderView, formatAge, type ViewModel } from './live/render-view.js';
export { LogPanel, compactLogLine } from './live/log-panel.js';
export { ToolActivity, activityText, type ItemActivity } from './live/tool-activity.js';
