/**
 * The lines `bench:voice --dump=DIR` saved, recognised again line by line with the bench's recogniser
 * settings, so the misrecognised lines can be listed and compared across rows (e.g. an engine against
 * Festival on the same line).
 *
 * Run: npm run build && node dist/bench/voice-dump-lines.bench.js DIR [DIR...] [--rows=flite,festival]
 * (rows whose name starts so) [--recognisers=frate50,tempo2] [--misses] (only lines some column missed)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDump, recognise, RECOGNISERS } from './closed-set-recogniser.js';

function main(): void {
  const argv = process.argv.slice(2);
  const folders = argv.filter((a) => !a.startsWith('--'));
  const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const rows = option('rows')?.split(',');
  const chosen = option('recognisers')?.split(',') ?? ['frate50', 'tempo2'];
  const recognisers = RECOGNISERS.filter((r) => chosen.includes(r.name));
  const missesOnly = argv.includes('--misses');
  const dir = mkdtempSync(join(tmpdir(), 'mv-dump-lines-'));
  try {
    for (const folder of folders) {
      const saved = readDump(folder);
      saved.forEach((line, i) => {
        if (rows && !rows.some((r) => line.row.startsWith(r))) return;
        const wav = join(folder, `${i}.wav`);
        const answers: string[] = [];
        for (const recogniser of recognisers)
          for (const set of ['twins', 'open'] as const) {
            const heard = recognise(dir, wav, set === 'twins' ? line.twins : line.open, recogniser);
            answers.push(heard === line.truth ? 'ok' : heard === null ? 'none' : `"${heard}"`);
          }
        if (missesOnly && answers.every((a) => a === 'ok')) return;
        console.log(`${folder}/${i}.wav\t${line.row}\t${line.file}\t"${line.truth}"\t${answers.join('\t')}`);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
