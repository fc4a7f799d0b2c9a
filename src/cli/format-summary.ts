/** Human-readable summaries for the terminal. */
import type { AnalysisJson } from '../audio/analysis-json.js';
import { midiToName } from '../audio/pitch-math.js';

const fmt = (value: number | null, unit: string, digits = 1): string => (value === null ? 'n/a' : `${value.toFixed(digits)} ${unit}`);

export function formatAnalysisSummary(fileName: string, json: AnalysisJson): string {
  const lines: string[] = [];
  const channels = json.channels === 1 ? 'mono' : json.channels === 2 ? 'stereo' : `${json.channels} channels`;
  const bitrate = json.bitrate ? `, ${Math.round(json.bitrate / 1000)} kb/s` : '';
  lines.push(`${fileName}`);
  lines.push(
    `  format     ${json.format.toUpperCase()} (${json.codec}), ${json.sampleRate} Hz, ${channels}${bitrate}, ${json.durationSeconds.toFixed(2)} s`,
  );
  lines.push(
    `  loudness   ${fmt(json.loudness.integratedLufs, 'LUFS')}, true peak ${fmt(json.loudness.truePeakDbtp, 'dBTP')}, mean ${fmt(json.loudness.meanDbfs, 'dBFS')}`,
  );
  lines.push(`  key        ${json.key ? `${json.key.label} (confidence ${json.key.confidence.toFixed(2)})` : 'n/a'}`);
  lines.push(`  tempo      ${json.tempo ? `${json.tempo.bpm.toFixed(0)} BPM (confidence ${json.tempo.confidence.toFixed(2)})` : 'n/a'}`);
  const voiced = json.pitch.hz.filter((hz) => hz > 0).length;
  lines.push(`  pitch      ${voiced} of ${json.pitch.hz.length} frames voiced (${(json.pitch.hopSeconds * 1000).toFixed(0)} ms hop)`);
  lines.push(`  notes      ${json.notes.length} in ${json.phrases.length} phrase${json.phrases.length === 1 ? '' : 's'}`);
  json.phrases.forEach((phrase, index) => {
    const notes = json.notes.slice(phrase.firstNote, phrase.firstNote + phrase.noteCount);
    const names = notes.map((n) => midiToName(n.midi)).join(' ');
    lines.push(`    ${String(index + 1).padStart(2)}. ${phrase.start.toFixed(2)}–${phrase.end.toFixed(2)} s  ${names}`);
  });
  for (const warning of json.validation.warnings) lines.push(`  warning    ${warning.code}: ${warning.message}`);
  return lines.join('\n');
}
