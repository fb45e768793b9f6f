// `npm start` on a fresh clone: use the documented local defaults when the operator has not written a .env yet.
const fs = require('node:fs');
if (!fs.existsSync('.env')) {
  fs.copyFileSync('.env.example', '.env');
  console.log('No .env found: copied .env.example (local defaults). Edit .env to change them.');
}
