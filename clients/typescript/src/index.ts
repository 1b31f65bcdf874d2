/**
 * @storyforge/client: the StoryForge GraphQL API, typed. `StoryForge` has a method per common
 * flow; `request` runs any of the generated documents (or one of your own TypedDocumentNode).
 */
export {
  StoryForge, FINISHED_STATUSES,
  type StoryForgeOptions, type ApiKey, type Character, type Story, type Frame, type FrameWithRender, type Render, type Job,
  type JobWithRenders, type ComicPage, type ComicFile, type Webhook, type WebhookDelivery, type Page, type PageArgs, type ComicOptions,
} from './client';
export { StoryForgeError, ClientErrorCode, type GraphQLErrorShape, type StoryForgeErrorDetails } from './errors';
export type { RequestOptions, Fetch } from './http';
export * from './generated';
