/** The two engines a chaos run can use (DESIGN.md §4). */
export type Engine = 'embedded' | 'cluster';
