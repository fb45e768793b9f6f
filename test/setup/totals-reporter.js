/**
 * Prints jest's totals as one plain line, `N passed, N failed`, so a run that executed no test is visible, and
 * writes the same line to JEST_TOTALS_FILE when set (.ci/run prints it last).
 */
const fs = require('node:fs');

class TotalsReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`\n${line}\n`);
    if (process.env.JEST_TOTALS_FILE) fs.writeFileSync(process.env.JEST_TOTALS_FILE, `${line}\n`);
  }
}

module.exports = TotalsReporter;
