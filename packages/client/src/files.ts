/**
 * The app's upload rules (`GET`/`PUT /v1/files/rules`): which types may be uploaded and how large
 * each kind of file may be. `check` tells before an upload whether the app would refuse a file,
 * from the type the browser gives it and its size, so a person hears it at once rather than
 * after sending the bytes; the server still decides from the bytes themselves.
 */
import { type UploadRules, type UploadRulesResponse, uploadRefusal } from '@parley/protocol';
import { ParleyError } from './errors.js';
import { type Http, sizeOf, type UploadFile } from './http.js';

export class Files {
  #rules: Promise<UploadRulesResponse> | null = null;

  constructor(private readonly http: Http) {}

  /** The rules in force and the server's own limit; read once, then kept (`fresh` reads again). */
  rules(fresh = false): Promise<UploadRulesResponse> {
    if (fresh || !this.#rules) {
      const p = this.http.call<UploadRulesResponse>('GET', '/v1/files/rules');
      this.#rules = p;
      p.catch(() => {
        if (this.#rules === p) this.#rules = null;
      });
    }
    return this.#rules;
  }

  /** Replace the app's upload rules (app admins, server tokens). */
  async setRules(rules: UploadRules): Promise<UploadRulesResponse> {
    const r = await this.http.call<UploadRulesResponse>('PUT', '/v1/files/rules', rules);
    this.#rules = Promise.resolve(r);
    return r;
  }

  /**
   * The error the app would answer for this file (`INVALID_FILE_TYPE`, `PAYLOAD_TOO_LARGE`), or
   * null when its declared type and size pass. A file the browser gives no type passes the type
   * check here (the server reads its bytes).
   */
  async check(file: UploadFile): Promise<ParleyError | null> {
    const { rules, server_max_bytes } = await this.rules();
    const no = uploadRefusal(
      file.type ? rules : { ...rules, allowed_types: null },
      { mime: file.type, size: sizeOf(file) },
      server_max_bytes,
    );
    return no ? new ParleyError(no.code, no.message, { details: no.details, retryable: false }) : null;
  }
}
