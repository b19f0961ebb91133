/** Series per family of an exposition: each sample line counts for the family of the `# TYPE` line before it. */
export function exportedFamilySeries(text: string): Map<string, number> {
  const series = new Map<string, number>();
  let family: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      family = line.split(' ')[2];
      if (family !== undefined) series.set(family, series.get(family) ?? 0);
    } else if (line !== '' && !line.startsWith('#') && family !== undefined) {
      series.set(family, (series.get(family) ?? 0) + 1);
    }
  }
  return series;
}
