/** The melody's notes as a piano roll (SVG): time across, pitch up, the playhead at `time`. */
const NAMES = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];
export const noteName = (midi: number) => `${NAMES[((Math.round(midi) % 12) + 12) % 12]}${Math.floor(Math.round(midi) / 12) - 1}`;

export function PianoRoll({
  notes,
  duration,
  time,
}: {
  notes: { start: number; end: number; midi: number; lowConfidence: boolean }[];
  duration: number;
  time: number;
}) {
  if (notes.length === 0) return null;
  const low = Math.floor(Math.min(...notes.map((n) => n.midi))) - 1;
  const high = Math.ceil(Math.max(...notes.map((n) => n.midi))) + 1;
  const width = 1000;
  const row = 12;
  const height = (high - low + 1) * row;
  const x = (t: number) => (t / Math.max(duration, 0.001)) * width;
  const y = (midi: number) => (high - midi) * row;
  const range = `${noteName(low + 1)} to ${noteName(high - 1)}`;
  return (
    <svg
      className="piano-roll"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Piano roll: ${notes.length} notes from ${range}`}
    >
      {Array.from({ length: high - low + 1 }, (_, i) => low + i)
        .filter((m) => [1, 3, 6, 8, 10].includes(((m % 12) + 12) % 12))
        .map((m) => (
          <rect key={m} x={0} y={y(m) - row / 2} width={width} height={row} className="black-key" />
        ))}
      {notes.map((n, i) => (
        <rect
          key={i}
          x={x(n.start)}
          y={y(n.midi) - row / 2 + 1}
          width={Math.max(2, x(n.end) - x(n.start))}
          height={row - 2}
          rx={2}
          className={`note${n.lowConfidence ? ' unsure' : ''}${time >= n.start && time < n.end ? ' playing' : ''}`}
        >
          <title>{`${noteName(n.midi)} at ${n.start.toFixed(2)} s`}</title>
        </rect>
      ))}
      <line x1={x(time)} x2={x(time)} y1={0} y2={height} className="playhead" />
    </svg>
  );
}
