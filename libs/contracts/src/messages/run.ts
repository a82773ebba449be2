import { z } from 'zod';
import { PRESETS, type PolicyValues, type ResolvedPolicy } from '../policy.js';
import type { RunSpec, Topology } from '../run-spec.js';
import { RetSchema } from './message.js';

const isRecord = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Structures validated where they enter (the scenario loader, resolvePolicy), carried whole in a
 * message: checked here for their shape only, typed as what the loader made of them.
 */
const TopologySchema = z.custom<Topology>((v) => isRecord(v) && ['host', 'parents', 'vms'].every((k) => k in (v as object)), 'a topology: host, parents, vms');
const PolicyValuesSchema = z.custom<PolicyValues>(isRecord, 'policy values by name');
const ResolvedPolicySchema = z.custom<ResolvedPolicy>((v) => isRecord(v) && isRecord((v as { values?: unknown }).values), 'a resolved policy');
const RunSpecSchema = z.custom<RunSpec>((v) => isRecord(v) && Array.isArray((v as { steps?: unknown }).steps), 'a run spec: host, parents, vms, steps, workload');

/** What every component learns when a run opens: the preset, the policy values, the machine. */
export const RunOpenSchema = z.object({ preset: z.enum(PRESETS), policy: PolicyValuesSchema, topology: TopologySchema });
export type RunOpen = z.infer<typeof RunOpenSchema>;

/**
 * A chaos run's fault parameters (libs/chaos): the `--faults` list that gives them again, each kind's
 * rate, and the device faults put into the scenario. Recorded in the run's first entry, so the report
 * and replay show them; the deciders never read them (infrastructure faults are invisible to the kernel).
 */
export const ChaosParamsSchema = z.object({
  faults: z.string(),
  rates: z.record(z.string(), z.union([z.number(), z.literal('once')])),
  devices: z.array(z.object({ kind: z.string(), target: z.string(), step: z.number().int() })),
});
export type ChaosParams = z.infer<typeof ChaosParamsSchema>;

/** The CLI's request to the orchestrator that starts a run. */
export const RunStartSchema = z.object({ scenario: RunSpecSchema, policy: ResolvedPolicySchema, seed: z.number().int(), chaos: ChaosParamsSchema.optional() });
export type RunStart = z.infer<typeof RunStartSchema>;

/** How a step ended: a call's return, or a timeout. */
export const OutcomeSchema = RetSchema.extend({ timeout: z.boolean().optional() });
export type Outcome = z.infer<typeof OutcomeSchema>;
