// Writing a report: each requested format to its file under the report
// directory. The only module of src/report that touches the file system.
// All or nothing: every file is rendered and written to a temporary file
// first, and only when all of them are written are they renamed into place,
// so a path that cannot be written leaves neither a partial report nor a mix
// of this run's files and an older run's.
import { statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asUserError, ensureOutputDirectory, OutputPathError } from '../lint/output-file.js';
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

const WHAT = 'coverage report';

export async function writeReport(
  coverage: CoverageModel,
  dir: string,
  formats: readonly ReportFormatName[],
  context: ReportContext,
): Promise<WrittenFile[]> {
  await ensureOutputDirectory(dir, WHAT);
  const files = [...new Set(formats)].map((format) => {
    const path = join(dir, REPORT_FILES[format]);
    return { format, path, temp: `${path}.${process.pid}.tmp` };
  });
  // A directory where a file goes would fail only at the rename: refuse it first.
  for (const { path } of files) {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // missing: written below
    }
    if (isDirectory)
      throw new OutputPathError(`cannot write the ${WHAT} to ${path}: it is a directory`);
  }
  const removeTemps = () =>
    Promise.all(files.map((f) => rm(f.temp, { force: true }).catch(() => undefined)));
  for (const { format, path, temp } of files) {
    try {
      // Files never carry terminal colour codes.
      await writeFile(temp, reportFormatters[format](coverage, { ...context, color: false }));
    } catch (error) {
      await removeTemps();
      throw asUserError(error, WHAT, path);
    }
  }
  for (const { path, temp } of files) {
    try {
      await rename(temp, path);
    } catch (error) {
      await removeTemps();
      throw asUserError(error, WHAT, path);
    }
  }
  return files.map(({ format, path }) => ({ format, path }));
}
