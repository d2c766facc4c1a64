/**
 * Where the Docker Engine API is: the `dockerHost` option, else `DOCKER_HOST`, else the local
 * socket `/var/run/docker.sock`. A unix socket (`unix:///path`) or plain TCP (`tcp://host:port`,
 * for a daemon on a trusted network or behind a local proxy) is supported; TLS and SSH are not,
 * and asking for them is an error rather than a silent downgrade.
 */
import { isAbsolute } from 'node:path';
import { optionError } from './option-error.js';

/** The default socket of a local daemon. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** How to reach the daemon. */
export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string; readonly display: string }
  | { readonly kind: 'tcp'; readonly origin: string; readonly display: string };

/**
 * Resolves the endpoint from the option (or, when it is absent, from `env`). Throws a `TypeError`
 * naming `dockerHost` (or `DOCKER_HOST`) when it is not a supported address.
 */
export function resolveDockerEndpoint(option: unknown, env: NodeJS.ProcessEnv = process.env): DockerEndpoint {
  const fromEnv = option === undefined;
  const field = fromEnv ? 'the DOCKER_HOST variable' : 'dockerHost';
  const value = fromEnv ? env['DOCKER_HOST'] : option;
  if (value === undefined || value === '') return { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET}` };
  if (typeof value !== 'string') optionError(`${field} must be a string such as unix:///var/run/docker.sock`);
  if (fromEnv && env['DOCKER_TLS_VERIFY'] !== undefined && env['DOCKER_TLS_VERIFY'] !== '') {
    optionError('DOCKER_TLS_VERIFY is set, but TLS connections to the daemon are not supported; use its unix socket');
  }
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!isAbsolute(socketPath)) optionError(`${field} must name an absolute socket path (unix:///var/run/docker.sock), got ${JSON.stringify(value)}`);
    return { kind: 'unix', socketPath, display: value };
  }
  if (value.startsWith('tcp://')) {
    let url: URL;
    try {
      url = new URL(`http://${value.slice('tcp://'.length)}`);
    } catch {
      optionError(`${field} is not a valid tcp://host:port address, got ${JSON.stringify(value)}`);
    }
    if (url.port === '' || url.pathname !== '/' || url.search !== '' || url.username !== '') {
      optionError(`${field} must be tcp://host:port with nothing after the port, got ${JSON.stringify(value)}`);
    }
    return { kind: 'tcp', origin: url.origin, display: value };
  }
  optionError(`${field} must start with unix:// or tcp:// (TLS and ssh:// are not supported), got ${JSON.stringify(value)}`);
}
