#!/usr/bin/env node
// The `envworker` launcher. A built package runs `dist/bin.js`. In the workspace there is no
// build: the CLI runs from its TypeScript sources, which takes two things Node cannot do alone,
// both set up here in-process (no second process, so signals reach the CLI directly):
//   1. the `@envworker/source` export condition, so `@envworker/*` imports resolve to each
//      package's `src/index.ts` (a resolve hook that adds the condition, registered first so it
//      runs after tsx's, on the specifier tsx hands on);
//   2. tsx's loader, which compiles the TypeScript.
// This is what `node --conditions=@envworker/source --import tsx src/bin.ts` (the root script) does.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const built = new URL('../dist/bin.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  register(
    'data:text/javascript,export function resolve(specifier, context, next) {' +
      ' return next(specifier, { ...context, conditions: [...context.conditions, "@envworker/source"] }); }',
  );
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  await import(new URL('../src/bin.ts', import.meta.url).href);
}
