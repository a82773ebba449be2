import type { Component } from '../components.js';
import { INPUT_SCHEMAS } from './components.js';

/**
 * Why a delivered payload is not the input its type says, or undefined when it is (or when its type is
 * none of the component's inputs: the decider records that it has no handler, as in every engine).
 * Checked where a message crosses a process boundary (ComponentHost, off a queue); the message keeps
 * its own bytes: the parse only judges it.
 */
export function inputProblem(component: Component, type: string, payload: unknown): string | undefined {
  const schemas = INPUT_SCHEMAS[component];
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) return undefined;
  const r = schema.safeParse(payload);
  if (r.success) return undefined;
  return `payload of ${type} is not a ${component} input: ${r.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`;
}
