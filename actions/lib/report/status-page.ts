import * as echarts from 'echarts';
import { formatBytes, formatSeconds } from '../format.ts';
import { allDrills, type NameHistory, type NameStatus } from '../manifest/status.ts';

/** How far back the charts reach. */
export const CHART_DAYS = 90;
/** How many drills each name's table lists. */
const TABLE_DRILLS = 10;
const CHART = { width: 360, height: 220 };

export interface StatusPageName {
  history: NameHistory;
  status: NameStatus;
}

export interface StatusPageOptions {
  names: StatusPageName[];
  generatedAt: Date;
  maxAgeHours: number;
  /** Where the backups were read, for people. */
  destinations: string[];
}

/**
 * The daily status page: one self-contained HTML file (inline CSS, charts as inline SVG drawn by ECharts on the
 * server, no script, no font, no image to fetch), so it opens from an artifact, a mail or GitHub Pages alike.
 */
export function renderStatusPage(options: StatusPageOptions): string {
  const since = options.generatedAt.getTime() - CHART_DAYS * 86_400_000;
  const stale = options.names.filter((entry) => entry.status.stale).length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backstop status: ${stale === 0 ? 'all fresh' : `${stale} stale`}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Backstop status</h1>
<p class="meta">Generated ${escapeHtml(options.generatedAt.toISOString())} from ${escapeHtml(
    options.destinations.join(', '),
  )}; stale means the newest complete backup is older than ${options.maxAgeHours} h.</p>
${overviewTable(options.names)}
${options.names.map((entry) => nameSection(entry, since)).join('\n')}
</body>
</html>
`;
}

function overviewTable(names: StatusPageName[]): string {
  const rows = names.map(({ status }) => {
    const drill = status.newestDrill;
    return `<tr class="${status.stale ? 'stale' : 'fresh'}"><td><a href="#${anchor(status.name)}">${escapeHtml(
      status.name,
    )}</a></td><td>${escapeHtml(status.engine ?? '–')}</td><td>${escapeHtml(status.newest?.id ?? 'none')}</td><td>${
      status.newestAgeHours === undefined ? '–' : `${status.newestAgeHours.toFixed(1)} h`
    }</td><td>${status.newest ? formatBytes(status.newest.storedBytes) : '–'}</td><td>${
      drill ? `${drillVerdict(drill)} (${escapeHtml(drill.startedAt)})` : 'never drilled'
    }</td><td>${status.stale ? 'STALE' : 'fresh'}</td></tr>`;
  });
  return `<table class="overview"><thead><tr><th>Name</th><th>Engine</th><th>Newest backup</th><th>Age</th>
<th>Size</th><th>Newest drill</th><th>Freshness</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function nameSection({ history, status }: StatusPageName, since: number): string {
  const recent = history.backups.filter((backup) => Date.parse(backup.finishedAt) >= since).reverse();
  const drills = allDrills(history).filter((drill) => !drill.dryRun && Date.parse(drill.startedAt) >= since);
  const charts = [
    chartSvg(
      'Stored size (MiB)',
      recent.map((b) => [b.finishedAt, b.storedBytes / 1_048_576]),
    ),
    chartSvg(
      'Backup duration (s)',
      recent.map((b) => [b.finishedAt, b.durationSeconds]),
    ),
    chartSvg(
      'Restore time in drills, RTO (s)',
      drills.reverse().map((d) => [d.startedAt, d.restoreSeconds]),
    ),
  ];
  return `<section id="${anchor(status.name)}" class="name" data-name="${escapeHtml(status.name)}">
<h2>${escapeHtml(status.name)} <span class="badge ${status.stale ? 'stale' : 'fresh'}">${
    status.stale ? 'stale' : 'fresh'
  }</span></h2>
${history.problems.map((problem) => `<p class="problem">${escapeHtml(problem)}</p>`).join('\n')}
<div class="charts">${charts.map((svg) => `<figure class="chart">${svg}</figure>`).join('')}</div>
${drillTable(history)}
</section>`;
}

/** A line chart over time, drawn by ECharts as an SVG string (no DOM, no animation: a static picture). */
function chartSvg(title: string, points: [string, number][]): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...CHART });
  try {
    chart.setOption({
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 13, fontFamily: 'sans-serif' } },
      grid: { left: 56, right: 16, top: 40, bottom: 32 },
      xAxis: { type: 'time', axisLabel: { fontSize: 10 } },
      yAxis: { type: 'value', scale: true, axisLabel: { fontSize: 10 } },
      series: [{ type: 'line', showSymbol: true, symbolSize: 5, data: points }],
      ...(points.length === 0
        ? { graphic: { type: 'text', left: 'center', top: 'middle', style: { text: 'no data in 90 days' } } }
        : {}),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function drillTable(history: NameHistory): string {
  const drills = allDrills(history).slice(0, TABLE_DRILLS);
  if (drills.length === 0) return '<p class="none">Never drilled: run restore-drill.</p>';
  const rows = drills.map(
    (drill) =>
      `<tr class="${drill.verified ? 'fresh' : 'stale'}"><td>${escapeHtml(drill.startedAt)}</td><td>${escapeHtml(
        drill.backupId,
      )}</td><td>${drillVerdict(drill)}</td><td>${formatSeconds(drill.restoreSeconds)}</td><td>${drill.backupAgeHours.toFixed(
        1,
      )} h</td><td>${escapeHtml(drill.problems.join('; '))}</td></tr>`,
  );
  return `<table class="drills"><thead><tr><th>Drill started</th><th>Backup</th><th>Verdict</th><th>Restore (RTO)</th>
<th>Backup age (RPO)</th><th>Problems</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

export function drillVerdict(drill: { verified: boolean; dryRun: boolean }): string {
  return `${drill.verified ? 'verified' : 'FAILED'}${drill.dryRun ? ' (dry run)' : ''}`;
}

/** An id for a name's section: names are letters, digits, `.`, `_`, `-` (checkBackupName). */
function anchor(name: string): string {
  return `name-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
h1 { margin-bottom: 0.2rem; }
.meta { color: #57606a; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f6f8fa; }
tr.stale td { background: #ffebe9; }
.badge { font-size: 0.8rem; padding: 0.1rem 0.5rem; border-radius: 1rem; vertical-align: middle; }
.badge.fresh { background: #dafbe1; }
.badge.stale { background: #ffebe9; }
.charts { display: flex; flex-wrap: wrap; gap: 0.8rem; }
figure.chart { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; }
.problem { color: #cf222e; }
section.name { margin-top: 2rem; }
`;
