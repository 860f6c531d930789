// "Only what differs": the param keys whose value is not the same in every run compared. A key some runs lack
// differs (absent is a value of its own), so a sweep over an optional param shows up.

export function differingParamKeys(paramsByRun: readonly Readonly<Record<string, string>>[]): string[] {
  const keys = new Set<string>();
  for (const params of paramsByRun) for (const k of Object.keys(params)) keys.add(k);
  const differing: string[] = [];
  for (const key of [...keys].sort()) {
    const first = Object.hasOwn(paramsByRun[0] ?? {}, key) ? paramsByRun[0]![key] : undefined;
    if (paramsByRun.some((p) => (Object.hasOwn(p, key) ? p[key] : undefined) !== first)) differing.push(key);
  }
  return differing;
}
