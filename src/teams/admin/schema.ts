/** The admin API's wire schemas (typebox): one source of truth for what it accepts. */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const BudgetPeriodSchema = Type.Union([Type.Literal("day"), Type.Literal("month"), Type.Literal("total")]);

/** ISO 8601: a date (`2026-12-31`) or a date-time with a zone (`2026-12-31T23:59:00Z`). */
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
export const isIsoDate = (s: string) => ISO.test(s) && !Number.isNaN(Date.parse(s));

const limits = {
  budget_usd: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1e9 }))),
  budget_period: Type.Optional(Nullable(BudgetPeriodSchema)),
  rpm: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1e9 }))),
  tpm: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1e12 }))),
  models: Type.Optional(Nullable(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 }))),
  expires_at: Type.Optional(Nullable(Type.String({ minLength: 10, maxLength: 40 }))),
};
const Name = Type.String({ minLength: 1, maxLength: 100 });

export const CreateKeySchema = Type.Object({ name: Name, ...limits }, { additionalProperties: false });
export type CreateKey = Static<typeof CreateKeySchema>;
export const UpdateKeySchema = Type.Object({ name: Type.Optional(Name), ...limits }, { additionalProperties: false });
export type UpdateKey = Static<typeof UpdateKeySchema>;

export const UsageQuerySchema = Type.Object(
  {
    key_id: Type.Optional(Type.String({ minLength: 1 })),
    from: Type.Optional(Type.String({ minLength: 10 })),
    to: Type.Optional(Type.String({ minLength: 10 })),
    group_by: Type.Optional(Type.Union([Type.Literal("model"), Type.Literal("key"), Type.Literal("day")])),
  },
  { additionalProperties: false },
);
export type UsageQuery = Static<typeof UsageQuerySchema>;

/** The value if it fits the schema, else the first problem in words (the field and what was expected). */
export function check<T extends TSchema>(schema: T, value: unknown): { ok: true; value: Static<T> } | { ok: false; message: string } {
  if (Value.Check(schema, value)) return { ok: true, value };
  const e = Value.Errors(schema, value).First();
  const where = e?.path ? e.path.slice(1).replaceAll("/", ".") : "body";
  return { ok: false, message: `${where || "body"}: ${e?.message ?? "invalid"}` };
}
