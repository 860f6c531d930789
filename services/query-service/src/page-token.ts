// Opaque page tokens: base64url JSON of a keyset position, validated on the way back in.

export class BadPageTokenError extends Error {
  constructor() {
    super('page_token is not a token this API issued');
    this.name = 'BadPageTokenError';
  }
}

export function encodePageToken(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodePageToken<T>(token: string, isValid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new BadPageTokenError();
  }
  if (!isValid(value)) throw new BadPageTokenError();
  return value;
}
