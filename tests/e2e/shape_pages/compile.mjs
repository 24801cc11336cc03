// The shape pages import the checkers of tests/types/shapes.ts, compiled to
// ./generated/ (not in git). Every test serving these pages compiles them first, so
// a clean clone runs any of those tests alone or in any order.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { ROOT } from '../../../scripts/lib/stack.mjs';

/** Compiles tests/types/shapes.ts into tests/e2e/shape_pages/generated/. */
export async function compileShapeCheckers() {
  await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tests/types/tsconfig.emit.json'], { cwd: ROOT });
}
