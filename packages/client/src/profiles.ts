/**
 * Profiles in the SDK (`client.profiles`): reading a user with the custom field values the caller
 * may see, setting values, the app's custom field definitions (admins change them), and whether a
 * username can be had. Every user read here is merged into `state.users`; `user.updated` events
 * keep those copies live (they carry no `fields`, so the values read here stay until read again).
 */
import type {
  AvatarResponse,
  CreateProfileFieldBody,
  ImageUpload,
  LogoResponse,
  ProfileField,
  UpdateProfileFieldBody,
  UpdateUserBody,
  User,
  UsernameAvailability,
} from '@parley/protocol';
import type { Http } from './http.js';

export interface ProfilesHost {
  mergeUsers(users: User[]): void;
  /** The caller's own user changed (their `image`): `state.user` follows. */
  setMe(user: User): void;
}

/** Options of a picture upload: progress, and a signal to cancel it. */
export interface PictureUploadOptions {
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

const fileName = (b: Blob) => (typeof (b as File).name === 'string' && (b as File).name ? (b as File).name : 'picture');

export class Profiles {
  constructor(
    private readonly http: Http,
    private readonly host: ProfilesHost,
  ) {}

  /** One user with their presence and the custom field values you may see. */
  async get(userId: string): Promise<User> {
    const r = await this.http.call<{ user: User }>('GET', `/v1/users/${encodeURIComponent(userId)}`);
    this.host.mergeUsers([r.user]);
    return r.user;
  }

  /** Set custom field values by field id (null clears one); on your own profile or, as an admin, another's. */
  async setFields(userId: string, fields: Record<string, string | null>): Promise<User> {
    const r = await this.http.call<{ user: User }>('PUT', `/v1/users/${encodeURIComponent(userId)}/fields`, {
      fields,
    });
    this.host.mergeUsers([r.user]);
    return r.user;
  }

  /**
   * Change another person's name or title (app admins; others get FORBIDDEN). A blank name is
   * VALIDATION_ERROR; a null or blank title clears it. Audited; everyone who shares a channel
   * with them gets `user.updated`.
   */
  async update(userId: string, fields: UpdateUserBody): Promise<User> {
    const r = await this.http.call<{ user: User }>('PATCH', `/v1/users/${encodeURIComponent(userId)}`, fields);
    this.host.mergeUsers([r.user]);
    return r.user;
  }

  /** The app's custom profile fields in order (admins-only ones for admins alone). */
  async fields(): Promise<ProfileField[]> {
    return (await this.http.call<{ fields: ProfileField[] }>('GET', '/v1/profile-fields')).fields;
  }

  /** Define a custom profile field (app admins). */
  async createField(body: CreateProfileFieldBody): Promise<ProfileField> {
    return (await this.http.call<{ field: ProfileField }>('POST', '/v1/profile-fields', body)).field;
  }

  /** Change a custom profile field (app admins); its kind is fixed. */
  async updateField(id: string, body: UpdateProfileFieldBody): Promise<ProfileField> {
    return (await this.http.call<{ field: ProfileField }>('PATCH', `/v1/profile-fields/${id}`, body)).field;
  }

  /** Put the fields in this order (every field's id once). */
  async reorderFields(ids: string[]): Promise<ProfileField[]> {
    return (await this.http.call<{ fields: ProfileField[] }>('POST', '/v1/profile-fields/order', { ids })).fields;
  }

  /** Delete a custom profile field and every value of it (app admins). */
  async deleteField(id: string): Promise<void> {
    await this.http.call('DELETE', `/v1/profile-fields/${id}`);
  }

  /**
   * Upload your profile picture (crop it square first: the server keeps the centred square).
   * JPEG, PNG, WebP, AVIF, TIFF or GIF up to 10 MB; else INVALID_FILE_TYPE, PAYLOAD_TOO_LARGE, or
   * QUOTA_EXCEEDED past your storage quota. Your `image` becomes the picture's URL (add `?size=N`
   * with `imageUrlAt`), and everyone who shares a channel with you sees it live (`user.updated`).
   */
  async setAvatar(picture: Blob, opts: PictureUploadOptions = {}): Promise<{ user: User; image: ImageUpload }> {
    const r = await this.http.upload<AvatarResponse>('/v1/me/avatar', picture, fileName(picture), {
      ...opts,
      method: 'PUT',
    });
    this.host.mergeUsers([r.user]);
    this.host.setMe(r.user);
    return r;
  }

  /** Remove your profile picture: `image` becomes null, and clients show your initials. */
  async removeAvatar(): Promise<User> {
    const r = await this.http.call<{ user: User }>('DELETE', '/v1/me/avatar');
    this.host.mergeUsers([r.user]);
    this.host.setMe(r.user);
    return r.user;
  }

  /** Upload the workspace's logo (workspace owners and admins; same formats and limits as a picture). */
  async setWorkspaceLogo(picture: Blob, opts: PictureUploadOptions = {}): Promise<ImageUpload> {
    return (
      await this.http.upload<LogoResponse>('/v1/workspace/logo', picture, fileName(picture), { ...opts, method: 'PUT' })
    ).image;
  }

  /** Remove the workspace's logo (workspace owners and admins). */
  async removeWorkspaceLogo(): Promise<void> {
    await this.http.call('DELETE', '/v1/workspace/logo');
  }

  /** Whether `name` could be your username now (for forms that check while one types). */
  usernameAvailable(name: string): Promise<UsernameAvailability> {
    return this.http.call<UsernameAvailability>('GET', `/v1/usernames/${encodeURIComponent(name)}`);
  }
}
