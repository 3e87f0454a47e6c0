/**
 * JSON Schema validation shared by the hardware descriptions and the model image manifest:
 * one compiled validator per schema file, and error lines that name the field.
 */

import * as fs from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

const validators = new Map<string, ValidateFunction>();

/** The compiled validator of a schema file (compiled once per process). */
export function schemaValidator(schemaFile: string): ValidateFunction {
  let v = validators.get(schemaFile);
  if (!v) {
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object;
    v = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    validators.set(schemaFile, v);
  }
  return v;
}

/** One line per error: "a.b.c: what is wrong". */
export function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    case 'required':
      return `${where}: missing field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'enum':
      return `${where}: ${e.message} (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})`;
    case 'const':
      return `${where}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    default:
      return `${where}: ${e.message}`;
  }
}
