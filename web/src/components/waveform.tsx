/**
 * The vocals' waveform under the player: the file is fetched and decoded in the browser (Web Audio,
 * at 8 kHz mono: enough for a picture, a fifth of the memory), reduced to one peak per column and drawn
 * as SVG bars, the part already played in the accent colour. It is also a slider: a click or the arrow
 * keys (5 s; Home/End) move the player there.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';

const COLUMNS = 400;
const DECODE_RATE = 8000;

/** The largest absolute sample of each of `columns` equal slices of `samples` (0–1). */
export function peaksOf(samples: Float32Array, columns: number): number[] {
  const peaks = new Array<number>(columns).fill(0);
  const per = samples.length / columns;
  for (let c = 0; c < columns; c++) {
    let peak = 0;
    for (let i = Math.floor(c * per), end = Math.min(samples.length, Math.floor((c + 1) * per)); i < end; i++) {
      const v = Math.abs(samples[i]);
      if (v > peak) peak = v;
    }
    peaks[c] = Math.min(1, peak);
  }
  return peaks;
}

type State = { peaks: number[]; duration: number } | { error: string } | null;

export function Waveform({ url, time, onSeek }: { url: string; time: number; onSeek: (seconds: number) => void }) {
  const [state, setState] = useState<State>(null);
  // A refetched conversion comes with freshly signed links to the same file: draw it once.
  const file = url.split('?')[0];
  const latest = useRef(url);
  latest.current = url;
  useEffect(() => {
    const controller = new AbortController();
    (async () => {
      const response = await fetch(latest.current, { signal: controller.signal });
      if (!response.ok) throw new Error(`the file answered ${response.status}`);
      const encoded = await response.arrayBuffer();
      const decoded = await new OfflineAudioContext(1, 1, DECODE_RATE).decodeAudioData(encoded);
      setState({ peaks: peaksOf(decoded.getChannelData(0), COLUMNS), duration: decoded.duration });
    })().catch((error: Error) => {
      if (!controller.signal.aborted) setState({ error: error.message });
    });
    return () => controller.abort();
  }, [file]);

  if (!state) return <p className="hint waveform-status">Drawing the waveform…</p>;
  if ('error' in state) return <p className="hint waveform-status">The waveform could not be drawn ({state.error}).</p>;
  const { peaks, duration } = state;
  const played = Math.round((Math.min(time, duration) / Math.max(duration, 0.001)) * COLUMNS);
  const seekTo = (seconds: number) => onSeek(Math.max(0, Math.min(duration, seconds)));
  const onClick = (event: MouseEvent<SVGSVGElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    seekTo(((event.clientX - box.left) / box.width) * duration);
  };
  const onKey = (event: KeyboardEvent<SVGSVGElement>) => {
    const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5 }[event.key];
    if (step !== undefined) seekTo(time + step);
    else if (event.key === 'Home') seekTo(0);
    else if (event.key === 'End') seekTo(duration);
    else return;
    event.preventDefault();
  };
  const height = 60;
  return (
    <svg
      className="waveform"
      viewBox={`0 0 ${COLUMNS} ${height}`}
      preserveAspectRatio="none"
      role="slider"
      tabIndex={0}
      aria-label="Waveform of the vocals: position in the song"
      aria-valuemin={0}
      aria-valuemax={Math.round(duration)}
      aria-valuenow={Math.round(Math.min(time, duration))}
      aria-valuetext={`${Math.floor(time)} of ${Math.round(duration)} seconds`}
      data-columns={peaks.filter((p) => p > 0.01).length}
      onClick={onClick}
      onKeyDown={onKey}
    >
      {peaks.map((peak, c) => {
        const h = Math.max(1, peak * (height - 4));
        return <rect key={c} x={c + 0.1} width={0.8} y={(height - h) / 2} height={h} className={c < played ? 'played' : undefined} />;
      })}
    </svg>
  );
}
