import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { ClientErrorCode, StoryForgeError } from './errors';
import * as G from './generated';
import { Fetch, RequestOptions, networkReason, postGraphQL } from './http';
import { LiveConnection } from './live';

export interface StoryForgeOptions {
  /** The GraphQL URL, as `npm run demo` prints it: `http://localhost:4000/graphql`. */
  url: string;
  /** A project key (`sfk_...`), or the platform key (`sfp_...`) for createProject. */
  apiKey: string;
  /** Default: the global fetch. */
  fetch?: Fetch;
  /** A WebSocket constructor for subscriptions; default: the global one, else the `ws` package. */
  webSocketImpl?: unknown;
}

export type ApiKey = G.ApiKeyFieldsFragment;
export type Character = G.CharacterFieldsFragment;
export type Story = G.StoryFieldsFragment;
export type Frame = G.FrameFieldsFragment;
export type Render = G.RenderFieldsFragment;
export type Job = G.JobFieldsFragment;
export type Webhook = G.WebhookFieldsFragment;
export type WebhookDelivery = G.WebhookDeliveryFieldsFragment;
/** A frame and what it shows now (null until it has been drawn). */
export type FrameWithRender = Frame & { currentRender: Render | null };
/** A job with the renders it made so far, in frame order. */
export type JobWithRenders = Job & { renders: Render[]; promptWarnings: G.PromptWarningFieldsFragment[] };
export type ComicPage = Extract<NonNullable<G.ComicPagesQuery['node']>, { __typename: 'Story' }>['pages'][number];
export type ComicFile = Extract<NonNullable<G.ComicFileQuery['node']>, { __typename: 'Story' }>['comic'];

/** One page of a connection. */
export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  /** Pass as `after` for the next page. */
  endCursor: string | null;
}

export interface PageArgs {
  first?: number;
  after?: string;
}

export interface ComicOptions {
  layout?: G.PageLayout;
  size?: G.PageSize;
  dpi?: number;
}

/** A job is over in these; followJob ends with the first of them. */
export const FINISHED_STATUSES: ReadonlySet<G.JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Variables are optional exactly when the operation has none that are required. */
type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/** The StoryForge API: every method is one typed operation (or a few, for lists read whole). */
export class StoryForge {
  private readonly fetch: Fetch;
  private readonly live: LiveConnection;

  constructor(private readonly options: StoryForgeOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.live = new LiveConnection({ url: options.url, apiKey: options.apiKey, webSocketImpl: options.webSocketImpl });
  }

  /** Runs any typed document over HTTP; throws StoryForgeError on any error in the answer. */
  async request<TResult, TVariables extends object>(
    document: TypedDocumentNode<TResult, TVariables>, ...[variables, options]: [...VariablesArg<TVariables>, RequestOptions?]
  ): Promise<TResult> {
    const http = { url: this.options.url, apiKey: this.options.apiKey, fetch: this.fetch };
    return (await postGraphQL(http, document, variables ?? {}, options)) as TResult;
  }

  /** The same server with another key (the admin key createProject answered, say). */
  withKey(apiKey: string): StoryForge {
    return new StoryForge({ ...this.options, apiKey });
  }

  /** Closes the subscription socket, if one is open. */
  async close(): Promise<void> {
    await this.live.close();
  }

  // Projects and keys

  /** Who this key is: its project and role. */
  async viewer(): Promise<G.ViewerQuery['viewer']> {
    return (await this.request(G.ViewerDocument)).viewer;
  }

  /** Platform key only: a new project and its first admin key, whose secret is shown once. */
  async createProject(name: string): Promise<NonNullable<G.CreateProjectMutation['createProject']>> {
    return present((await this.request(G.CreateProjectDocument, { input: { name } })).createProject, 'createProject');
  }

  /** Admins: a new key of the project; its secret is shown once. */
  async createApiKey(name: string, role: G.Role): Promise<{ apiKey: ApiKey; secret: string }> {
    return present((await this.request(G.CreateApiKeyDocument, { input: { name, role } })).createApiKey, 'createApiKey');
  }

