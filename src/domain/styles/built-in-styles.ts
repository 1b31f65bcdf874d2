/**
 * The styles every project has, after the ones StoryDiffusion's demo offers (our own wording):
 * a positive template around the prompt and a negative prompt. They are written for models that
 * read free text (SD1.5, SDXL); the story world knows only its 44 words, so on it they change
 * nothing, and the API says so (a STYLE_NO_EFFECT prompt warning).
 */
export interface StylePreset {
  name: string;
  /** `{prompt}` stands for the frame's prompt (characters' descriptions and the frame's own words). */
  template: string;
  negativePrompt: string;
  /** Model families it is written for; empty: any. */
  families: readonly string[];
}

const FREE_TEXT = ['sd15', 'sdxl'] as const;

export const BUILT_IN_STYLES: readonly StylePreset[] = [
  { name: 'No style', template: '{prompt}', negativePrompt: '', families: [] },
  {
    name: 'Japanese anime',
    template: 'anime illustration of {prompt}, japanese animation studio style, expressive, clean cel shading, best quality',
    negativePrompt: 'photo, realistic, low quality, blurry, low resolution',
    families: FREE_TEXT,
  },
  {
    name: 'Cinematic',
    template: 'cinematic film still of {prompt}, dramatic lighting, shallow depth of field, anamorphic, film grain, moody, detailed',
    negativePrompt: 'cartoon, anime, illustration, drawing, text, watermark, deformed, ugly, glitch',
    families: FREE_TEXT,
  },
  {
    name: 'Digital art',
    template: '{prompt}, digital painting, illustrative, painterly brushwork, concept art, highly detailed',
    negativePrompt: 'photo, photorealistic, realism, ugly, low quality',
    families: FREE_TEXT,
  },
  {
    name: 'Photographic',
    template: 'photograph of {prompt}, 35mm lens, natural light, sharp focus, professional, highly detailed',
    negativePrompt: 'drawing, painting, cartoon, anime, illustration, deformed, low quality',
    families: FREE_TEXT,
  },
  {
    name: 'Comic book',
    template: 'comic book panel of {prompt}, bold ink outlines, flat vibrant colours, halftone shading, graphic novel art',
    negativePrompt: 'photo, photorealistic, realism, blurry, washed out',
    families: FREE_TEXT,
  },
  {
    name: 'Line art',
    template: 'line art drawing of {prompt}, clean black lines on white, minimalist, vector style, no shading',
    negativePrompt: 'colour, shading, photo, realistic, painting, texture, blurry',
    families: FREE_TEXT,
  },
  {
    name: 'Film noir',
    template: 'black and white film noir still of {prompt}, high contrast, hard shadows, venetian blind light, 1940s, grainy',
    negativePrompt: 'colour, colorful, vibrant, cartoon, anime, bright daylight',
    families: FREE_TEXT,
  },
  {
    name: 'Isometric rooms',
    template: 'isometric cutaway room of {prompt}, tiny diorama, soft lighting, clean 3d render, pastel colours, detailed',
    negativePrompt: 'photo, perspective distortion, blurry, dark, messy, text',
    families: FREE_TEXT,
  },
];

export function builtInStyle(name: string): StylePreset | undefined {
  return BUILT_IN_STYLES.find((s) => s.name.toLowerCase() === name.toLowerCase());
}
