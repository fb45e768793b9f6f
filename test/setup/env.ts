// Runs in each test worker before the test file: the environment comes from globalSetup.
if (!process.env.TEST_DATABASE) throw new Error('globalSetup did not run: start tests with `npm test`');
