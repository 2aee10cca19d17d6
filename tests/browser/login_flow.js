// login_flow.js - a real browser through the login flow of tests/integration/session_app.c.
//
//   node login_flow.js http://127.0.0.1:PORT
//
// Debian's headless Chromium, driven by playwright-core (no browser download),
// with a fresh profile: the protected page redirects to the login form with
// ?next=, a wrong password flashes an error, the right one lands on the page
// that was asked for, a reload keeps the session cookie, logging out (a form
// with its CSRF token) redirects to the login page and the protected page is
// closed again; remember-me survives the loss of the session cookie; an
// off-site ?next= is not followed. Exits 1 with the reason on the first failure.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const base = process.argv[2];
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
  console.log('ok   ' + what);
}

async function login(page, username, password, remember) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  if (remember) await page.check('#remember');
  await Promise.all([page.waitForNavigation(), page.click('#submit')]);
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vial-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true, args: FLAGS, timeout: 120000,
    });
    context.setDefaultTimeout(60000);
    const page = context.pages()[0] || await context.newPage();

    await page.goto(base + '/user');
    let url = new URL(page.url());
    check(url.pathname === '/login' && url.searchParams.get('next') === '/user',
      'the protected page redirects to the login form with next=/user (' + page.url() + ')');
    check((await page.textContent('#flashes')).includes('Please log in to access this page.'), 'the login message is flashed');

    await login(page, 'root', 'wrong', false);
    check(new URL(page.url()).pathname === '/login', 'a wrong password comes back to the form');
    check((await page.textContent('#flashes')).includes('Incorrect username or password.'), 'with the error flashed');

    await page.goto(base + '/user');
    await login(page, 'root', '123456', false);
    check(new URL(page.url()).pathname === '/user', 'the right password lands on the page asked for (' + page.url() + ')');
    check((await page.textContent('#who')).includes('root'), 'the protected page shows the user');
    let cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === 'session');
    check(session && session.httpOnly && session.expires === -1, 'the session cookie is HttpOnly and ends with the browser session');
    check(!cookies.find((c) => c.name === 'remember_token'), 'no remember cookie without remember-me');

    await page.reload();
    check(new URL(page.url()).pathname === '/user' && (await page.textContent('#who')).includes('root'),
      'a reload keeps the user logged in');

    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    check(new URL(page.url()).pathname === '/login', 'logging out redirects to the login page');
    await page.goto(base + '/user');
    check(new URL(page.url()).pathname === '/login', 'after logout the protected page redirects again');

    await login(page, 'root', '123456', true);
    cookies = await context.cookies(base);
    const remember = cookies.find((c) => c.name === 'remember_token');
    check(remember && remember.value.startsWith('root|') && remember.expires > Date.now() / 1000 + 300 * 86400,
      'remember-me sets a year-long remember_token');
    await context.clearCookies({ name: 'session' });
    await page.goto(base + '/user');
    check(new URL(page.url()).pathname === '/user' && (await page.textContent('#who')).includes('root'),
      'with the session cookie gone, the remember cookie logs the user back in');
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    cookies = await context.cookies(base);
    check(!cookies.find((c) => c.name === 'remember_token'), 'logging out deletes the remember cookie');

    await page.goto(base + '/login?next=' + encodeURIComponent('//evil.example/'));
    await login(page, 'root', '123456', false);
    check(new URL(page.url()).origin === new URL(base).origin && new URL(page.url()).pathname === '/user',
      'an off-site next is not followed (' + page.url() + ')');
  } finally {
    if (context) await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('FAIL ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
