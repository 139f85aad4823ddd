// The one duration format of the API: Go-style "6h", "90m", "1h30m", "45s" (hours, minutes,
// seconds, each optional, in that order), as the CRDs' pattern and CEL duration() accept.
const RE = /^(?:(\d{1,5})h)?(?:(\d{1,5})m)?(?:(\d{1,7})s)?$/;

/** Seconds in a duration string, or undefined when it is not one (or is empty). */
export function parseDuration(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = RE.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
