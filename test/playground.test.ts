/**
 * The playground end to end, in a real browser: `onward playground` serves the built page (npm test's pretest
 * builds it) on 127.0.0.1; Debian's Chromium, driven by playwright-core (which never downloads a browser), loads
 * it, trains two learners side by side, watches the loss fall and the charts redraw, downloads the model, checks
 * that `onward eval` reads it and gets the page's own evaluation, loads the file back into the page, and runs two
 * learners in stream mode. Every
 * request that is not to the local server is refused and fails the test. A screenshot goes to .tmp/playground.png.
 *
 * Chromium missing: under CI (.ci/run installs it) the test fails saying so; elsewhere it is skipped, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.ONWARD_CHROMIUM ?? '/usr/bin/chromium';
const root = join(import.meta.dirname, '..');
const cli = (args: string[]): string => execFileSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/bin.ts'), ...args], { cwd: root, encoding: 'utf8' });

/** start `onward playground --port 0` from the sources; resolves with its URL and a stop function */
async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/bin.ts'), 'playground', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`onward playground did not start: ${out}`)), 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`onward playground exited with ${code}: ${out}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

interface Row { step: number; done: boolean; evalLoss: number; firstEvalLoss: number; evalCount: number }

async function row(page: Page, slot: 'a' | 'b'): Promise<Row | null> {
  return page.evaluate((s) => {
    const tr = document.querySelector<HTMLTableRowElement>(`#stats tr[data-slot="${s}"]`);
    if (!tr) return null;
    const d = tr.dataset;
    return { step: Number(d.step), done: d.done === 'true', evalLoss: Number(d.evalLoss), firstEvalLoss: Number(d.firstEvalLoss), evalCount: Number(d.evalCount) };
  }, slot);
}

async function chartState(page: Page, id: string): Promise<{ draws: number; points: number; image: string }> {
  return page.$eval(`#${id}`, (c) => {
    const canvas = c as HTMLCanvasElement;
    return { draws: Number(canvas.dataset.draws ?? 0), points: Number(canvas.dataset.points ?? 0), image: canvas.toDataURL() };
  });
}

const missing = !existsSync(CHROMIUM);
const skip = missing && !process.env.CI ? `Chromium is not installed at ${CHROMIUM} (apt-get install chromium); .ci/run installs it` : false;