  /** Admins: the key stops working at once, over HTTP and on open sockets. */
  async revokeApiKey(id: string): Promise<ApiKey> {
    return present((await this.request(G.RevokeApiKeyDocument, { id })).revokeApiKey, 'revokeApiKey');
  }

  // Characters

  /** A character described in words; its description is reused in every frame it appears in. */
  async createCharacter(input: G.CreateCharacterInput): Promise<Character> {
    return present((await this.request(G.CreateCharacterDocument, { input })).createCharacter, 'createCharacter');
  }

  /** The project's characters, oldest first; `search` matches name or description. */
  async characters(args: PageArgs & { search?: string } = {}): Promise<Page<Character>> {
    return page((await this.request(G.CharactersDocument, args)).characters);
  }

  // Stories, frames, renders

  /** A story from a script: one frame per line, `[Name]` for who is in it, the caption after `#`. */
  async createStoryFromScript(input: G.CreateStoryInput & { script: string }): Promise<Story> {
    return present((await this.request(G.CreateStoryDocument, { input })).createStory, 'createStory');
  }

  /** One story. */
  async story(id: string): Promise<Story> {
    return narrow((await this.request(G.StoryDocument, { id })).node, 'Story', id);
  }

  /** Every frame of the story in order, each with its current render. */
  async storyFrames(storyId: string): Promise<FrameWithRender[]> {
    const frames: FrameWithRender[] = [];
    let after: string | undefined;
    do {
      const story = narrow((await this.request(G.StoryFramesDocument, { id: storyId, first: 100, after })).node, 'Story', storyId);
      frames.push(...story.frames.edges.map((e) => e.node));
      after = story.frames.pageInfo.hasNextPage ? story.frames.pageInfo.endCursor ?? undefined : undefined;
    } while (after);
    return frames;
  }

  /** A frame's renders, oldest first: its history, the current one marked `isCurrent`. */
  async frameRenders(frameId: string, args: PageArgs = {}): Promise<Page<Render>> {
    return page(narrow((await this.request(G.FrameRendersDocument, { id: frameId, ...args })).node, 'Frame', frameId).renders);
  }

  // Jobs

  /** Queues the story's frames (default: all) for drawing; follow the job with followJob. */
  async generateStory(storyId: string, options: { frameIds?: string[]; variations?: number } & RequestOptions = {}): Promise<Job> {
    const { idempotencyKey, ...args } = options;
    return present((await this.request(G.GenerateStoryDocument, { storyId, ...args }, { idempotencyKey })).generateStory, 'generateStory').job;
  }

  /** Draws one frame again (a new seed unless given); the new render becomes current, the old ones stay. */
  async regenerateFrame(frameId: string, options: { seed?: number; prompt?: string; variations?: number } & RequestOptions = {}): Promise<Job> {
    const { idempotencyKey, ...args } = options;
    return present((await this.request(G.RegenerateFrameDocument, { frameId, ...args }, { idempotencyKey })).regenerateFrame, 'regenerateFrame').job;
  }

  /** Cancels a queued or running job (CONFLICT once it has finished). */
  async cancelJob(id: string): Promise<Job> {
    return present((await this.request(G.CancelJobDocument, { id })).cancelJob, 'cancelJob').job;
  }

  /** A job now, with the renders it has made. */
  async job(id: string): Promise<JobWithRenders> {
    return narrow((await this.request(G.JobDocument, { id })).node, 'GenerationJob', id);
  }

  /** The job's state now, then after each change over graphql-ws; ends after a finished status. */
  async *followJob(jobId: string): AsyncGenerator<Job, void, undefined> {
    for await (const { jobUpdated } of this.live.subscribe(G.JobUpdatedDocument, { jobId })) {
      yield jobUpdated;
      if (FINISHED_STATUSES.has(jobUpdated.status)) return;
    }
    throw new StoryForgeError(`the subscription to job ${jobId} ended before the job finished`, ClientErrorCode.SOCKET_CLOSED);
  }

