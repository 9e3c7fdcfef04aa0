/** Severities from most to least severe, with the colours Prowler's dashboards use for them. */
export const SEVERITY_COLOURS: ReadonlyArray<[string, string]> = [
  ['critical', '#7b1e1e'],
  ['high', '#d9480f'],
  ['medium', '#f59f00'],
  ['low', '#1c7ed6'],
  ['informational', '#868e96'],
];

const BAR_HEIGHT = 26;
const GAP = 10;
const LABEL_WIDTH = 120;
const BAR_WIDTH = 420;
const VALUE_WIDTH = 70;

/**
 * A horizontal bar chart of failed findings per severity as inline SVG: the
 * report is one self-contained file, with no script and nothing to fetch.
 */
export function severityChartSvg(failedBySeverity: ReadonlyMap<string, number>): string {
  const largest = Math.max(1, ...failedBySeverity.values());
  const height = SEVERITY_COLOURS.length * (BAR_HEIGHT + GAP) + GAP;
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const bars = SEVERITY_COLOURS.map(([severity, colour], index) => {
    const count = failedBySeverity.get(severity) ?? 0;
    const y = GAP + index * (BAR_HEIGHT + GAP);
    const length = Math.round((count / largest) * BAR_WIDTH);
    const middle = y + BAR_HEIGHT / 2;
    return (
      `<text x="${LABEL_WIDTH - 8}" y="${middle}" text-anchor="end" dominant-baseline="middle">${severity}</text>` +
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${length}" height="${BAR_HEIGHT}" fill="${colour}"><title>${severity}: ${count}</title></rect>` +
      `<text x="${LABEL_WIDTH + length + 6}" y="${middle}" dominant-baseline="middle">${count}</text>`
    );
  }).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Failed findings by severity" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">${bars}</svg>`
  );
}
