// store-lint's version: the storesplit package's.
import { PACKAGE_ROOT } from '../package-root.js';

export const TOOL_VERSION = PACKAGE_ROOT.version;
