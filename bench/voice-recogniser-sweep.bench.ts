/**
 * Recogniser settings for sung (slow) material, tried on the lines `bench:voice --dump=DIR` saved: each
 * saved line (every engine's and reference's audio, with both candidate sets) is recognised again with
 * extra `pocketsphinx_continuous` arguments and/or a WSOLA tempo change, identically for every row, so a
 * setting can be judged by what it does to the references (slowed speech, Festival) and not only to
 * our engine.
 *
 * Run: npm run build && node dist/bench/voice-recogniser-sweep.bench.js DIR [--rows=flite,festival,...]
 * (rows whose name starts so; default all) [--tempo=X] [-- ARGS...] (pocketsphinx arguments after `--`)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDump, recognise, type Recogniser } from './closed-set-recogniser.js';

function main(): void {
  const argv = process.argv.slice(2);
  const split = argv.indexOf('--');
  const own = split < 0 ? argv : argv.slice(0, split);
  const args = split < 0 ? [] : argv.slice(split + 1);
  const folder = own.find((a) => !a.startsWith('--'));
  if (!folder) throw new Error('usage: voice-recogniser-sweep DIR [--rows=a,b] [--tempo=X] [-- pocketsphinx args]');
  const rows = own
    .find((a) => a.startsWith('--rows='))
    ?.slice('--rows='.length)
    .split(',');
  const tempo = Number(own.find((a) => a.startsWith('--tempo='))?.slice('--tempo='.length) ?? 0) || undefined;
  const recogniser: Recogniser = { name: `${tempo ? `tempo ${tempo} ` : ''}${args.join(' ')}`.trim() || 'default', args, tempo };
  const saved = readDump(folder);
  const dir = mkdtempSync(join(tmpdir(), 'mv-recogniser-sweep-'));
  const counts = new Map<string, { lines: number; twins: number; open: number }>();
  try {
    saved.forEach((line, i) => {
      if (rows && !rows.some((r) => line.row.startsWith(r))) return;
      const wav = join(folder, `${i}.wav`);
      const c = counts.get(line.row) ?? { lines: 0, twins: 0, open: 0 };
      c.lines++;
      if (recognise(dir, wav, line.twins, recogniser) === line.truth) c.twins++;
      if (recognise(dir, wav, line.open, recogniser) === line.truth) c.open++;
      counts.set(line.row, c);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`Recogniser: ${recogniser.name}`);
  console.log('| row | lines | twins | open |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [row, c] of counts)
    console.log(`| ${row} | ${c.lines} | ${(c.twins / c.lines).toFixed(3)} (${c.twins}) | ${(c.open / c.lines).toFixed(3)} (${c.open}) |`);
}

main();
