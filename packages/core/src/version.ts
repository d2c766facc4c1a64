/**
 * The package's own name and version, as the client reports them in `user-agent`. A test keeps
 * them equal to `package.json`, so a release cannot ship with a stale user agent.
 */

/** The npm name of this package. */
export const PACKAGE_NAME = '@envworker/core';

/** The version of this package. */
export const VERSION = '0.1.0';
