/** What the dashboard's controllers are given (ui.module.ts). */
export const UI_SOURCES = Symbol('UI_SOURCES');

/** A line for the run list saying where runs are read from. */
export interface UiSources {
  describe: string;
}
