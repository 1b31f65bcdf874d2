import { ApiKey } from './api-key.entity';
import { Character } from './character.entity';
import { CharacterAnchor } from './character-anchor.entity';
import { Frame } from './frame.entity';
import { GenerationJob } from './generation-job.entity';
import { Image } from './image.entity';
import { Project } from './project.entity';
import { ReferenceImage } from './reference-image.entity';
import { ReferenceImageSet } from './reference-image-set.entity';
import { Render } from './render.entity';
import { Story } from './story.entity';
import { StoryCharacter } from './story-character.entity';
import { StoryPage } from './story-page.entity';
import { Style } from './style.entity';
import { Webhook } from './webhook.entity';
import { WebhookDelivery } from './webhook-delivery.entity';

export {
  ApiKey, Character, CharacterAnchor, Frame, GenerationJob, Image, Project, ReferenceImage, ReferenceImageSet, Render, Story, StoryCharacter,
  StoryPage, Style, Webhook, WebhookDelivery,
};

export const ENTITIES = [
  Project, ApiKey, Image, ReferenceImageSet, ReferenceImage, Character, Story, StoryCharacter, Frame, Render, GenerationJob, CharacterAnchor,
  StoryPage, Style, Webhook, WebhookDelivery,
];
