import { createRequire } from "node:module";
import * as z from "zod";
import type { Props, Template } from "./serverless-package.js";

/**
 * The state machine's definition as Step Functions receives it from CloudFormation: the
 * template's `Definition` with each `${Name}` of its `DefinitionSubstitutions` filled in, and
 * asl-validator's verdict on it (the Amazon States Language schema, transitions, paths).
 */

/** `${Name}` in a definition string (CloudFormation's substitution syntax). */
const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

export interface CompiledDefinition {
  /** The definition with every substitution filled by `resolve`. */
  readonly definition: Record<string, unknown>;
  /** Each substitution's name → what the template gives it (e.g. `{"Fn::GetAtt": [...]}`). */
  readonly substitutions: Record<string, unknown>;
  /** Names used in the definition that no substitution gives. */
  readonly unresolved: string[];
}

/** The definition of the state machine `id`, its substitutions resolved with `resolve`. */
export function compiledDefinition(
  template: Template,
  id: string,
  resolve: (value: unknown, name: string) => string,
): CompiledDefinition {
  const props: Props = template.Resources[id]?.Properties ?? {};
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  const unresolved: string[] = [];
  const text = JSON.stringify(props.Definition ?? null).replace(PLACEHOLDER, (whole, name) => {
    if (!(name in substitutions)) {
      unresolved.push(name);
      return whole;
    }
    return resolve(substitutions[name], name);
  });
  return { definition: JSON.parse(text) as Record<string, unknown>, substitutions, unresolved };
}

// asl-validator is CommonJS without types.
const aslValidator: unknown = createRequire(import.meta.url)("asl-validator");
const verdict = z.object({
  isValid: z.boolean(),
  errors: z.array(z.looseObject({ "Error code": z.string(), Message: z.string() })),
});

/** asl-validator's errors for `definition` (none: it is valid Amazon States Language). */
export function aslErrors(definition: unknown): string[] {
  if (typeof aslValidator !== "function") throw new Error("asl-validator exports no function");
  // It writes defaults into the states it checks: give it a copy.
  const result = verdict.parse(aslValidator(structuredClone(definition)));
  return result.isValid ? [] : result.errors.map((e) => `${e["Error code"]}: ${e.Message}`);
}
