import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";

/**
 * A small validator of a CloudFormation template against the published CloudFormation
 * registry schemas, as `@aws-cdk/aws-service-spec` ships them (its db.json.gz, read here as
 * plain JSON rather than through its loader): resource types, property names, required
 * properties, value types (down through nested property types), GetAtt attribute names,
 * and that every Ref, GetAtt, Sub variable, DependsOn and Condition names something that
 * exists. Intrinsic functions are accepted wherever a value may go (Fn::If: each branch is
 * checked; Fn::Join, Fn::Sub and Fn::Base64 give strings, Fn::Split, Fn::GetAZs and Fn::Cidr
 * lists). Scalars are held to their JSON type: stricter than CloudFormation, which would also
 * take "30" for an integer, so that a value the YAML quoted by mistake shows up here.
 * Properties the schemas type as free JSON (IAM policy documents) are not looked into.
 */

/** A value type as the spec database writes it. */
export type SpecType =
  | { type: "string" | "number" | "integer" | "boolean" | "json" | "tag" | "date-time" | "null" }
  | { type: "array" | "map"; element: SpecType }
  | { type: "ref"; reference: { $ref: string } }
  | { type: "union"; types: SpecType[] };

export interface SpecProperty {
  type: SpecType;
  required?: boolean;
  /** Types the property had before; CloudFormation still accepts values of those. */
  previousTypes?: SpecType[];
}

export interface ResourceSpec {
  cloudFormationType: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, unknown>;
}

export interface TypeDefinition {
  $id: string;
  name: string;
  properties: Record<string, SpecProperty>;
}

export interface CfnSpec {
  /** The version of @aws-cdk/aws-service-spec the schemas come from. */
  version: string;
  resources: Map<string, ResourceSpec>;
  types: Map<string, TypeDefinition>;
}

export type ProblemKind =
  | "template"
  | "unknown-type"
  | "unknown-property"
  | "missing-property"
  | "wrong-type"
  | "unknown-target"
  | "unknown-attribute";

export interface Problem {
  kind: ProblemKind;
  /** Where in the template, e.g. `Resources.ReportBucket.Properties.VersioningConfiguration`. */
  path: string;
  message: string;
}

interface SpecDatabase {
  schema: {
    resource: { entities: ResourceSpec[] };
    typeDefinition: { entities: TypeDefinition[] };
  };
}

const require = createRequire(import.meta.url);

/** The schemas from the installed @aws-cdk/aws-service-spec (under a second to read). */
export function loadCfnSpec(): CfnSpec {
  const db = JSON.parse(
    gunzipSync(readFileSync(require.resolve("@aws-cdk/aws-service-spec/db.json.gz"))).toString(
      "utf8",
    ),
  ) as SpecDatabase;
  const { version } = require("@aws-cdk/aws-service-spec/package.json") as { version: string };
  return {
    version,
    resources: new Map(db.schema.resource.entities.map((r) => [r.cloudFormationType, r])),
    types: new Map(db.schema.typeDefinition.entities.map((t) => [t.$id, t])),
  };
}

export const PSEUDO_PARAMETERS = new Set([
  "AWS::AccountId",
  "AWS::NotificationARNs",
  "AWS::NoValue",
  "AWS::Partition",
  "AWS::Region",
  "AWS::StackId",
  "AWS::StackName",
  "AWS::URLSuffix",
]);

const RESOURCE_KEYS = new Set([
  "Type",
  "Properties",
  "DependsOn",
  "Condition",
  "DeletionPolicy",
  "UpdateReplacePolicy",
  "Metadata",
  "CreationPolicy",
  "UpdatePolicy",
]);
const DELETION_POLICIES = new Set(["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"]);

