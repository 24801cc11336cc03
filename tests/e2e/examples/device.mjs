// One "device" of the example-app tests: a browser context of its own (its own
// IndexedDB, its own network switch) showing a built example, driven as a user would
// (the inputs and buttons of examples/*-todo, found by their data-testid), and read
// as a user would (the text on the page).
import assert from 'node:assert/strict';

/** Polls `locator`'s text until it matches `pattern`. */
export async function waitForText(locator, pattern, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let text;
  for (;;) {
    text = await locator.first().textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null);
    if (text !== null && pattern.test(text.trim())) return text.trim();
    if (Date.now() > deadline) assert.fail(`expected ${locator} to match ${pattern}, it shows ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export class Device {
  /** Opens the app at `site.url` in a new browser context. */
  static async open(browser, site, label) {
    const context = await browser.newContext();
    const device = new Device(context, site, label);
    await device.goto();
    return device;
  }

  constructor(context, site, label, page) {
    this.context = context;
    this.site = site;
    this.label = label;
    this.page = page;
  }

  async goto() {
    this.page ??= await this.context.newPage();
    this.page.on('pageerror', (error) => console.error(`[${this.label} page error]`, error));
    this.page.on('console', (message) => {
      if (message.type() === 'error') console.error(`[${this.label} console]`, message.text());
    });
    await this.page.goto(this.site.url);
  }

  /** Another tab of this device (same context: same database and session). */
  async openTab() {
    const tab = new Device(this.context, this.site, `${this.label}'`);
    await tab.goto();
    await tab.page.getByTestId('network').waitFor();
    return tab;
  }

  async signUp({ email, password }) {
    await this.page.getByTestId('email').fill(email);
    await this.page.getByTestId('password').fill(password);
    await this.page.getByTestId('signup').click();
    await this.page.getByTestId('network').waitFor({ timeout: 30_000 });
  }

  async logIn({ email, password }) {
    await this.page.getByTestId('email').fill(email);
    await this.page.getByTestId('password').fill(password);
    await this.page.getByTestId('login').click();
    await this.page.getByTestId('network').waitFor({ timeout: 30_000 });
  }

  /** "Leader tab" or "Follower tab". */
  tabRole() {
    return this.page.getByTestId('tab-role').textContent();
  }

  async addProject(name) {
    await this.page.getByTestId('new-project').fill(name);
    await this.page.getByTestId('add-project').click();
    await this.page.getByTestId('project').getByText(name, { exact: true }).waitFor();
  }

  async showProject(name) {
    await this.page.getByTestId('project').getByText(name, { exact: true }).click();
  }

  async addTask(title) {
    const input = this.page.getByTestId('new-task');
    await input.fill(title);
    await this.page.getByTestId('add-task').click();
    await this.task(title).waitFor();
  }

  /** The row of the task titled `title`. */
  task(title) {
    return this.page.getByTestId('task').filter({ has: this.page.getByTestId('task-title').getByText(title, { exact: true }) });
  }

  async renameTask(from, to) {
    await this.task(from).getByTestId('task-edit').click();
    await this.page.getByTestId('task-edit-input').fill(to);
    await this.page.getByTestId('task-save').click();
    await this.task(to).waitFor();
  }

  async toggleTask(title) {
    const box = this.task(title).getByTestId('task-done');
    const was = await box.isChecked();
    await box.click();
    await this.expectDone(title, !was);
  }

  async expectDone(title, done, timeout = 15_000) {
    const deadline = Date.now() + timeout;
    while ((await this.task(title).getByTestId('task-done').isChecked()) !== done) {
      if (Date.now() > deadline) assert.fail(`[${this.label}] "${title}" should be ${done ? 'done' : 'not done'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async deleteTask(title) {
    await this.task(title).getByTestId('task-delete').click();
    await this.task(title).waitFor({ state: 'detached' });
  }

  /** Waits until the list shows exactly `titles`, in order. */
  async expectTasks(titles, timeout = 15_000) {
    const deadline = Date.now() + timeout;
    let shown;
    while (JSON.stringify((shown = await this.page.getByTestId('task-title').allTextContents())) !== JSON.stringify(titles)) {
      if (Date.now() > deadline) assert.deepEqual(shown, titles, `[${this.label}] the task list`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Clicks "Sync now" and waits until a round has completed after the click. */
  async syncNow(timeout = 20_000) {
    const lastSync = this.page.getByTestId('last-sync');
    const before = Number((await lastSync.getAttribute('data-at')) || 0);
    await this.page.getByTestId('sync-now').click({ timeout });
    const deadline = Date.now() + timeout;
    while (Number((await lastSync.getAttribute('data-at')) || 0) <= before) {
      if (Date.now() > deadline) {
        const error = await this.page.getByTestId('sync-error').textContent({ timeout: 100 }).catch(() => 'none');
        assert.fail(`[${this.label}] no sync round completed after "Sync now" (error shown: ${error})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Cuts this device's network (the sync server is out of reach). */
  async goOffline() {
    await this.context.setOffline(true);
  }

  async goOnline() {
    await this.context.setOffline(false);
  }

  /** Opens the app again in this tab, as a user does by entering its address (while
   * offline the page comes from the browser's cache). */
  async reload() {
    await this.page.goto(this.site.url);
    await this.page.getByTestId('network').waitFor({ timeout: 30_000 });
  }

  close() {
    return this.context.close();
  }
}
