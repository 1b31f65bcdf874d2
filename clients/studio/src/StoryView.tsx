/**
 * A story: its frames as a grid of current renders, generation with live progress, the frames'
 * script for editing, and the comic pages. `storyUpdated` (graphql-ws) says when the story, a
 * frame or a current render changed; the view then reads the story again.
 */
import { useCallback, useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { LISTS_FRAMES } from './cache-hints';
import { ComicPages } from './ComicPages';
import { ErrorView } from './ErrorView';
import { FrameCard } from './FrameCard';
import { ActiveJobsDocument, GenerateStoryDocument, StoryDocument, StoryFramesAfterDocument, StoryUpdatedDocument } from './generated/graphql';
import type { JobStateFragment } from './generated/graphql';
import { isFinished, JobProgress } from './JobProgress';
import { StoryScript } from './StoryScript';
import { StorySettings } from './StorySettings';
import { Warnings } from './Warnings';

const countEvents = (count: number | undefined) => (count ?? 0) + 1;

export function StoryView({ id }: { id: string }) {
  const [{ data, fetching, error }, refetchStory] = useQuery({ query: StoryDocument, variables: { id }, requestPolicy: 'cache-and-network', context: LISTS_FRAMES });
  const [{ data: ticks = 0 }] = useSubscription({ query: StoryUpdatedDocument, variables: { storyId: id } }, countEvents);
  const [{ data: active }] = useQuery({ query: ActiveJobsDocument, requestPolicy: 'network-only' });
  const [started, generate] = useMutation(GenerateStoryDocument);
  const [jobs, setJobs] = useState<JobStateFragment[]>([]);
  const [finishedJobs, setFinishedJobs] = useState(0);
  // Bumped by every change the API announces and every job that ends: what lists renders reads again.
  const version = ticks + finishedJobs;

  const story = data?.node && 'frames' in data.node ? data.node : null;
  const [rest, refetchRest] = useFramesAfter(id, story?.frames.pageInfo);
  const refetch = useCallback((opts: { requestPolicy: 'network-only' }) => {
    refetchStory(opts);
    refetchRest(opts);
  }, [refetchStory, refetchRest]);

  const follow = (job: JobStateFragment) => setJobs((list) => (list.some((j) => j.id === job.id) ? list : [...list, job]));

  useEffect(() => {
    if (ticks > 0) refetch({ requestPolicy: 'network-only' });
  }, [ticks, refetch]);

  // Jobs already running for this story when the view opens (another tab, a reload).
  useEffect(() => {
    const running = [...(active?.running.edges ?? []), ...(active?.queued.edges ?? [])].map((e) => e.node);
    running.filter((job) => job.story?.id === id && !isFinished(job)).forEach(follow);
  }, [active, id]);

  if (!story) {
    return (
      <section>
        <ErrorView error={error} />
        {!fetching && !error && <p className="empty">No such story.</p>}
      </section>
    );
  }
  const frames = [...story.frames.edges, ...rest].map((e) => e.node);

  const start = async () => {
    const job = (await generate({ storyId: story.id })).data?.generateStory?.job;
    if (job) follow(job);
  };
  const finished = () => {
    setFinishedJobs((n) => n + 1);
    refetch({ requestPolicy: 'network-only' });
  };

  return (
    <section className="story" data-story-id={story.id}>
      <div className="heading">
        <h1>{story.title}</h1>
        <button type="button" className="primary generate" disabled={started.fetching || frames.length === 0} onClick={start}>
          Generate story
        </button>
      </div>
      <p className="meta">
        {story.frameCount} frames · {story.model} · {story.width}×{story.height} · {story.steps} steps · seed {story.seed}
        {story.style && ` · ${story.style}`} · cast: {story.characters.map((c) => c.name).join(', ') || 'none'}
      </p>
      <ErrorView error={error ?? started.error} />
      {jobs.length > 0 && (
        <div className="jobs">
          {jobs.map((job) => (
            <JobProgress key={job.id} initial={job} onFinished={finished}
              onDismiss={() => setJobs((list) => list.filter((j) => j.id !== job.id))} />
          ))}
        </div>
      )}
      <Warnings warnings={story.promptWarnings} title="Prompt warnings" />
      <div className="frame-grid">
        {frames.map((frame) => <FrameCard key={frame.id} frame={frame} version={version} onJob={follow} />)}
      </div>
      {frames.length === 0 && <p className="empty">No frames: add some to the script below.</p>}
      <StoryScript storyId={story.id} frames={frames} />
      <StorySettings story={{ id: story.id, title: story.title, steps: story.steps, seed: story.seed, characters: story.characters }} />
      {frames.some((f) => f.currentRender) && <ComicPages storyId={story.id} version={version} />}
    </section>
  );
}

/**
 * The frames after the story query's page: a story holds up to 200 frames (LIMITS.framesPerStory)
 * and a page up to 100 (LIMITS.pageSize), so one more page always ends the story; a test holds
 * the API's limits to that. Re-read with the first page: the same cache hints and refresh.
 */
function useFramesAfter(id: string, first: { hasNextPage: boolean; endCursor?: string | null } | undefined) {
  const after = first?.hasNextPage ? first.endCursor ?? null : null;
  const [{ data }, refetch] = useQuery({
    query: StoryFramesAfterDocument, variables: { id, after: after ?? '' }, pause: after === null,
    requestPolicy: 'cache-and-network', context: LISTS_FRAMES,
  });
  const edges = after !== null && data?.node && 'frames' in data.node ? data.node.frames.edges : [];
  // A paused query is not run by a refetch: nothing to read then.
  const refetchIfMore = useCallback((opts: { requestPolicy: 'network-only' }) => { if (after !== null) refetch(opts); }, [after, refetch]);
  return [edges, refetchIfMore] as const;
}
