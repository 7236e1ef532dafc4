// Stack parameters that must reach the template as numbers. `--param=name=value` gives a
// string, which CloudFormation would coerce for a resource property but Step Functions does
// not inside a definition: "MaxConcurrency": "4" fails the deploy. serverless.yml reads them
// as ${file(./scripts/stack-params.cjs):name}; a value that is not a whole number in range
// fails `serverless package` with a message naming the parameter.

/** The parameter `name` as an integer in [min, max]. */
function integerParam(name, min, max) {
  return async ({ resolveVariable }) => {
    const raw = await resolveVariable(`param:${name}`);
    const value = typeof raw === "number" ? raw : Number(String(raw).trim());
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(
        `the parameter ${name} must be a whole number from ${min} to ${max}, not "${raw}"`,
      );
    }
    return value;
  };
}

module.exports = {
  // Step Functions takes 0 (no limit) to 40 for an inline Map; 0 is refused here: a run
  // with many sources would scan them all at once, upstream and Lambda concurrency alike.
  scanConcurrency: integerParam("scanConcurrency", 1, 40),
};
