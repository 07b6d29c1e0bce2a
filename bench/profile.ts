/**
 * Summarises the worker CPU profiles that `npm run bench -- --cpu-prof <dir>` writes: where the
 * worker's own CPU time goes, by function and by file. (idle) is time spent waiting.
 *
 *   npx tsx bench/profile.ts <dir>/<route> [top]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

const [dir, topArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: tsx bench/profile.ts <profile dir> [top]');
const top = Number(topArg ?? 25);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const add = (map: Map<string, number>, key: string, ms: number): void =>
  void map.set(key, (map.get(key) ?? 0) + ms);
let total = 0;

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * msPerSample;
    if (ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // Paths shortened to what tells the story: our files, a package, or Node itself.
    const where = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1');
    const short = where.replace(/^.*\/(src|bench)\//, '$1/');
    add(byFunction, `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`, ms);
    add(byFile, short || functionName, ms);
    total += ms;
  }
}

const print = (title: string, map: Map<string, number>): void => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(1)} s sampled)`);
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${(ms / 1000).toFixed(2).padStart(8)} s ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${key}`,
    );
};
print('self time by file or package', byFile);
print('self time by function', byFunction);
