// `text-summary`: one line for CI logs, istanbul's text-summary squeezed onto
// a line: the overall percentage, the cached-read count, each app's figure,
// and what is not covered.
import { pctText } from '../metrics.js';
import type { CoverageModel } from '../model.js';
import { plural, type ReportContext } from './common.js';

export function formatTextSummary(coverage: CoverageModel, _context?: ReportContext): string {
  const { invalidations, caches } = coverage.totals;
  const apps = coverage.apps
    .map((a) => `${a.name} ${pctText(a.metrics.invalidations.pct)}`)
    .join(', ');
  const rest = [
    invalidations.uncovered ? `${invalidations.uncovered} uncovered` : '',
    invalidations.unknown ? `${invalidations.unknown} unknown` : '',
    invalidations.skipped ? `${invalidations.skipped} skipped` : '',
    coverage.unfollowedStreams.length
      ? `${plural(coverage.unfollowedStreams.length, 'stream')} no worker follows`
      : '',
  ].filter(Boolean);
  return (
    `Stream coverage: cache invalidations ${pctText(invalidations.pct)} (${invalidations.covered}/${invalidations.total}), ` +
    `cached reads ${pctText(caches.pct)} (${caches.covered}/${caches.total})` +
    (apps ? `; ${apps}` : '') +
    (rest.length ? `; ${rest.join(', ')}` : '') +
    '\n'
  );
}
