import { describe, expect, it } from 'vitest';
import { atMost, compare, median, reference, type JobRun } from '../../bench/job';

const run = (seconds: number, peakRssMb = 200): JobRun =>
  ({ seconds, peakRssMb, idleRssMb: 150, cpuSeconds: 2, machineBusy: 0.9 }) as JobRun;

describe('bench medians', () => {
  it('take the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('judge a route on median over median, keep every round and the highest peak RSS', () => {
    const [line] = compare(
      'PG → PG',
      10,
      [run(5), run(8, 250), run(4.5)],
      [{ name: 'pipe', target: atMost(1.1), seconds: [5, 5.5, 4] }],
    );
    expect(line!.seconds).toBe(5);
    expect(line!.baselineSeconds).toBe(5);
    expect(line!.ratio).toBe(1);
    expect(line!.met).toBe(true);
    expect(line!.peakRssMb).toBe(250);
    expect(line!.rounds).toEqual({ seconds: [5, 8, 4.5], baselineSeconds: [5, 5.5, 4] });
    expect(line!.note).toBe('median of 3 rounds; by round 1.00, 1.45, 1.13×');
  });

  it('miss a target whose median ratio is over it', () => {
    const [line] = compare(
      'PG → PG',
      10,
      [run(6), run(6), run(6)],
      [{ name: 'pipe', target: atMost(1.1), seconds: [5, 5, 5] }],
    );
    expect(line!.ratio).toBeCloseTo(1.2);
    expect(line!.met).toBe(false);
  });

  it('leave a target unjudged when its baseline failed in a round, and say why', () => {
    const [line] = compare(
      'PG → PG',
      10,
      [run(5), run(5)],
      [{ name: 'pipe', target: atMost(1.1), seconds: [5, new Error('psql died')] }],
    );
    expect(line!.met).toBeUndefined();
    expect(line!.note).toContain('baseline: psql died');
  });

  it('fail every line of a route whose job failed in any round', () => {
    const failed = Object.assign(new Error('worker killed'), { peakRssMb: 400 });
    const lines = compare(
      'PG → PG',
      10,
      [run(5), failed],
      [
        { name: 'pipe', target: atMost(1.1), seconds: [5, 5] },
        { name: 'binary', target: reference, seconds: [4] },
      ],
    );
    expect(lines.map((l) => l.met)).toEqual([false, false]);
    expect(lines[0]!.note).toContain('worker killed');
    expect(lines[0]!.peakRssMb).toBe(400);
    expect(lines[1]!.ratio).toBeUndefined();
  });

  it('set a reference measured once against the median job, with no round ratios', () => {
    const [line] = compare(
      'PG → PG',
      10,
      [run(5), run(6), run(4)],
      [{ name: 'binary', target: reference, seconds: [4] }],
    );
    expect(line!.ratio).toBe(1.25);
    expect(line!.met).toBeUndefined();
    expect(line!.note).toBeUndefined();
  });
});
