// examples/pam/test/qr_check.js MESSAGES_FILE STYLE(unicode|ascii)
// Reads the conversation messages the PAM test driver recorded for one device-mode
// login, takes the QR drawing pam_soidc showed after the code, turns it back into a
// matrix of light/dark modules, and compares it with what qrencode(1) draws for the
// verification_uri_complete shown in the code message (qrencode -t ASCIIi: light
// modules "##"). Prints one line saying what it found; exits 0 when they match and the
// code message came before the QR code.
'use strict';
const { readFileSync } = require('fs');
const { execFileSync } = require('child_process');

const [file, style] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n');
const fail = (why) => { console.log(why); process.exit(1); };

const codeAt = lines.findIndex((l) => l.startsWith('TEXT_INFO: To sign in, open '));
const qrAt = lines.findIndex((l) => l === 'TEXT_INFO: Or scan this QR code with your phone:');
if (codeAt < 0) fail('no code message');
if (qrAt < 0) fail('no QR code message');
if (qrAt < codeAt) fail('the QR code came before the code');
const m = /\(or open (\S+)\)/.exec(lines[codeAt + 1] || '') || /\(or open (\S+)\)/.exec(lines[codeAt]);
if (!m) fail('no verification_uri_complete in the code message');
const uri = m[1];

// The drawing: the lines after the heading (each further message starts "TEXT_INFO: ").
const drawing = [];
for (const raw of lines.slice(qrAt + 1)) {
  const l = raw.startsWith('TEXT_INFO: ') ? raw.slice('TEXT_INFO: '.length) : raw;
  if (l === '' || /^[A-Z_]+: /.test(raw) && !raw.startsWith('TEXT_INFO: ')) break;
  drawing.push(l);
}
let rows = [];
if (style === 'ascii') {
  for (const l of drawing) {
    if (l.length % 2) fail(`an ASCII line of odd length ${l.length}`);
    let row = '';
    for (let i = 0; i < l.length; i += 2) {
      const pair = l.slice(i, i + 2);
      if (pair !== '##' && pair !== '  ') fail(`unexpected characters ${JSON.stringify(pair)}`);
      row += pair === '##' ? 'L' : 'D';
    }
    rows.push(row);
  }
} else {
  const map = { '\u2588': ['L', 'L'], '\u2580': ['L', 'D'], '\u2584': ['D', 'L'], ' ': ['D', 'D'] };
  for (const l of drawing) {
    let top = '', bottom = '';
    for (const ch of l) {
      if (!map[ch]) fail(`unexpected character U+${ch.codePointAt(0).toString(16)}`);
      top += map[ch][0];
      bottom += map[ch][1];
    }
    rows.push(top, bottom);
  }
}
const expected = execFileSync('qrencode', ['-t', 'ASCIIi', '-m', '2', '-l', 'L', uri], { encoding: 'utf8' })
  .split('\n').filter((l) => l !== '')
  .map((l) => l.replace(/##/g, 'L').replace(/ {2}/g, 'D'));
// An odd number of module rows leaves the half-block drawing one dark (undrawn) row more.
if (rows.length === expected.length + 1 && /^D*$/.test(rows[rows.length - 1])) rows = rows.slice(0, -1);
if (rows.length !== expected.length) fail(`${rows.length} module rows, qrencode draws ${expected.length}`);
for (let i = 0; i < rows.length; i++) {
  if (rows[i] !== expected[i]) fail(`module row ${i} differs from qrencode's`);
}
console.log(`${style} QR code of ${uri.length}-byte verification_uri_complete after the code, ${expected.length}x${expected[0].length} modules, equal to qrencode's`);
