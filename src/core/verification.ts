import type { DifferingKey } from './table-compare';
import type { TaskVerification, VerifyResult } from './task';

/*
 * What verification results mean for the gate and the report. Pure and free of Node modules,
 * because workflow code uses it.
 */

/** Differing keys as people read them: `missing 5; extra 1000001; changed 7 (price, name)`. */
export function formatDifferingKeys(keys: DifferingKey[]): string {
  return keys
    .map(
      (k) =>
        `${k.kind} ${k.key.length === 1 ? k.key[0] : `(${k.key.join(', ')})`}` +
        (k.columns?.length ? ` (${k.columns.join(', ')})` : ''),
    )
    .join('; ');
}

/** Whether the checksum comparison, and the repair if one ran, leave the two sides equal. */
export function checksumsAgree(verify: VerifyResult): boolean {
  const c = verify.checksum;
  if (!c) return true;
  if (verify.repair) return verify.repair.supported && verify.repair.rangesStillDiffering === 0;
  return (
    c.done && c.rangesDiffering === 0 && c.source.rows === c.target.rows && c.source.hash === c.target.hash
  );
}

/** Why the checksums fail the gate, or nothing when they agree; `repairAsked` explains a repair that could not run. */
export function checksumProblems(verify: VerifyResult | undefined, repairAsked = false): string[] {
  const c = verify?.checksum;
  if (!verify || !c || checksumsAgree(verify)) return [];
  const counted = `${c.missing} missing, ${c.extra} extra, ${c.changed} changed${c.narrowed ? '' : ' at least'}`;
  const found =
    `checksums differ in ${c.rangesDiffering} of ${c.ranges} range(s) ` +
    `(rows ${c.source.rows} vs ${c.target.rows}, sums ${c.source.hash} vs ${c.target.hash})` +
    (c.keys.length ? `: ${counted}: ${formatDifferingKeys(c.keys)}` : '');
  const repair = verify.repair;
  if (repair && !repair.supported)
    return [`${found}; this target cannot replace key ranges, so no repair ran`];
  if (repair)
    return [`${found}; ${repair.rangesStillDiffering} of ${repair.ranges} repaired range(s) still differ`];
  if (repairAsked && !c.repairRanges)
    return [`${found}; not repairable by key range (a side has no key ranges, or too many ranges differ)`];
  return [found];
}

/** The report's view of a verification: small, keys capped by the comparison's own limit. */
export function verificationSummary(verify: VerifyResult, matched: boolean): TaskVerification {
  const c = verify.checksum;
  const r = verify.repair;
  return {
    mode: c ? 'checksum' : 'count',
    matched,
    ...(c && {
      sourceChecksum: c.source.hash,
      targetChecksum: c.target.hash,
      ranges: c.ranges,
      rangesDiffering: c.rangesDiffering,
      missing: c.missing,
      extra: c.extra,
      changed: c.changed,
      keys: c.keys,
      narrowed: c.narrowed,
    }),
    ...(r?.supported && { rangesRepaired: r.ranges, rowsRecopied: r.rowsRecopied }),
    durationMs: verify.durationMs,
  };
}
