// Risk lab: a policy maker loads the JSON of `cbdc simulate --sweep … --json` and compares the runs
// side by side — a table of each run's swept values and figures, and charts of fraud caught, value
// lost and payments per run. The file is read in the browser and sent nowhere.
import { useState } from 'preact/hooks';
import { Chart } from '../chart.tsx';
import { chartUnits, formatAmount } from '../format.ts';
import { decodeSweep, SweepInvalid, type SweepView } from '../sweep-decode.ts';

function runLabel(view: SweepView, index: number): string {
  const run = view.runs[index];
  if (run === undefined) return '';
  return view.parameters
    .map((parameter) => `${parameter.name}=${run.values[parameter.name] ?? ''}`)
    .join(' ');
}

export function RiskLab() {
  const [view, setView] = useState<SweepView | undefined>(undefined);
  const [message, setMessage] = useState('');
  const load = async (event: Event) => {
    const file = (event.currentTarget as HTMLInputElement).files?.[0];
    if (file === undefined) return;
    setView(undefined);
    try {
      const decoded = decodeSweep(await file.text());
      setView(decoded);
      setMessage(`${file.name}: ${decoded.runs.length} runs.`);
    } catch (error) {
      setMessage(
        `${file.name} is not a sweep report: ${error instanceof SweepInvalid ? error.message : String(error)}`,
      );
    }
  };
  return (
    <section aria-labelledby="risk-lab-title">
      <h2 id="risk-lab-title">Risk lab</h2>
      <form
        class="search"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <label for="sweep-file">Sweep report (cbdc simulate --sweep … --json)</label>
        <input
          id="sweep-file"
          type="file"
          accept="application/json,.json"
          onChange={(event) => void load(event)}
        />
      </form>
      <p role="status">{message}</p>
      {view === undefined ? null : <SweepResults view={view} />}
    </section>
  );
}

function SweepResults(props: { readonly view: SweepView }) {
  const { view } = props;
  const positions = view.runs.map((_, index) => index);
  const labels = positions.map((index) => runLabel(view, index));
  const rows = view.runs.map((run) => run.row);
  return (
    <div class="panel">
      <p class={view.invariantsHold ? 'pass' : 'fail'}>
        {view.invariantsHold
          ? 'Every run’s invariants held.'
          : 'Some run’s invariants failed: see the table.'}
      </p>
      <SweepTable view={view} labels={labels} />
      <Chart
        title="Fraud injected and detected, per run"
        bars
        xLabels={labels}
        data={[positions, rows.map((row) => row.fraudInjected), rows.map((row) => row.fraudDetected)]}
        series={[
          { label: 'injected', color: '#a35c00' },
          { label: 'detected', color: '#1e6b2c' },
        ]}
        summary={labels
          .map(
            (label, index) =>
              `${label}: ${rows[index]?.fraudDetected ?? 0} of ${rows[index]?.fraudInjected ?? 0} detected`,
          )
          .join('; ')}
      />
      <Chart
        title="Value at stake and value lost, per run (XTS)"
        bars
        xLabels={labels}
        data={[
          positions,
          rows.map((row) => chartUnits(row.valueAtStake)),
          rows.map((row) => chartUnits(row.valueLost)),
        ]}
        series={[
          { label: 'at stake', color: '#1f5fbf' },
          { label: 'lost', color: '#b3261e' },
        ]}
        summary={labels
          .map((label, index) => `${label}: ${formatAmount(rows[index]?.valueLost ?? 0n)} lost`)
          .join('; ')}
      />
    </div>
  );
}

function SweepTable(props: { readonly view: SweepView; readonly labels: readonly string[] }) {
  const headings = [
    'Payments',
    'Value paid',
    'Renewals a day',
    'Fraud injected',
    'Detected',
    'At stake',
    'Lost',
    'Honest payees hit',
    'False alerts',
    'Invariants',
  ];
  return (
    <table class="sweep">
      <caption>One row per run, the last swept option varying fastest</caption>
      <thead>
        <tr>
          {props.view.parameters.map((parameter) => (
            <th scope="col" key={parameter.name}>
              {parameter.name}
            </th>
          ))}
          {headings.map((heading) => (
            <th scope="col" key={heading}>
              {heading}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.view.runs.map((run, index) => (
          <tr key={props.labels[index]} data-run={index}>
            {props.view.parameters.map((parameter) => (
              <th scope="row" key={parameter.name}>
                {run.values[parameter.name]}
              </th>
            ))}
            <td>{run.row.payments}</td>
            <td>{formatAmount(run.row.paymentValue)}</td>
            <td>{run.row.renewalsPerDay}</td>
            <td>{run.row.fraudInjected}</td>
            <td>{run.row.fraudDetected}</td>
            <td>{formatAmount(run.row.valueAtStake)}</td>
            <td>{formatAmount(run.row.valueLost)}</td>
            <td>{run.row.honestPayeesHit}</td>
            <td>{run.row.falseAlerts}</td>
            <td class={run.row.invariantsHold ? 'pass' : 'fail'}>
              {run.row.invariantsHold ? 'pass' : 'FAIL'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
