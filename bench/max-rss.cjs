// Preloaded (node --require) into the command the benchmark measures: prints the process's
// peak resident memory and its CPU time as it exits, so the figures are the real command's,
// flags included.
process.on("exit", () => {
  const usage = process.resourceUsage();
  // maxRSS is in kilobytes, the CPU times in microseconds.
  process.stderr.write(`max-rss-mb ${usage.maxRSS / 1024}\n`);
  process.stderr.write(`cpu-ms ${(usage.userCPUTime + usage.systemCPUTime) / 1000}\n`);
});
