/**
 * Whether this host can run the example's containers: the docker CLI answers, its daemon has the
 * session image (build-image.sh builds it; there is no registry to pull one from).
 */
import { execFile } from 'node:child_process';

/** `null` when Docker and `image` are there, else why not, in one line. */
export function dockerUnavailableReason(image: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { timeout: 15_000 }, (error, _stdout, stderr) => {
      if (error === null) return resolve(null);
      const detail = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no docker CLI on PATH' : stderr.trim().split('\n')[0] || error.message;
      resolve(`the image ${image} is not available (${detail}); build it with examples/sandbox-per-session/build-image.sh`);
    });
  });
}
