/**
 * The string formats the protocol's schemas use, for TypeBox's checker. TypeBox checks a
 * `format` only when that format is registered, and refuses the value ("Unknown format") when it
 * is not: a socket validator compiled without these once refused every `send_at` and `remind_at`
 * that REST (whose Ajv knows them) accepted. Every schema format must be named here;
 * `formats.test.ts` walks the protocol's schemas to prove it.
 */
import { FormatRegistry } from '@sinclair/typebox';

/** RFC 3339 date-time, as Ajv's `date-time` reads it: a date, a time, and a zone. */
const DATE_TIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;
/** Ajv-formats' `email` (its "fast" form): what a person types as an address. */
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** The checks, by format name. */
export const FORMAT_CHECKS: Readonly<Record<string, (value: string) => boolean>> = {
  'date-time': (v) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => EMAIL.test(v),
};

/** Register every protocol format with TypeBox (idempotent). Call before compiling a schema. */
export function registerFormats(): void {
  for (const [name, check] of Object.entries(FORMAT_CHECKS)) {
    if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
  }
}
