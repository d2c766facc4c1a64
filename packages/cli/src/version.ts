/**
 * The CLI's version, as `envworker --version` prints it. A test keeps it equal to `package.json`.
 */

/** The version of `@envworker/cli`. */
export const VERSION = '0.1.0';