  /** The job once finished (SUCCEEDED, FAILED or CANCELLED: check `status`). */
  async waitForJob(jobId: string): Promise<Job> {
    for await (const update of this.followJob(jobId)) if (FINISHED_STATUSES.has(update.status)) return update;
    // followJob either yields a finished job last or throws.
    throw new StoryForgeError(`job ${jobId} did not finish`, ClientErrorCode.SOCKET_CLOSED);
  }

  // Comic pages

  /** The story as comic pages (each frame's current render with its caption), with signed URLs. */
  async comicPages(storyId: string, options: ComicOptions = {}): Promise<ComicPage[]> {
    return narrow((await this.request(G.ComicPagesDocument, { storyId, ...options })).node, 'Story', storyId).pages;
  }

  /** The whole story as one PDF or CBZ download. */
  async comicFile(storyId: string, format: G.ComicFileFormat, options: ComicOptions = {}): Promise<ComicFile> {
    return narrow((await this.request(G.ComicFileDocument, { storyId, format, ...options })).node, 'Story', storyId).comic;
  }

  /** The bytes behind a signed URL the API answered (render, page, comic file; relative or absolute). */
  async download(url: string): Promise<Uint8Array> {
    const absolute = new URL(url, this.options.url).href;
    let response: Response;
    try {
      // No Authorization: the signature is the permission, and presigned bucket URLs refuse a second one.
      response = await this.fetch(absolute);
    } catch (error) {
      throw new StoryForgeError(`could not reach ${absolute}: ${networkReason(error)}`, ClientErrorCode.NETWORK_ERROR, { cause: error });
    }
    if (!response.ok) {
      const text = (await response.text()).slice(0, 200);
      throw new StoryForgeError(`${response.status} ${text}`.trim(), ClientErrorCode.DOWNLOAD_FAILED, { status: response.status });
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  // Webhooks (admins)

  /** A URL that hears the listed events; the signing secret (`whsec_...`) is shown once. */
  async createWebhook(url: string, events: G.WebhookEvent[]): Promise<{ webhook: Webhook; secret: string }> {
    return present((await this.request(G.CreateWebhookDocument, { input: { url, events } })).createWebhook, 'createWebhook');
  }

  /** The project's webhooks, oldest first (at most 20 exist). */
  async webhooks(): Promise<Webhook[]> {
    return (await this.request(G.WebhooksDocument, { first: 100 })).webhooks.edges.map((e) => e.node);
  }

  /** A webhook's delivery log, newest first: one entry per attempt. */
  async webhookDeliveries(webhookId: string, args: PageArgs = {}): Promise<Page<WebhookDelivery>> {
    return page(narrow((await this.request(G.WebhookDeliveriesDocument, { id: webhookId, ...args })).node, 'Webhook', webhookId).deliveries);
  }

  /** Deletes the webhook with its pending deliveries and log. */
  async deleteWebhook(id: string): Promise<void> {
    present((await this.request(G.DeleteWebhookDocument, { id })).deleteWebhook, 'deleteWebhook');
  }
}

/** A mutation's payload: null only next to an error, which request has already thrown. */
function present<T>(value: T | null, field: string): T {
  if (value === null) throw new StoryForgeError(`${field} answered null without an error`, ClientErrorCode.BAD_RESPONSE);
  return value;
}

/** node(id) of the expected type; an id of another type is as good as missing. */
function narrow<N extends { __typename: string }, T extends N['__typename']>(node: N | null, type: T, id: string): Extract<N, { __typename: T }> {
  if (node?.__typename !== type) throw new StoryForgeError(`${id} is not a ${type}`, 'NOT_FOUND', { field: 'id' });
  return node as Extract<N, { __typename: T }>;
}

function page<T>(connection: { edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }): Page<T> {
  return { nodes: connection.edges.map((e) => e.node), hasNextPage: connection.pageInfo.hasNextPage, endCursor: connection.pageInfo.endCursor };
}
