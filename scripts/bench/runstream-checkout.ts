// Runstream as of an earlier commit, for a before/after comparison in one machine state: the commit's files
// (`git archive`, so the repository and the working tree are left alone) in a temporary directory, with the
// installed node_modules linked in and the workspace links pointing into that checkout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../local-stack.ts';

export interface Checkout {
  root: string;
  commit: string;
  remove(): void;
}

export function checkoutAt(rev: string): Checkout {
  const commit = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', `${rev}^{commit}`], { encoding: 'utf8' }).trim();
  const root = mkdtempSync(join(tmpdir(), `runstream-at-${commit}-`));
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    execFileSync('bash', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'archive', REPO_ROOT, commit, root]);
    const modules = join(REPO_ROOT, 'node_modules');
    mkdirSync(join(root, 'node_modules/@runstream'), { recursive: true });
    for (const entry of readdirSync(modules)) {
      if (entry !== '@runstream') symlinkSync(join(modules, entry), join(root, 'node_modules', entry));
    }
    // The workspace links are relative (../../packages/x): copied as they are, they resolve inside the checkout.
    for (const pkg of readdirSync(join(modules, '@runstream'))) {
      symlinkSync(readlinkSync(join(modules, '@runstream', pkg)), join(root, 'node_modules/@runstream', pkg));
    }
    return { root, commit, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
