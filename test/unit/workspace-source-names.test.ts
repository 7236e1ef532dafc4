import { describe, expect, it } from "vitest";
import { isSourceName } from "../../src/api/routes.js";
import { MAX_SOURCE_NAME, SOURCE_NAME, workspaceSourceNames } from "../../src/app/sources.js";

const VISION = "7c1e4a9b2d3f4e5a8b6c0d1e2f3a4b5c";
const NLP = "0a9b8c7d6e5f40312233445566778899";
const SPEECH = "f00dfeedbeefcafe0123456789abcdef";

describe("workspaceSourceNames", () => {
  it('orders by workspace id, "0" first, and names each by its lower-cased name', () => {
    const names = workspaceSourceNames("research", [
      { id: VISION, name: "Vision" },
      { id: NLP, name: "NLP" },
      { id: "0", name: "default" },
    ]);
    // "0" < "0a9b…" (a prefix sorts first) < "7c1e…"
    expect(names).toEqual([
      { workspaceId: "0", name: "research.default" },
      { workspaceId: NLP, name: "research.nlp" },
      { workspaceId: VISION, name: "research.vision" },
    ]);
  });

  it("writes each run of characters other than [a-z0-9] as one -", () => {
    const names = workspaceSourceNames("org", [
      { id: VISION, name: "Vision Team" },
      { id: NLP, name: "  NLP & Speech__v2!" },
      { id: SPEECH, name: "Équipe été" },
    ]);
    expect(names.map((n) => n.name)).toEqual([
      "org.-nlp-speech-v2-",
      "org.vision-team",
      // é is not in [a-z0-9]: each run of it is one -
      "org.-quipe-t-",
    ]);
  });

  it("names by id every workspace whose name collides after lower-casing, and only those", () => {
    const names = workspaceSourceNames("r", [
      { id: VISION, name: "Vision Team" },
      { id: NLP, name: "vision_team" },
      { id: SPEECH, name: "Speech" },
      { id: "0", name: "default" },
    ]);
    expect(names).toEqual([
      { workspaceId: "0", name: "r.default" },
      { workspaceId: NLP, name: `r.${NLP}` },
      { workspaceId: VISION, name: `r.${VISION}` },
      { workspaceId: SPEECH, name: "r.speech" },
    ]);
  });

  it("lower-cases an id used as a name", () => {
    const upper = "ABCDEF0123456789ABCDEF0123456789";
    const names = workspaceSourceNames("r", [
      { id: upper, name: "Team" },
      { id: NLP, name: "team" },
    ]);
    expect(names.map((n) => n.name)).toEqual([`r.${NLP}`, `r.${upper.toLowerCase()}`]);
  });

  it("gives distinct names when an id put in place of a name equals another workspace's name", () => {
    // a1 and a2 collide on "dup" and take their ids; b is named "a1" (a1's id), so b and a1
    // collide and b takes its id "b1"; c is named "b1", so c and b collide and c takes "c1".
    const names = workspaceSourceNames("e", [
      { id: "a1", name: "dup" },
      { id: "a2", name: "dup" },
      { id: "b1", name: "a1" },
      { id: "c1", name: "b1" },
      { id: "d1", name: "other" },
    ]);
    expect(names.map((n) => n.name)).toEqual(["e.a1", "e.a2", "e.b1", "e.c1", "e.other"]);
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
  });

  it("names a workspace with an empty name by its id", () => {
    const names = workspaceSourceNames("e", [
      { id: "0", name: "default" },
      { id: NLP, name: "" },
    ]);
    expect(names.map((n) => n.name)).toEqual(["e.default", `e.${NLP}`]);
  });

  it("gives names whose part after the entry is [a-z0-9-] for any names", () => {
    const names = workspaceSourceNames("research", [
      { id: "0", name: "default" },
      { id: VISION, name: "Vision/Team #1" },
      { id: NLP, name: "ＮＬＰ" },
    ]);
    for (const { name } of names) {
      const [entry, rest] = name.split(".");
      expect(entry).toBe("research");
      expect(rest).toMatch(SOURCE_NAME);
    }
  });

  it("takes the id for a workspace name longer than an entry's, so every name fits a URL", () => {
    const long = "Computer Vision and Multimodal Foundation Models Team";
    const names = workspaceSourceNames("a".repeat(40), [
      { id: "0", name: "default" },
      { id: "f".repeat(64), name: long },
    ]);
    expect(names[1]?.name).toBe(`${"a".repeat(40)}.${"f".repeat(64)}`);
    expect(names[1]?.name.length).toBe(MAX_SOURCE_NAME);
    // The API takes the longest name there can be as a path segment, and no longer.
    expect(isSourceName(names[1]?.name ?? "")).toBe(true);
    expect(isSourceName("a".repeat(MAX_SOURCE_NAME + 1))).toBe(false);
    // A name of exactly 40 characters is kept.
    const forty = "x".repeat(40);
    expect(workspaceSourceNames("e", [{ id: "1", name: forty }])[0]?.name).toBe(`e.${forty}`);
  });
});
