/**
 * Draws the live view on a terminal: a redraw from a fresh snapshot every half second, through
 * log-update, which rewrites only the lines that changed (in one synchronized write), so the
 * view does not flicker.
 */
import { createLogUpdate } from 'log-update';
import type { OutputStream } from '../cli-context.js';

/** How often the view is redrawn. */
export const REDRAW_INTERVAL_MS = 500;

/** A live view being drawn. */
export interface LiveView {
  /** Draws the last frame, leaves it on the screen, and stops. */
  stop(): void;
}

/** Starts drawing `frame(width)` on `stream` (a terminal) now and at every interval. */
export function startLiveView(stream: OutputStream, frame: (width: number) => string): LiveView {
  const update = createLogUpdate(stream as NodeJS.WriteStream, { showCursor: false });
  const draw = (): void => update(frame(stream.columns ?? 80));
  draw();
  const timer = setInterval(draw, REDRAW_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      draw();
      update.done();
    },
  };
}
