// Writing a report: each requested format to its file under the report
// directory. The only module of src/report that touches the file system.
import { join } from 'node:path';
import { ensureOutputDirectory, writeFileAtomically } from '../lint/output-file.js';
import {
  REPORT_FILES,
  reportFormatters,
  type ReportContext,
  type ReportFormatName,
} from './formatters/index.js';
import type { CoverageModel } from './model.js';

export interface WrittenFile {
  readonly format: ReportFormatName;
  readonly path: string;
}

export async function writeReport(
  coverage: CoverageModel,
  dir: string,
  formats: readonly ReportFormatName[],
  context: ReportContext,
): Promise<WrittenFile[]> {
  await ensureOutputDirectory(dir, 'coverage report');
  const written: WrittenFile[] = [];
  for (const format of [...new Set(formats)]) {
    const path = join(dir, REPORT_FILES[format]);
    // Files never carry terminal colour codes.
    await writeFileAtomically(
      path,
      reportFormatters[format](coverage, { ...context, color: false }),
      'coverage report',
    );
    written.push({ format, path });
  }
  return written;
}
