import type { DataSource } from 'typeorm';
import { ApiKeyService } from '../domain/api-keys/api-key.service';
import { AuthService } from '../domain/api-keys/auth.service';
import { CharacterService } from '../domain/characters/character.service';
import { FrameService } from '../domain/frames/frame.service';
import { ProjectService } from '../domain/projects/project.service';
import { StoryService } from '../domain/stories/story.service';

/** The domain services, built once per process; they hold no request state. */
export function createServices(dataSource: DataSource, platformKey: string | undefined) {
  const apiKeys = new ApiKeyService();
  return {
    auth: new AuthService(dataSource, platformKey),
    projects: new ProjectService(dataSource, apiKeys),
    apiKeys,
    characters: new CharacterService(),
    stories: new StoryService(),
    frames: new FrameService(),
  };
}

export type Services = ReturnType<typeof createServices>;
