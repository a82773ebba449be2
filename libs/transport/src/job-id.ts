/**
 * Custom BullMQ job ids. BullMQ 6.7 rejects ids that look like integers ("Custom Id cannot be integers")
 * and ids containing ':' unless they split into exactly three parts (a legacy repeatable-job form).
 * Event ids may contain both, so they are encoded injectively: '%' → '%25', ':' → '%3A', and an id that
 * still reads as an integer gets the prefix '%I' (a '%' followed by anything but '25'/'3A' cannot come
 * out of the escaping, so distinct ids stay distinct and equal ids stay equal: dedupe still works).
 */
export function toBullJobId(id: string | undefined): string | undefined {
  if (id === undefined || id === '') return undefined;
  const escaped = id.replace(/%/g, '%25').replace(/:/g, '%3A');
  return `${parseInt(escaped, 10)}` === escaped ? `%I${escaped}` : escaped;
}
