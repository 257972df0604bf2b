/**
 * An error as the page shows it: its type by name and its message. The bundle is minified, so a class's own name
 * (Error.prototype.name from `new.target.name`) can come out as a letter; the library's typed errors also carry a
 * stable `code`, and the name is read from that when it is one the library defines.
 */
const byCode: Readonly<Record<string, string>> = {
  ONWARD_ERROR: 'OnwardError',
  SHAPE: 'ShapeError',
  CONFIG: 'ConfigError',
  UNKNOWN_NAME: 'UnknownNameError',
  NON_FINITE: 'NonFiniteError',
  UNSUPPORTED: 'UnsupportedError',
  FILE_FORMAT: 'FileFormatError',
  DIVERGED: 'DivergenceError',
};

export function describeError(e: unknown): { name: string; message: string } {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const code = (e as { code?: unknown }).code;
  const known = typeof code === 'string' ? byCode[code] : undefined;
  // a name that a minifier made up is shorter than any real one ('n', 'Qe'); then say only that it is an error
  const name = known ?? (e.name.length > 3 ? e.name : 'Error');
  return { name, message: e.message };
}
