import { POLICIES, PRESETS, PRESET_KERNELS, type PolicyDef } from '../../../../libs/contracts/src/index.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * The policy table as docs/policies.md holds it (test/domain/policies.unit.test.ts compares the two):
 * the host kernel of each preset, then one row per policy with where it moves in the kernel's history.
 */
export function policiesMarkdown(): string {
  const lines = [
    '| preset | host kernel | source |',
    '| --- | --- | --- |',
    ...PRESETS.map((p) => `| ${p} | ${cell(PRESET_KERNELS[p].kernel)} | ${cell(PRESET_KERNELS[p].source)} |`),
    '',
    `| policy | models | source | kernel | ${PRESETS.join(' | ')} |`,
    `| --- | --- | --- | --- | ${PRESETS.map(() => '---').join(' | ')} |`,
  ];
  for (const [name, def] of Object.entries(POLICIES) as Array<[string, PolicyDef]>) {
    lines.push(`| \`${name}\` | ${cell(def.description)} | ${cell(def.source)} | ${cell(def.kernel)} | ${PRESETS.map((p) => `\`${String(def.presets[p])}\``).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** `vsva-sim policies`: every policy with its value per preset, and the host kernel of each preset. */
export function policiesCommand(opts: { json?: boolean; markdown?: boolean }): number {
  if (opts.json) {
    const policies = Object.fromEntries(Object.entries(POLICIES).map(([k, d]) => [k, { description: d.description, source: d.source, kernel: d.kernel, presets: d.presets }]));
    process.stdout.write(`${JSON.stringify({ presets: PRESET_KERNELS, policies }, null, 2)}\n`);
    return 0;
  }
  if (opts.markdown) {
    process.stdout.write(`${policiesMarkdown()}\n`);
    return 0;
  }
  const width = Math.max(...Object.keys(POLICIES).map((k) => k.length));
  const out = ['host kernel of each preset:', ...PRESETS.map((p) => `  ${p.padEnd(9)} ${PRESET_KERNELS[p].kernel}`), '', `${'policy'.padEnd(width)}  ${PRESETS.map((p) => p.padEnd(8)).join(' ')}`];
  for (const [name, def] of Object.entries(POLICIES) as Array<[string, PolicyDef]>) {
    out.push(`${name.padEnd(width)}  ${PRESETS.map((p) => String(def.presets[p]).padEnd(8)).join(' ')}`);
  }
  out.push('', 'what each models and where it comes from: vsva-sim policies --markdown, or docs/policies.md');
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
