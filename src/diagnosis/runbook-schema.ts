import { z } from 'zod';

/** Layers a diagnosis can conclude failed. */
export const LAYERS = [
  'retrieval',
  'generation',
  'routing',
  'provider_drift',
  'integration',
  'cost',
  'safety',
  'infrastructure',
  'unknown',
] as const;
export type Layer = (typeof LAYERS)[number];

/** How an incident behaved, independent of where it was found. */
export const INCIDENT_CLASSES = ['infrastructure', 'data', 'model_behaviour', 'evaluation_policy'] as const;
export type IncidentClass = (typeof INCIDENT_CLASSES)[number];

const id = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,63}$/,
    'must be lowercase letters, digits and underscores, starting with a letter',
  );

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 30s, 5m or 2h');

const checkStatus = z.enum(['pass', 'fail', 'inconclusive', 'error']);

/** A condition on a node's check results: structured data, evaluated without `eval`. */
export type Condition =
  | { check: string; status: z.infer<typeof checkStatus> | Array<z.infer<typeof checkStatus>> }
  | { check: string; value: { op: '<' | '<=' | '>' | '>=' | '==' | '!='; value: number | string } }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ check: id, status: z.union([checkStatus, z.array(checkStatus).min(1)]) }),
    z.strictObject({
      check: id,
      value: z.strictObject({
        op: z.enum(['<', '<=', '>', '>=', '==', '!=']),
        value: z.union([z.number(), z.string()]),
      }),
    }),
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
  ]),
);

export const checkSpecSchema = z.strictObject({
  id,
  type: z.string().min(1),
  title: z.string().min(1).max(200).optional(),
  timeout: duration.optional(),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type CheckSpec = z.infer<typeof checkSpecSchema>;

export const actionRecommendationSchema = z.strictObject({
  action: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  /** Runs without a click, but only if the action's risk is low. */
  auto: z.boolean().default(false),
  why: z.string().max(500).optional(),
});
export type ActionRecommendation = z.infer<typeof actionRecommendationSchema>;

const questionSchema = z.strictObject({
  text: z.string().min(1).max(500),
  answers: z
    .array(z.strictObject({ label: z.string().min(1).max(75), next: id }))
    .min(1)
    .max(10),
});

const decisionNodeSchema = z.strictObject({
  title: z.string().min(1).max(150),
  description: z.string().max(2000).optional(),
  checks: z.array(checkSpecSchema).max(20).default([]),
  outcomes: z
    .array(z.strictObject({ when: conditionSchema, next: id, reason: z.string().max(300).optional() }))
    .default([]),
  question: questionSchema.optional(),
  /** Where to go when no outcome matches and there is no question for a person. */
  otherwise: id.optional(),
});

const conclusionNodeSchema = z.strictObject({
  title: z.string().min(1).max(150),
  description: z.string().max(2000).optional(),
  /** Checks that confirm recovery after an action; the deciding node's checks when absent. */
  checks: z.array(checkSpecSchema).max(20).default([]),
  conclusion: z.strictObject({
    layer: z.enum(LAYERS),
    hypothesis: z.string().min(1).max(1000),
    class: z.enum(INCIDENT_CLASSES),
    actions: z.array(actionRecommendationSchema).max(10).default([]),
  }),
});

/**
 * A node is a conclusion when it has a `conclusion` key. Choosing the schema by that key, rather
 * than with a union, keeps errors about the fields the author meant ("nodes.x.checks[0].id").
 */
const nodeSchema = z.unknown().transform((value, ctx) => {
  const schema =
    value !== null && typeof value === 'object' && 'conclusion' in value
      ? conclusionNodeSchema
      : decisionNodeSchema;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as DecisionNode | ConclusionNode;
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
  return z.NEVER;
});

export type DecisionNode = z.infer<typeof decisionNodeSchema>;
export type ConclusionNode = z.infer<typeof conclusionNodeSchema>;
export type RunbookNode = DecisionNode | ConclusionNode;

const labelMatcher = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

function runbookObject<N extends z.ZodType>(node: N) {
  return z.strictObject({
    id,
    title: z.string().min(1).max(150),
    description: z.string().max(4000).optional(),
    /** Chosen for incidents whose alert labels match; higher priority wins, then more specific. */
    match: z
      .strictObject({
        alertname: labelMatcher.optional(),
        layer: labelMatcher.optional(),
        service: labelMatcher.optional(),
      })
      .default({}),
    priority: z.number().int().default(0),
    /** Values templates can use as `{{vars.name}}`. */
    vars: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    start: id,
    nodes: z
      .record(id, node)
      .refine((nodes) => Object.keys(nodes).length > 0, 'must define at least one node'),
  });
}

/** A diagnosis tree: nodes with checks and outcomes, questions for people, and conclusions. */
export const runbookSchema = runbookObject(nodeSchema);
export type Runbook = Omit<z.infer<typeof runbookSchema>, 'nodes'> & { nodes: Record<string, RunbookNode> };

/** The same shape as JSON Schema, for editors (the `aisre runbook schema` command). */
export function runbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(runbookObject(z.union([conclusionNodeSchema, decisionNodeSchema])), {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
}

export function isConclusion(node: RunbookNode): node is ConclusionNode {
  return 'conclusion' in node;
}
