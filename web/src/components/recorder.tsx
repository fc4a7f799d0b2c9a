/**
 * Records a melody in the browser: MediaRecorder (WebM/Opus in Chromium, Ogg/Opus in Firefox: both
 * are accepted by the API), a live level meter from an AnalyserNode, and a playback of the take
 * before it is used.
 */
import { useEffect, useRef, useState } from 'react';

type State = { kind: 'idle' } | { kind: 'recording'; startedAt: number } | { kind: 'error'; message: string };

export function Recorder({ onRecorded }: { onRecorded: (file: File) => void }) {
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [level, setLevel] = useState(0);
  const [elapsed, setElapsed] = useState(0);
  const [takeUrl, setTakeUrl] = useState<string | null>(null);
  const stopRef = useRef<(() => void) | null>(null);

  useEffect(() => () => stopRef.current?.(), []);
  useEffect(() => () => void (takeUrl && URL.revokeObjectURL(takeUrl)), [takeUrl]);

  async function start() {
    if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
      setState({ kind: 'error', message: 'This browser cannot record audio. Upload a file instead.' });
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setState({ kind: 'error', message: 'The microphone is not available (permission refused or no device). Upload a file instead.' });
      return;
    }
    const type = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => event.data.size > 0 && chunks.push(event.data);
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 1024;
    audio.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const startedAt = performance.now();
    let frame = 0;
    const tick = () => {
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      setLevel(peak);
      setElapsed((performance.now() - startedAt) / 1000);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    recorder.onstop = () => {
      cancelAnimationFrame(frame);
      stream.getTracks().forEach((t) => t.stop());
      void audio.close();
      const mime = recorder.mimeType || type || 'audio/webm';
      const blob = new Blob(chunks, { type: mime });
      const file = new File([blob], `recording.${mime.includes('ogg') ? 'ogg' : 'webm'}`, { type: mime });
      setTakeUrl(URL.createObjectURL(blob));
      setLevel(0);
      setState({ kind: 'idle' });
      onRecorded(file);
    };
    stopRef.current = () => recorder.state !== 'inactive' && recorder.stop();
    recorder.start(250);
    setState({ kind: 'recording', startedAt });
  }

  const recording = state.kind === 'recording';
  return (
    <div className="recorder">
      <button type="button" onClick={() => (recording ? stopRef.current?.() : void start())} aria-pressed={recording}>
        {recording ? 'Stop recording' : 'Record with the microphone'}
      </button>
      {recording && (
        <div className="level">
          <label htmlFor="level-meter">Input level</label>
          <meter id="level-meter" min={0} max={1} low={0.6} high={0.9} optimum={0.4} value={level} />
          <span aria-live="off">{elapsed.toFixed(1)} s</span>
        </div>
      )}
      {state.kind === 'error' && (
        <p className="field-error" role="alert">
          {state.message}
        </p>
      )}
      {takeUrl && !recording && (
        <div className="take">
          <span id="take-label">Your recording (listen before sending):</span>
          <audio controls src={takeUrl} aria-labelledby="take-label" />
        </div>
      )}
    </div>
  );
}
