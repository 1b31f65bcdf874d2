/**
 * The login: an API key in session storage, under the name GraphiQL (/graphiql) reads too, so
 * one login serves both. Session storage dies with the tab; the key never goes into a URL.
 */
export const API_KEY_STORAGE = 'storyforge.apiKey';

export function storedKey(): string | null {
  try {
    return window.sessionStorage.getItem(API_KEY_STORAGE);
  } catch {
    // Storage can be refused (privacy settings): the studio still works for this page's life.
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    window.sessionStorage.setItem(API_KEY_STORAGE, key);
  } catch {
    // See storedKey.
  }
}

export function forgetKey(): void {
  try {
    window.sessionStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // See storedKey.
  }
}
