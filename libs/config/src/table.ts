import { GROUPS, VARIABLE_NAMES, VARIABLES } from './variables.js';

/**
 * The README's configuration section, generated from variables.ts: one table per group, each variable
 * with its default and what it does. test/config/readme.unit.test.ts holds the README equal to it.
 */
export function configTable(): string {
  return GROUPS.map((g) => {
    const rows = VARIABLE_NAMES.filter((n) => VARIABLES[n].group === g).map((n) => {
      const v = VARIABLES[n];
      const dflt = /`/.test(v.defaultText) || /\s/.test(v.defaultText) ? v.defaultText : `\`${v.defaultText}\``;
      return `| \`${n}\` | ${dflt} | ${v.doc.replace(/\|/g, '\\|')} |`;
    });
    return [`**${g}**`, '', '| variable | default | what it does |', '|---|---|---|', ...rows].join('\n');
  }).join('\n\n');
}
