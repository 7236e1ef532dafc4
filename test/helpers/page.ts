/** Reading a rendered report page in tests. */

/** The `<svg>…</svg>` elements of a page. */
export const svgs = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
