/**
 * A job's progress as clients show it. The worker writes raw counts (phase, banks, frames, the
 * step of the current UNet run) and a whole-job fraction it only ever raises; this turns a job
 * row into what a progress bar and a status line need, so every client words it the same way.
 */
import type { GenerationJob } from '../../db/entities/generation-job.entity';

export type JobPhase = 'QUEUED' | 'IDENTITY' | 'FRAMES' | 'DONE';

export interface JobProgressView {
  phase: JobPhase;
  fraction: number;
  label: string;
  step: number;
  total: number;
  framesDone: number;
  framesTotal: number;
  banksDone: number;
  banksTotal: number;
}

type ProgressFields = Pick<GenerationJob, 'status' | 'attempts' | 'progressPhase' | 'progressFraction' | 'progressStep' | 'progressTotal'
  | 'framesDone' | 'framesTotal' | 'banksDone' | 'banksTotal' | 'framesRunning'>;

export function jobProgress(j: ProgressFields): JobProgressView {
  const counts = {
    step: j.progressStep, total: j.progressTotal, framesDone: j.framesDone, framesTotal: j.framesTotal,
    banksDone: j.banksDone, banksTotal: j.banksTotal,
  };
  if (j.status === 'SUCCEEDED' || j.status === 'FAILED' || j.status === 'CANCELLED') {
    const label = j.status === 'SUCCEEDED' ? 'done' : j.status === 'FAILED' ? 'failed' : 'cancelled';
    return { ...counts, phase: 'DONE', fraction: j.status === 'SUCCEEDED' ? 1 : clamp(j.progressFraction), label };
  }
  const fraction = clamp(j.progressFraction);
  if (j.status === 'QUEUED') {
    return { ...counts, phase: 'QUEUED', fraction, label: j.attempts > 0 ? 'waiting to retry' : 'queued' };
  }
  const step = j.progressTotal > 0 ? `, step ${j.progressStep}/${j.progressTotal}` : '';
  if (j.progressPhase === 'IDENTITY') {
    const bank = Math.min(j.banksDone + 1, Math.max(j.banksTotal, 1));
    return { ...counts, phase: 'IDENTITY', fraction, label: `identity bank ${bank}/${Math.max(j.banksTotal, 1)}${step}` };
  }
  if (j.progressPhase === 'FRAMES') {
    const first = Math.min(j.framesDone + 1, j.framesTotal);
    const last = Math.min(j.framesDone + j.framesRunning, j.framesTotal);
    const frames = last > first ? `frames ${first}-${last}` : `frame ${first}`;
    return { ...counts, phase: 'FRAMES', fraction, label: `${frames}/${j.framesTotal}${step}` };
  }
  // Running, before its first progress write (loading the pack, reading anchors).
  return { ...counts, phase: 'QUEUED', fraction, label: 'starting' };
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}
