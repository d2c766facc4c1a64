/**
 * The image policy, applied when the worker starts: the image must be on the daemon (`never`), is
 * pulled when it is not (`if-not-present`), or is pulled every time (`always`). A pull's failure is
 * reported in its progress stream under status 200, so the stream is read to its end.
 *
 * Containers are then created from the image's id, not its name: every item of one worker runs the
 * same image even if the tag is moved while it runs.
 */
import { createInterface } from 'node:readline';
import { DockerApiError, type DockerClient } from './docker-client.js';
import { ImageInspectAnswer, PullProgressLine } from './docker-schemas.js';
import type { ImagePolicy } from './runtime-options.js';

/** The `fromImage` and `tag` parameters of a pull of `reference`. */
export function pullParameters(reference: string): { readonly fromImage: string; readonly tag: string | undefined } {
  // A digest pins the image: it is pulled as is.
  if (reference.includes('@')) return { fromImage: reference, tag: undefined };
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  // A colon before the last slash is a registry's port, not a tag. Without a tag a pull would
  // fetch every tag of the repository, so `latest` is named, as `docker pull` does.
  if (colon > slash) return { fromImage: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { fromImage: reference, tag: 'latest' };
}

/** Applies `policy` to `image`; resolves with the image's id, or throws saying what is missing or what the pull met. */
export async function ensureImage(client: DockerClient, image: string, policy: ImagePolicy): Promise<string> {
  if (policy !== 'always') {
    const present = await findImage(client, image);
    if (present !== null) return present;
    if (policy === 'never') {
      throw new Error(
        `docker: image ${image} is not on the daemon at ${client.endpoint.display} and imagePolicy is never: ` +
          'load or build it there first, or choose if-not-present',
      );
    }
  }
  await pull(client, image, policy);
  const pulled = await findImage(client, image);
  if (pulled === null) throw new Error(`docker: the pull of image ${image} ended, but the daemon at ${client.endpoint.display} does not have it`);
  return pulled;
}

/** The image's id, or `null` when the daemon does not have it. */
async function findImage(client: DockerClient, image: string): Promise<string | null> {
  try {
    // The reference was checked when the runtime was made (no `?`, `#` or `%`), so it goes into the path as is, slashes included.
    return (await client.call('GET', `/images/${image}/json`, { schema: ImageInspectAnswer })).Id;
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 404) return null;
    throw error;
  }
}

async function pull(client: DockerClient, image: string, policy: ImagePolicy): Promise<void> {
  const { fromImage, tag } = pullParameters(image);
  let body;
  try {
    body = await client.stream('POST', '/images/create', { query: { fromImage, tag }, timeoutMs: null });
  } catch (error) {
    const reason = error instanceof DockerApiError ? error.daemonMessage : (error as Error).message;
    throw new Error(`docker: pulling image ${image} failed (imagePolicy ${policy}): ${reason}`, { cause: error });
  }
  for await (const line of createInterface({ input: body, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let progress: unknown;
    try {
      progress = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = PullProgressLine.safeParse(progress);
    const message = parsed.success ? (parsed.data.error ?? parsed.data.errorDetail?.message) : undefined;
    if (message !== undefined) {
      body.destroy();
      throw new Error(`docker: pulling image ${image} failed (imagePolicy ${policy}): ${message}`);
    }
  }
}
