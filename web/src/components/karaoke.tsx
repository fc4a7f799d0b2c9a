/**
 * The lyrics line by line, the syllable being sung highlighted from the player's clock
 * (`currentTime`, read every animation frame while playing: `timeupdate` alone fires only ~4× a second).
 */
import { Fragment, useEffect, useState, type RefObject } from 'react';

export interface TimedLine {
  text: string;
  start: number;
  end: number;
  syllables: { text: string; start: number; end: number; endsWord: boolean }[];
}

/** The player's current time, updated every frame while it plays. */
export function usePlayerTime(audio: RefObject<HTMLAudioElement | null>): number {
  const [time, setTime] = useState(0);
  useEffect(() => {
    const element = audio.current;
    if (!element) return;
    let frame = 0;
    const read = () => setTime(element.currentTime);
    const loop = () => {
      read();
      frame = requestAnimationFrame(loop);
    };
    const play = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(loop);
    };
    const pause = () => {
      cancelAnimationFrame(frame);
      read();
    };
    element.addEventListener('play', play);
    element.addEventListener('pause', pause);
    element.addEventListener('seeked', read);
    element.addEventListener('ended', pause);
    return () => {
      cancelAnimationFrame(frame);
      element.removeEventListener('play', play);
      element.removeEventListener('pause', pause);
      element.removeEventListener('seeked', read);
      element.removeEventListener('ended', pause);
    };
  }, [audio]);
  return time;
}

export function Karaoke({ lines, time, onSeek }: { lines: TimedLine[]; time: number; onSeek: (seconds: number) => void }) {
  if (lines.length === 0) return <p>No syllable timing was kept for this conversion.</p>;
  return (
    <ol className="karaoke" aria-label="Lyrics">
      {lines.map((line, l) => {
        const current = time >= line.start && time < line.end + 0.25;
        return (
          <li key={l} className={current ? 'current-line' : undefined} aria-current={current ? 'true' : undefined}>
            {line.syllables.map((s, i) => {
              const state = time >= s.end ? 'sung' : time >= s.start ? 'singing' : 'ahead';
              return (
                <Fragment key={i}>
                  <button
                    type="button"
                    className={`syllable ${state}`}
                    data-state={state}
                    onClick={() => onSeek(s.start)}
                    aria-label={`${s.text} at ${s.start.toFixed(1)} seconds`}
                  >
                    {s.text}
                  </button>
                  {s.endsWord ? ' ' : ''}
                </Fragment>
              );
            })}
          </li>
        );
      })}
    </ol>
  );
}
