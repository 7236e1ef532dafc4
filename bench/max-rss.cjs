// Preloaded (node --require) into the command the benchmark measures: prints the process's
// peak resident memory as it exits, so the figure is the real command's, flags included.
process.on("exit", () => {
  // resourceUsage().maxRSS is in kilobytes.
  process.stderr.write(`max-rss-mb ${process.resourceUsage().maxRSS / 1024}\n`);
});
