/** The security log chart's numbers (its text alternative, #chart-table): day → [sign-ins, failed sign-ins, locks]. */
export function chartNumbers(html: string): Map<string, number[]> {
  const table = /<table id="chart-table">([\s\S]*?)<\/table>/.exec(html)![1];
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)![1];
  return new Map(
    [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [
      /datetime="([^"]+)"/.exec(row[1])![1],
      [...row[1].matchAll(/<td class="num">(\d+)<\/td>/g)].map((cell) => Number(cell[1])),
    ]),
  );
}
