// Prints `tests: N passed, M failed` from vitest's JSON report and exits non-zero on any failure,
// including a run that never reached vitest (a type error) or that ran no test at all.
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText);

if (!existsSync(reportPath)) {
  console.log('tests: 0 passed, 1 failed');
  console.error(`no vitest report at ${reportPath}: the test command failed before the tests ran (exit ${status})`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8'));
const passed = report.numPassedTests;
// Files that failed to load count as failures too: their tests never ran. (numFailedTestSuites
// counts describe blocks, so a failed test inside nested describes would be counted again.)
const failed = report.numFailedTests + countFilesFailedWithoutFailedTests(report);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || status !== 0 || passed === 0 ? 1 : 0);

function countFilesFailedWithoutFailedTests(r) {
  return r.testResults.filter((file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed')).length;
}
