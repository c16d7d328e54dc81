// Screenshots of the pages a newcomer sees first, taken in headless Chromium with playwright-core.
// Usage (see docs/development.md): node bin/screenshots.js http://127.0.0.1:8000 USERNAME PASSWORD OUTDIR
const path = require("path");
const { chromium } = require("playwright-core");

(async () => {
  const [base, username, password, outdir] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(outdir, `${name}.png`) });

  await page.goto(`${base}/docs`);
  await page.waitForSelector(".btn.authorize");
  await shot("docs");
  await page.click(".btn.authorize");
  await shot("docs-authorize");
  await page.fill('input[data-name="username"]', username);
  await page.fill('input[data-name="password"]', password);
  await page.click(".auth-container .auth-btn-wrapper .authorize");
  await page.waitForTimeout(1000);
  await shot("docs-authorized");

  await page.goto(`${base}/redoc`);
  await page.waitForTimeout(1500);
  await shot("redoc");

  await page.goto(`${base}/experiments/`);
  await shot("browsable-logged-out");
  await page.goto(`${base}/api-auth/login/?next=/experiments/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", password);
  await page.click("[type=submit]");
  await page.waitForTimeout(500);
  await shot("browsable-experiments");

  await page.goto(`${base}/admin`);
  await shot("admin-login");
  await browser.close();
})();
