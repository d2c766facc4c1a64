/** The limits of the agent toolset, in one place: the official runner's, so results match it. */

/** Output of a bash call kept (its tail), and of a grep (its head). */
export const BASH_OUTPUT_LIMIT = 100 * 1024;
export const GREP_OUTPUT_LIMIT = 100 * 1024;
/** A bash call's timeout when its input gives none. */
export const BASH_DEFAULT_TIMEOUT_MS = 120_000;
/** Size cap of `read` and `edit` (both hold the whole file) unless configured. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024;
/** A grep's longest run, and its longest line (longer lines are cut). */
export const GREP_TIMEOUT_MS = 60_000;
export const GREP_MAX_LINE_LENGTH = 2000;
/** Searches at once in the process, each on its own worker thread. */
export const GREP_MAX_SEARCHES = 4;
export const GLOB_RESULT_LIMIT = 200;
/** Bounds of a directory walk (glob and grep). */
export const WALK_MAX_ENTRIES = 50_000;
export const WALK_MAX_DEPTH = 40;
/** Directories no walk enters. */
export const WALK_SKIPPED = ['.git', 'node_modules'] as const;
/** Mode of a file `write` creates, and of the directories it makes. */
export const FILE_CREATE_MODE = 0o600;
export const DIR_CREATE_MODE = 0o700;