test('the playground trains two learners in the browser, and its model file works with onward eval', { skip, timeout: 180_000 }, async () => {
  assert.ok(!missing, `Chromium is required for this test and is missing at ${CHROMIUM}: .ci/run installs it with apt-get install chromium`);
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const tmp = mkdtempSync(join(tmpdir(), 'onward-playground-'));
  try {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 }, acceptDownloads: true });
    const outside: string[] = [];
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(server.url) || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
      outside.push(u);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    // the form lists the library's tables
    const options = async (id: string): Promise<string[]> => page.$$eval(`#${id} option`, (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok((await options('task')).includes('copy'));
    assert.ok((await options('model')).includes('lru') && (await options('model')).includes('gru'));
    assert.ok((await options('learner')).includes('online-lru'));

    // copy task, LRU stack: online-lru against bptt from the same seed
    await page.selectOption('#task', 'copy');
    await page.selectOption('#model', 'lru');
    await page.selectOption('#learner', 'online-lru');
    await page.selectOption('#compare', 'bptt');
    await page.fill('#steps', '240');
    await page.fill('#seed', '3');
    await page.click('#start');

    await page.waitForFunction(() => Number(document.querySelector<HTMLTableRowElement>('#stats tr[data-slot="a"]')?.dataset.evalCount ?? 0) >= 2, undefined, { timeout: 60_000 });
    const before = await chartState(page, 'chart-loss');
    await page.waitForFunction(() => Number(document.querySelector<HTMLTableRowElement>('#stats tr[data-slot="a"]')?.dataset.evalCount ?? 0) >= 4, undefined, { timeout: 60_000 });
    const after = await chartState(page, 'chart-loss');
    assert.ok(after.draws > before.draws, `the loss chart redrew (${before.draws} → ${after.draws} draws)`);
    assert.ok(after.points > before.points, `it has more points (${before.points} → ${after.points})`);
    assert.notEqual(after.image, before.image, 'the pixels changed');

    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLTableRowElement>("#stats tr[data-slot]")).every((tr) => tr.dataset.done === 'true'),
      undefined, { timeout: 120_000 });
    const a = (await row(page, 'a'))!, b = (await row(page, 'b'))!;
    assert.equal(a.step, 240);
    assert.equal(b.step, 240);
    for (const [name, r] of [['online-lru', a], ['bptt', b]] as const) {
      assert.ok(r.evalLoss < 0.8 * r.firstEvalLoss, `${name}: eval loss ${r.firstEvalLoss} → ${r.evalLoss}`);
    }
    for (const id of ['chart-metric', 'chart-seq-a', 'chart-seq-b', 'chart-cost']) {
      assert.ok((await chartState(page, id)).points > 0, `${id} shows data`);
    }
    mkdirSync(join(root, '.tmp'), { recursive: true });
    await page.screenshot({ path: join(root, '.tmp', 'playground.png') });

    // download the model of learner A, evaluate it with the command line: the same held-out loss as the page's
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-a')]);
    const modelPath = join(tmp, download.suggestedFilename());
    await download.saveAs(modelPath);
    assert.match(download.suggestedFilename(), /^onward-copy-lru-online-lru\.json$/);
    assert.equal(JSON.parse(readFileSync(modelPath, 'utf8')).format, 'onward.model');
    const hint = await page.textContent('#cli-hint');
    assert.match(hint ?? '', /onward eval --model-file .* --task copy --preset ci --seed 3 --batch 16/);
    const out = cli(['eval', '--model-file', modelPath, '--task', 'copy', '--preset', 'ci', '--seed', '3', '--batch', '16', '--json']);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!).result as { loss: number };
    assert.ok(Math.abs(summary.loss - a.evalLoss) <= 1e-5 * Math.abs(a.evalLoss), `onward eval: ${summary.loss}, the page: ${a.evalLoss}`);

    // load the file back: the page evaluates it and gets the same loss
    await page.setInputFiles('#load', modelPath);
    await page.waitForFunction(() => Number(document.querySelector<HTMLTableRowElement>('#stats tr[data-slot="a"]')?.dataset.evalCount ?? 0) >= 1 &&
      !document.querySelector('#stats tr[data-slot="b"]'), undefined, { timeout: 30_000 });
    const loaded = (await row(page, 'a'))!;
    assert.equal(loaded.step, 0);
    assert.ok(Math.abs(loaded.evalLoss - a.evalLoss) <= 1e-5 * Math.abs(a.evalLoss), `loaded: ${loaded.evalLoss}, trained: ${a.evalLoss}`);

    // stream mode: the sequences back to back, batch 1, predict then learn — two learners again
    await page.selectOption('#mode', 'stream');
    await page.selectOption('#task', 'spiral');
    await page.selectOption('#model', 'gru');
    await page.selectOption('#learner', 'rtrl');
    await page.selectOption('#compare', 'tbptt');
    await page.fill('#steps', '60');
    const streamBefore = await chartState(page, 'chart-loss');
    await page.click('#start');
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLTableRowElement>('#stats tr[data-slot]'))
      .every((tr) => tr.dataset.done === 'true' && Number(tr.dataset.step) === 60), undefined, { timeout: 60_000 });
    const streamAfter = await chartState(page, 'chart-loss');
    assert.ok(streamAfter.draws > streamBefore.draws && streamAfter.points > 0, 'the loss chart follows the stream');
    for (const slot of ['a', 'b'] as const) assert.ok(Number.isFinite((await row(page, slot))!.evalLoss), `stream ${slot} reports an online loss`);
    await page.screenshot({ path: join(root, '.tmp', 'playground-stream.png') });

    // what a browser cannot do is refused by name on the page: seq-image's paper preset reads IDX files from disk
    await page.selectOption('#mode', 'episodes');
    await page.selectOption('#task', 'seq-image');
    await page.selectOption('#preset', 'paper');
    await page.click('#start');
    await page.waitForSelector('#status .error', { timeout: 30_000 });
    assert.match((await page.textContent('#status .error')) ?? '', /a browser cannot do; use source=1/);

    assert.deepEqual(errors, [], 'no errors in the page');
    assert.deepEqual(outside, [], 'nothing but the local server was asked for anything');
  } finally {
    await browser.close();
    server.stop();
  }
});
