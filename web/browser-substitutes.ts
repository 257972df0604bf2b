/**
 * Node-only modules and their browser stand-ins (paths from the repository root). The playground's Vite build
 * swaps them; package.json "browser" maps the same files under dist/ for anyone bundling the library; a test
 * checks that the two lists agree and that nothing else on the browser path imports a Node built-in.
 */
export const browserSubstitutes: Readonly<Record<string, string>> = {
  'src/tasks/seq-image-files.ts': 'src/tasks/seq-image-files.browser.ts',
  'src/train/parallel.ts': 'src/train/parallel.browser.ts',
};
