import { BadRequestException } from '@nestjs/common';

/** A query value that must be a whole number when given: a bad one is a 400 that says which. */
export function optionalInt(name: string, v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isSafeInteger(n)) throw new BadRequestException(`${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}
