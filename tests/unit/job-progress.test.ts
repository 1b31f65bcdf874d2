/** The progress clients show: phase, fraction and one line, from a job row's counts. */
import { jobProgress } from '../../src/domain/jobs/job-progress';

const row = {
  status: 'RUNNING' as const, attempts: 1, progressPhase: 'IDENTITY' as const, progressFraction: 0.2, progressStep: 12, progressTotal: 50,
  framesDone: 0, framesTotal: 4, banksDone: 0, banksTotal: 2, framesRunning: 0,
};

describe('job progress', () => {
  it('names the identity phase with its bank and step', () => {
    expect(jobProgress(row)).toMatchObject({ phase: 'IDENTITY', fraction: 0.2, label: 'identity bank 1/2, step 12/50' });
    expect(jobProgress({ ...row, banksDone: 1 }).label).toBe('identity bank 2/2, step 12/50');
    // A bank build's step count is known from its first step on.
    expect(jobProgress({ ...row, progressStep: 0, progressTotal: 0 }).label).toBe('identity bank 1/2');
  });

  it('names the frame being drawn, never past the last', () => {
    const frames = { ...row, progressPhase: 'FRAMES' as const, progressStep: 3, progressTotal: 25, framesDone: 2, banksDone: 2 };
    expect(jobProgress(frames)).toMatchObject({ phase: 'FRAMES', label: 'frame 3/4, step 3/25' });
    expect(jobProgress({ ...frames, framesDone: 4 }).label).toBe('frame 4/4, step 3/25');
    // Frames drawn together are named together.
    expect(jobProgress({ ...frames, framesDone: 0, framesRunning: 4 }).label).toBe('frames 1-4/4, step 3/25');
    expect(jobProgress({ ...frames, framesDone: 3, framesRunning: 1 }).label).toBe('frame 4/4, step 3/25');
  });

  it('says queued, waiting to retry, starting and the end states', () => {
    expect(jobProgress({ ...row, status: 'QUEUED', attempts: 0, progressPhase: 'QUEUED', progressFraction: 0 })).toMatchObject({ phase: 'QUEUED', label: 'queued' });
    // A retry waits with the fraction its first attempt reached: the bar holds instead of emptying.
    expect(jobProgress({ ...row, status: 'QUEUED', attempts: 1 })).toMatchObject({ phase: 'QUEUED', label: 'waiting to retry', fraction: 0.2 });
    expect(jobProgress({ ...row, progressPhase: 'QUEUED' })).toMatchObject({ phase: 'QUEUED', label: 'starting' });
    expect(jobProgress({ ...row, status: 'SUCCEEDED', progressFraction: 0.97 })).toMatchObject({ phase: 'DONE', fraction: 1, label: 'done' });
    expect(jobProgress({ ...row, status: 'FAILED' })).toMatchObject({ phase: 'DONE', fraction: 0.2, label: 'failed' });
    expect(jobProgress({ ...row, status: 'CANCELLED' })).toMatchObject({ phase: 'DONE', label: 'cancelled' });
  });

  it('keeps the fraction within 0 and 1', () => {
    expect(jobProgress({ ...row, progressFraction: 1.5 }).fraction).toBe(1);
    expect(jobProgress({ ...row, progressFraction: -0.1 }).fraction).toBe(0);
  });
});
