// Number, money and time formats of the dashboard. Days and times are UTC, as in the ledger.

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmtInt = (n) => intFormat.format(n);

// Micro-dollars as dollars: 2 decimals from $10 or for whole cents, else 4 (small costs stay
// visible).
export function fmtUsd(micros) {
  const digits = micros >= 10_000_000 || micros % 10_000 === 0 ? 2 : 4;
  return `$${(micros / 1e6).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

export function fmtMs(ms) {
  if (ms == null) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export const fmtRate = (r) => `${(r * 100).toFixed(1)} %`;

export const fmtTime = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export const todayUtc = () => new Date().toISOString().slice(0, 10);

// "YYYY-MM-DD" shifted by `n` days.
export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// "YYYY-MM-DD" -> unix seconds at UTC midnight (uPlot's x values).
export const dayToUnix = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