/** Intrinsics whose result is always a string, or always a list. */
const STRING_FUNCTIONS = new Set(["Fn::Join", "Fn::Sub", "Fn::Base64"]);
const LIST_FUNCTIONS = new Set(["Fn::Split", "Fn::GetAZs", "Fn::Cidr"]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{"Ref": …}` or `{"Fn::…": …}`: one key, and an intrinsic's name. */
function intrinsicName(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) return undefined;
  return key === "Ref" || key.startsWith("Fn::") ? key : undefined;
}

const isNoValue = (value: unknown) => isObject(value) && value.Ref === "AWS::NoValue";

function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function show(type: SpecType): string {
  switch (type.type) {
    case "array":
    case "map":
      return `${type.type} of ${show(type.element)}`;
    case "ref":
      return "object";
    case "union":
      return type.types.map(show).join(" | ");
    default:
      return type.type;
  }
}

/** Values against property types: names, required properties, JSON types, nested types. */
class ValueChecker {
  constructor(
    private readonly spec: CfnSpec,
    private readonly problems: Problem[],
  ) {}

  private report(kind: ProblemKind, path: string, message: string): void {
    this.problems.push({ kind, path, message });
  }

  /** An object of named properties: each known, each required one there, each of its type. */
  checkObject(
    value: unknown,
    properties: Record<string, SpecProperty>,
    path: string,
    typeName: string,
  ): void {
    if (
      this.checkIntrinsic(value, path, "object", (v, p) =>
        this.checkObject(v, properties, p, typeName),
      )
    ) {
      return;
    }
    if (!isObject(value)) {
      this.report("wrong-type", path, `${typeName} is an object, not ${jsonKind(value)}`);
      return;
    }
    for (const [name, property] of Object.entries(value)) {
      const spec = properties[name];
      if (spec === undefined) {
        this.report("unknown-property", `${path}.${name}`, `${typeName} has no property ${name}`);
      } else if (!isNoValue(property)) {
        this.checkProperty(property, spec, `${path}.${name}`);
      }
    }
    for (const [name, spec] of Object.entries(properties)) {
      if (spec.required && (value[name] === undefined || isNoValue(value[name]))) {
        this.report(
          "missing-property",
          `${path}.${name}`,
          `${typeName} requires ${name} (${show(spec.type)})`,
        );
      }
    }
  }

  private checkProperty(value: unknown, property: SpecProperty, path: string): void {
    const types = [property.type, ...(property.previousTypes ?? [])];
    if (types.length === 1) this.checkValue(value, property.type, path);
    else this.checkValue(value, { type: "union", types }, path);
  }

  /** Accepts an intrinsic where a value of `expected` kind may go; true if `value` was one. */
  private checkIntrinsic(
    value: unknown,
    path: string,
    expected: "scalar" | "list" | "object" | "any",
    checkBranch: (value: unknown, path: string) => void,
  ): boolean {
    const name = intrinsicName(value);
    if (name === undefined || !isObject(value)) return false;
    const args = value[name];
    if (name === "Fn::If") {
      if (!Array.isArray(args) || args.length !== 3) {
        this.report("template", `${path}.Fn::If`, "Fn::If takes [condition, then, else]");
        return true;
      }
      args.slice(1).forEach((branch, i) => {
        if (!isNoValue(branch)) checkBranch(branch, `${path}.Fn::If[${i + 1}]`);
      });
      return true;
    }
    const result = STRING_FUNCTIONS.has(name) ? "string" : LIST_FUNCTIONS.has(name) ? "list" : "";
    if (
      (result === "string" && (expected === "list" || expected === "object")) ||
      (result === "list" && expected !== "list" && expected !== "any")
    ) {
      this.report("wrong-type", path, `${name} gives a ${result}, where a ${expected} goes`);
    }
    return true;
  }

  checkValue(value: unknown, type: SpecType, path: string): void {
    switch (type.type) {
      case "union": {
        if (this.checkIntrinsic(value, path, "any", (v, p) => this.checkValue(v, type, p))) return;
        const attempts = type.types.map((member) => {
          const problems: Problem[] = [];
          new ValueChecker(this.spec, problems).checkValue(value, member, path);
          return problems;
        });
        if (attempts.some((problems) => problems.length === 0)) return;
        this.report(
          "wrong-type",
          path,
          `${JSON.stringify(value)} is none of ${show(type)}: ${attempts
            .flat()
            .map((p) => p.message)
            .join("; ")}`,
        );
        return;
      }
      case "json":
        return;
      case "array": {
        const branch = (v: unknown, p: string) => this.checkValue(v, type, p);
        if (this.checkIntrinsic(value, path, "list", branch)) return;
        if (!Array.isArray(value)) {
          this.report("wrong-type", path, `expected ${show(type)}, got ${jsonKind(value)}`);
          return;
        }
        value.forEach((element, i) => {
          if (!isNoValue(element)) this.checkValue(element, type.element, `${path}[${i}]`);
        });
        return;
      }
      case "map": {
        const branch = (v: unknown, p: string) => this.checkValue(v, type, p);
        if (this.checkIntrinsic(value, path, "object", branch)) return;
        if (!isObject(value)) {
          this.report("wrong-type", path, `expected ${show(type)}, got ${jsonKind(value)}`);
          return;
        }
        for (const [key, element] of Object.entries(value)) {
          this.checkValue(element, type.element, `${path}.${key}`);
        }
        return;
      }
      case "ref": {
        const definition = this.spec.types.get(type.reference.$ref);
        if (definition === undefined) {
          this.report("template", path, `the spec has no type ${type.reference.$ref}`);
          return;
        }
        this.checkObject(value, definition.properties, path, definition.name);
        return;
      }
      case "tag": {
        const tag: Record<string, SpecProperty> = {
          Key: { type: { type: "string" }, required: true },
          Value: { type: { type: "string" }, required: true },
        };
        this.checkObject(value, tag, path, "Tag");
        return;
      }
      default: {
        const branch = (v: unknown, p: string) => this.checkValue(v, type, p);
        if (this.checkIntrinsic(value, path, "scalar", branch)) return;
        const ok =
          type.type === "string" || type.type === "date-time"
            ? typeof value === "string"
            : type.type === "number"
              ? typeof value === "number" && Number.isFinite(value)
              : type.type === "integer"
                ? Number.isInteger(value)
                : type.type === "boolean"
                  ? typeof value === "boolean"
                  : value === null;
        if (!ok) {
          this.report(
            "wrong-type",
            path,
            `expected ${type.type}, got ${jsonKind(value)} ${JSON.stringify(value)}`,
          );
        }
      }
    }
  }
}

class Validator {
  readonly problems: Problem[] = [];
  private readonly resources: Json;
  private readonly parameters: Json;
  private readonly conditions: Json;
  private readonly mappings: Json;

  constructor(
    private readonly spec: CfnSpec,
    template: Json,
  ) {
    const section = (name: string): Json => {
      const value = template[name];
      if (value === undefined) return {};
      if (isObject(value)) return value;
      this.report("template", name, `must be an object, not ${jsonKind(value)}`);
      return {};
    };
    this.resources = section("Resources");
    this.parameters = section("Parameters");
    this.conditions = section("Conditions");
    this.mappings = section("Mappings");
    if (Object.keys(this.resources).length === 0) {
      this.report("template", "Resources", "the template has no resources");
    }
    for (const [id, resource] of Object.entries(this.resources)) {
      this.checkResource(id, resource);
    }
    for (const [name, condition] of Object.entries(this.conditions)) {
      this.checkReferences(condition, `Conditions.${name}`, true);
    }
    for (const [name, output] of Object.entries(section("Outputs"))) {
      const path = `Outputs.${name}`;
      if (!isObject(output) || output.Value === undefined) {
        this.report("missing-property", path, "an output needs a Value");
        continue;
      }
      this.checkCondition(output.Condition, `${path}.Condition`);
      this.checkReferences(output, path, false);
    }
  }

  private report(kind: ProblemKind, path: string, message: string): void {
    this.problems.push({ kind, path, message });
  }

  private checkResource(id: string, resource: unknown): void {
    const path = `Resources.${id}`;
    if (!isObject(resource)) {
      this.report("template", path, `a resource must be an object, not ${jsonKind(resource)}`);
      return;
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) {
        this.report("unknown-property", `${path}.${key}`, `no resource attribute ${key}`);
      }
    }
    for (const key of ["DeletionPolicy", "UpdateReplacePolicy"]) {
      const policy = resource[key];
      if (policy !== undefined && !(typeof policy === "string" && DELETION_POLICIES.has(policy))) {
        this.report("wrong-type", `${path}.${key}`, `${JSON.stringify(policy)} is no policy`);
      }
    }
    this.checkCondition(resource.Condition, `${path}.Condition`);
    this.checkDependsOn(id, resource.DependsOn, `${path}.DependsOn`);
    this.checkReferences(resource.Properties, `${path}.Properties`, false);

    const type = resource.Type;
    if (typeof type !== "string") {
      this.report("template", `${path}.Type`, "a resource needs a Type");
      return;
    }
    const properties = resource.Properties ?? {};
    if (type.startsWith("Custom::") || type === "AWS::CloudFormation::CustomResource") {
      if (!isObject(properties) || properties.ServiceToken === undefined) {
        this.report("missing-property", `${path}.Properties.ServiceToken`, "required");
      }
      return;
    }
    const spec = this.spec.resources.get(type);
    if (spec === undefined) {
      this.report("unknown-type", `${path}.Type`, `CloudFormation has no resource type ${type}`);
      return;
    }
    new ValueChecker(this.spec, this.problems).checkObject(
      properties,
      spec.properties,
      `${path}.Properties`,
      type,
    );
  }

  private checkCondition(condition: unknown, path: string): void {
    if (condition === undefined) return;
    if (typeof condition !== "string" || !(condition in this.conditions)) {
      this.report("unknown-target", path, `no condition ${JSON.stringify(condition)}`);
    }
  }

  private checkDependsOn(id: string, dependsOn: unknown, path: string): void {
    if (dependsOn === undefined) return;
    const names = Array.isArray(dependsOn) ? dependsOn : [dependsOn];
    names.forEach((name, i) => {
      const at = Array.isArray(dependsOn) ? `${path}[${i}]` : path;
      if (typeof name !== "string") {
        this.report("wrong-type", at, `DependsOn names a resource, not ${jsonKind(name)}`);
      } else if (name === id || !(name in this.resources)) {
        this.report("unknown-target", at, `DependsOn ${name}: no other resource of that name`);
      }
    });
  }

  /** Every Ref, GetAtt, Sub variable, FindInMap map and Fn::If condition under `value`. */
  private checkReferences(value: unknown, path: string, inConditions: boolean): void {
    if (Array.isArray(value)) {
      value.forEach((element, i) => {
        this.checkReferences(element, `${path}[${i}]`, inConditions);
      });
      return;
    }
    if (!isObject(value)) return;
    const name = intrinsicName(value) ?? (inConditions ? conditionKey(value) : undefined);
    const args = name === undefined ? undefined : value[name];
    const at = `${path}.${name}`;
    switch (name) {
      case "Ref":
        if (typeof args !== "string") this.report("template", at, "Ref takes a name");
        else this.checkRef(args, at);
        return;
      case "Fn::GetAtt": {
        const [id, attribute] =
          typeof args === "string"
            ? [args.slice(0, args.indexOf(".")), args.slice(args.indexOf(".") + 1)]
            : Array.isArray(args)
              ? [args[0], args[1]]
              : [];
        if (typeof id !== "string" || id === "" || attribute === undefined || attribute === "") {
          this.report("template", at, `Fn::GetAtt takes [resource, attribute]`);
        } else {
          this.checkGetAtt(id, attribute, at);
        }
        this.checkReferences(attribute, at, inConditions);
        return;
      }
      case "Fn::Sub": {
        const [text, variables] = Array.isArray(args) ? [args[0], args[1]] : [args, undefined];
        if (typeof text !== "string" || (variables !== undefined && !isObject(variables))) {
          this.report("template", at, "Fn::Sub takes a string, or [string, {variables}]");
          return;
        }
        for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
          const variable = (match[1] ?? "").trim();
          if (variable.startsWith("!") || (variables !== undefined && variable in variables)) {
            continue;
          }
          const dot = variable.indexOf(".");
          if (dot < 0) this.checkRef(variable, at);
          else this.checkGetAtt(variable.slice(0, dot), variable.slice(dot + 1), at);
        }
        this.checkReferences(variables, at, inConditions);
        return;
      }
      case "Fn::If":
        if (Array.isArray(args)) this.checkCondition(args[0], `${at}[0]`);
        this.checkReferences(Array.isArray(args) ? args.slice(1) : args, at, inConditions);
        return;
      case "Condition":
        this.checkCondition(args, at);
        return;
      case "Fn::FindInMap":
        if (!Array.isArray(args) || !(typeof args[0] !== "string" || args[0] in this.mappings)) {
          this.report("unknown-target", at, `no mapping ${JSON.stringify(args)}`);
        }
        this.checkReferences(args, at, inConditions);
        return;
      default:
        for (const [key, element] of Object.entries(value)) {
          this.checkReferences(element, `${path}.${key}`, inConditions);
        }
    }
  }

  private checkRef(name: string, path: string): void {
    if (!(PSEUDO_PARAMETERS.has(name) || name in this.resources || name in this.parameters)) {
      this.report(
        "unknown-target",
        path,
        `Ref ${name}: no resource, parameter or pseudo parameter`,
      );
    }
  }

  private checkGetAtt(id: string, attribute: unknown, path: string): void {
    const resource = this.resources[id];
    if (!isObject(resource)) {
      this.report("unknown-target", path, `Fn::GetAtt ${id}: no resource of that name`);
      return;
    }
    if (typeof attribute !== "string") return; // e.g. {"Ref": parameter}, checked as a Ref
    const type = resource.Type;
    if (typeof type !== "string") return;
    if (
      type.startsWith("Custom::") ||
      type === "AWS::CloudFormation::CustomResource" ||
      (type === "AWS::CloudFormation::Stack" && attribute.startsWith("Outputs."))
    ) {
      return;
    }
    const spec = this.spec.resources.get(type);
    if (spec !== undefined && !(attribute in spec.attributes)) {
      this.report(
        "unknown-attribute",
        path,
        `${type} has no attribute ${attribute} (it has ${Object.keys(spec.attributes).join(", ") || "none"})`,
      );
    }
  }
}

/** `{"Condition": name}`, which only the Conditions section reads as a reference. */
function conditionKey(value: Json): string | undefined {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "Condition" ? "Condition" : undefined;
}

/** Everything wrong with `template` that the spec can tell; empty if nothing is. */
export function validateTemplate(template: unknown, spec: CfnSpec): Problem[] {
  if (!isObject(template)) {
    return [{ kind: "template", path: "", message: "a template is a JSON object" }];
  }
  return new Validator(spec, template).problems;
}
