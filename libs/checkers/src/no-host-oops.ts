import type { Checker } from './types.js';

/** No NULL or freed object is ever handed to a host driver entry point (bugs #1, #19). */
export const noHostOops: Checker = {
  name: 'no-host-oops',
  check(h) {
    return h.events('host-vtd', 'oops').map((e) => {
      const p = e.payload;
      return {
        invariant: 'no-host-oops',
        message: `${p.what} in ${p.fn}: ${p.detail}${p.vm ? ` (VM ${p.vm})` : ''}`,
        events: h.chain(e),
      };
    });
  },
};
