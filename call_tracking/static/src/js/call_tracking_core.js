// @odoo-module ignore
// Call tracking number swap, dependency-free, for the Odoo website (the
// callTracking publicWidget) and other sites: README.rst, "Website snippet".
(function (root) {
  "use strict";

  if (root.CallTracking) {
    return;
  }

  const STORAGE_KEY = "call_tracking_visitor";
  const CLICK_EVENT = "call_tracking_number_click";
  const ROUTE_EVENT = "call_tracking:route";
  const ACTIVITY = ["mousemove", "keydown", "scroll", "touchstart", "click"];
  const HIDE_CLASS = "o_call_tracking_hide";
  const SLICE = 3; // ms
  const MARK_SELECTOR = "[data-call-tracking], .o_call_tracking_number";
  const SKIP_SELECTOR =
    "script, style, noscript, template, textarea, input, select, code, pre, " +
    "[contenteditable=''], [contenteditable='true'], [data-call-tracking-ignore], " +
    ".o_call_tracking_ignore";
  const ATTRS = ["data-phone", "content", "title", "aria-label"];
  const ATTR_SELECTOR =
    "[data-phone], [itemprop=telephone][content], [title], [aria-label]";
  // a number may be split over these
  const INLINE = new Set(
    "A ABBR B BDI BDO BIG CITE DATA DFN EM FONT I INS KBD LABEL MARK Q S SAMP SMALL SPAN STRONG SUB SUP TIME U VAR".split(
      " "
    )
  );
  const MARKETING_RE = /[?&](utm_\w+|gclid|gbraid|wbraid|fbclid|yclid|msclkid)=/;
  const DEFAULTS = {
    timeout: 5000,
    pingInterval: 60000,
    activityWindow: 60000,
    minDigits: 7,
    maxSwaps: 30, // per element in 10 s (swap loops)
  };
  // E.164 country codes of one and two digits; all others have three
  const CC_1 = ["1", "7"];
  const CC_2 = (
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"
  ).split(" ");
  // trunk prefixes before a national number
  const TRUNK_PREFIXES = ["", "0", "8", "1", "06"];
  // phone-like text
  const PHONE_RE =
    /(?:\+\s?)?(?:\(\s?\d+\s?\)|\d)(?:[\s\u00a0.\-/]{0,2}(?:\(\s?\d+\s?\)|\d))*/g;
  const LINK_RES = [
    /^(\s*(?:tel|sms|callto):(?:\/\/)?)([^?;,#]*)(.*)$/i,
    /^(\s*viber:\/\/(?:chat|add)\/?\?(?:[^#]*&)?number=)([^&#]*)(.*)$/i,
    /^(\s*https?:\/\/wa\.me\/)([^/?#]*)(.*)$/i,
    /^(\s*(?:https?:\/\/api\.whatsapp\.com\/send|whatsapp:\/\/send)\/?\?(?:[^#]*&)?phone=)([^&#]*)(.*)$/i,
  ];

  function digitsOf(text) {
    return String(text || "").replace(/\D/g, "");
  }

  function splitE164(e164) {
    const digits = digitsOf(e164);
    if (!/^\s*\+/.test(String(e164 || "")) || digits.length < 8 || digits.length > 15) {
      return null;
    }
    let ccLength = 3;
    if (CC_1.includes(digits[0])) {
      ccLength = 1;
    } else if (CC_2.includes(digits.slice(0, 2))) {
      ccLength = 2;
    }
    return {cc: digits.slice(0, ccLength), nsn: digits.slice(ccLength)};
  }

  // Does `text` write the number `parts`? {international, prefix} or null
  function matchNumber(text, parts) {
    if (!parts) {
      return null;
    }
    const digits = digitsOf(text);
    if (!digits.endsWith(parts.nsn)) {
      return null;
    }
    const prefix = digits.slice(0, digits.length - parts.nsn.length);
    if (/^\s*\+/.test(text)) {
      return prefix === parts.cc ? {international: true, prefix} : null;
    }
    if (
      prefix === parts.cc ||
      prefix === "00" + parts.cc ||
      prefix === "011" + parts.cc
    ) {
      return {international: true, prefix};
    }
    return TRUNK_PREFIXES.includes(prefix) ? {international: false, prefix} : null;
  }

  function matchAny(text, list) {
    for (const parts of [].concat(list)) {
      const match = matchNumber(text, parts);
      if (match) {
        return {match, parts};
      }
    }
    return null;
  }

  // "+380 44 123 4567" -> "44 123 4567"
  function displayRest(answer) {
    const parts = splitE164(answer.number);
    const display = String(answer.display || "").trim();
    if (!parts) {
      return display;
    }
    const skip = digitsOf(display).length - parts.nsn.length;
    if (!display || digitsOf(display).slice(skip) !== parts.nsn || skip < 0) {
      return parts.nsn;
    }
    let seen = 0;
    let i = 0;
    while (seen < skip && i < display.length) {
      if (/\d/.test(display[i])) {
        seen++;
      }
      i++;
    }
    return display.slice(i).replace(/^[\s\u00a0.\-)/+]+/, "");
  }

  function internationalDisplay(answer) {
    const parts = splitE164(answer.number);
    return parts ? `+${parts.cc} ${displayRest(answer)}` : String(answer.display || "");
  }

  function nationalDisplay(answer, prefix) {
    return (prefix || "") + displayRest(answer);
  }

  // The tracking number written like `original`, a company number
  function formatLike(original, match, companyParts, answer) {
    const parts = splitE164(answer.number);
    if (!parts) {
      return original;
    }
    if (parts.cc !== companyParts.cc) {
      return internationalDisplay(answer);
    }
    const newDigits = match.prefix + parts.nsn;
    if (newDigits.length === digitsOf(original).length) {
      let i = 0;
      return original.replace(/\d/g, () => newDigits[i++]);
    }
    if (match.international) {
      const international = internationalDisplay(answer);
      return /^\s*\+/.test(original)
        ? international
        : international.replace(/^\+/, match.prefix.slice(0, -parts.cc.length));
    }
    return nationalDisplay(answer, match.prefix);
  }

  function replaceInText(text, companyParts, answer, minDigits) {
    let changed = false;
    const result = text.replace(PHONE_RE, (found) => {
      if (digitsOf(found).length < (minDigits || DEFAULTS.minDigits)) {
        return found;
      }
      const hit = matchAny(found, companyParts);
      if (!hit) {
        return found;
      }
      changed = true;
      return formatLike(found, hit.match, hit.parts, answer);
    });
    return changed ? result : null;
  }

  // {before, raw, number, after} of a phone or messenger link
  function parseLink(href) {
    for (const re of LINK_RES) {
      const m = re.exec(href || "");
      if (m) {
        let number = m[2];
        try {
          number = decodeURIComponent(number);
        } catch {}
        return {before: m[1], raw: m[2], number, after: m[3]};
      }
    }
    return null;
  }

  // the link with the answer's number, written as the link did
  function linkHref(link, match, answer) {
    if (/^\s*tel:/i.test(link.before)) {
      return answer.href + link.after;
    }
    const digits = digitsOf(answer.number);
    let number = "+" + digits;
    if (/^%2B/i.test(link.raw)) {
      number = "%2B" + digits;
    } else if (!/^\s*\+/.test(link.raw) && match.international) {
      number = digits;
    }
    return link.before + number + link.after;
  }

  // Lay `digits` over `count` digits of `data` from digit `from`; the last takes the rest
  function layDigits(data, from, count, digits) {
    let k = -1;
    return data.replace(/\d/g, (d) => {
      k++;
      if (k < from || k >= from + count) {
        return d;
      }
      const i = k - from;
      return i === count - 1 ? digits.slice(i) : digits[i] || "";
    });
  }

  function cookieOf(cookieString, name) {
    const m = new RegExp("(?:^|;\\s*)" + name + "=([^;]*)").exec(cookieString || "");
    return m ? m[1] : "";
  }

  function gaClientId(cookieString) {
    const fields = cookieOf(cookieString, "_ga").split(".");
    return fields.length >= 4 ? fields.slice(-2).join(".") : "";
  }

  function visitIds(c) {
    const s = /GS\d\.\d\.s?(\d+)/.exec(cookieOf(c, "_ga_\\w+")) || [];
    return {
      ga_session_id: s[1] || "",
      ym_uid: cookieOf(c, "_ym_uid"),
      fbp: cookieOf(c, "_fbp"),
      fbc: cookieOf(c, "_fbc"),
    };
  }

  function isValidAnswer(answer) {
    return Boolean(
      answer &&
      typeof answer === "object" &&
      typeof answer.number === "string" &&
      splitE164(answer.number) &&
      typeof answer.display === "string" &&
      typeof answer.href === "string" &&
      /^tel:/i.test(answer.href) &&
      typeof answer.visitor === "string"
    );
  }

  function domReady() {
    if (document.readyState !== "loading") {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      document.addEventListener("DOMContentLoaded", () => resolve(), {once: true});
    });
  }

  function blockOf(node) {
    let el = node.nodeType === 1 ? node : node.parentElement;
    while (el && INLINE.has(el.tagName) && el.parentElement) {
      el = el.parentElement;
    }
    return el;
  }

  // the text nodes of rootNode, block by block
  function* blocksOf(rootNode) {
    const walker = document.createTreeWalker(rootNode, NodeFilter.SHOW_TEXT);
    let node = rootNode.nodeType === 3 ? rootNode : walker.nextNode();
    let run = [];
    let block = null;
    while (node) {
      const nodeBlock = blockOf(node);
      if (nodeBlock !== block && run.length) {
        yield run;
        run = [];
      }
      block = nodeBlock;
      run.push(node);
      node = walker.nextNode();
    }
    if (run.length) {
      yield run;
    }
  }

  // single-page sites: pushState/replaceState announce route changes
  let historyHooked = false;
  function hookHistory() {
    const history = root.history;
    if (historyHooked || !history) {
      return;
    }
    historyHooked = true;
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      if (typeof original === "function") {
        history[name] = function () {
          const result = original.apply(this, arguments);
          root.dispatchEvent(new Event(ROUTE_EVENT));
          return result;
        };
      }
    }
  }

  function readCookie() {
    return decodeURIComponent(cookieOf(document.cookie, STORAGE_KEY));
  }

  function readStorage() {
    try {
      return root.localStorage.getItem(STORAGE_KEY) || "";
    } catch {
      return "";
    }
  }

  // Odoo website (serverCookie): its cookie first; elsewhere localStorage first
  function readKey(serverCookie) {
    return serverCookie ? readCookie() || readStorage() : readStorage() || readCookie();
  }

  function writeKey(value, serverCookie) {
    if (!value) {
      return;
    }
    let stored = false;
    try {
      if (root.localStorage.getItem(STORAGE_KEY) !== value) {
        root.localStorage.setItem(STORAGE_KEY, value);
      }
      stored = root.localStorage.getItem(STORAGE_KEY) === value;
    } catch {
      stored = false;
    }
    if (!stored && !serverCookie && readCookie() !== value) {
      const secure = root.location.protocol === "https:" ? "; Secure" : "";
      document.cookie =
        STORAGE_KEY +
        "=" +
        encodeURIComponent(value) +
        "; path=/; max-age=31536000; SameSite=Lax" +
        secure;
    }
  }

  class Tracker {
    constructor(options) {
      this.options = Object.assign({}, DEFAULTS, options);
      this.endpoint = this.options.endpoint;
      this.companies = [];
      const numbers = [this.options.number].concat(
        typeof this.options.numbers === "string"
          ? this.options.numbers.split(/[\s,;]+/)
          : this.options.numbers || []
      );
      for (const number of numbers) {
        const parts = splitE164(number);
        if (
          parts &&
          !this.companies.some((p) => p.cc + p.nsn === parts.cc + parts.nsn)
        ) {
          this.companies.push(parts);
        }
      }
      this.companyParts = this.companies[0] || null;
      this.answer = null;
      this.changes = []; // [{node, attr, value}] to restore
      this.swaps = new WeakMap(); // element -> [changes, since]
      this.queue = []; // block iterators
      this.waiting = [];
      this.requests = 0;
      this.expiresAt = 0;
      this.lastActivity = Date.now();
      this.lastPing = 0;
      this.timer = null;
      this.observer = null;
      this.stopped = false;
      this._onActivity = this._onActivity.bind(this);
      this._onVisibility = this._onVisibility.bind(this);
      this._onClick = this._onClick.bind(this);
      this._onRoute = this._onRoute.bind(this);
      this.ready = Promise.resolve(null);
    }

    start() {
      if (!this.endpoint || !this.companyParts) {
        showPage();
        return this;
      }
      const answered = this.request();
      this.ready = Promise.all([answered, domReady()])
        .then(([answer]) => {
          if (answer && !this.stopped) {
            this.apply(answer);
            this._listen();
          }
          return this.idle().then(() => (this.stopped ? null : answer));
        })
        .finally(showPage);
      return this;
    }

    stop() {
      this.stopped = true;
      clearInterval(this.timer);
      this.timer = null;
      if (this.observer) {
        this.observer.disconnect();
        this.observer = null;
      }
      for (const name of ACTIVITY) {
        root.removeEventListener(name, this._onActivity, true);
      }
      root.removeEventListener(ROUTE_EVENT, this._onRoute);
      root.removeEventListener("popstate", this._onRoute);
      document.removeEventListener("visibilitychange", this._onVisibility);
      document.removeEventListener("click", this._onClick, true);
      this.restore();
    }

    async request() {
      const serverCookie = Boolean(this.options.serverCookie);
      const payload = {
        url: root.location.href,
        referrer: document.referrer || "",
        ga_client_id: gaClientId(document.cookie),
        ...visitIds(document.cookie),
      };
      const visitor = readKey(serverCookie);
      if (visitor) {
        payload.visitor = visitor;
      }
      const websiteId = parseInt(this.options.websiteId, 10);
      if (websiteId > 0) {
        payload.website_id = websiteId;
      }
      this.search = root.location.search;
      const controller =
        typeof AbortController === "function" ? new AbortController() : null;
      const timeout = setTimeout(
        () => controller && controller.abort(),
        this.options.timeout
      );
      this.lastPing = Date.now();
      this.requests++;
      try {
        const response = await root.fetch(this.endpoint, {
          method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify(payload),
          // cookies only on the Odoo website itself
          credentials: "same-origin",
          signal: controller ? controller.signal : undefined,
        });
        if (!response.ok) {
          return null;
        }
        const answer = await response.json();
        if (!isValidAnswer(answer)) {
          return null;
        }
        writeKey(answer.visitor, serverCookie);
        const hold = Number(answer.expires_in) || 0;
        this.expiresAt = hold > 0 ? Date.now() + hold * 1000 : 0;
        return answer;
      } catch {
        // keep the page
        return null;
      } finally {
        clearTimeout(timeout);
      }
    }

    apply(answer) {
      if (this.answer && this.answer.number === answer.number) {
        this.answer = answer;
        return;
      }
      this.restore();
      this.answer = answer;
      this._process(document.body, true);
    }

    idle() {
      return new Promise((resolve) =>
        this.queue.length ? this.waiting.push(resolve) : resolve()
      );
    }

    // swap the queued blocks in slices: no long task
    _drain() {
      clearTimeout(this.drainTimer);
      const t0 = performance.now();
      while (this.queue.length) {
        const next = this.queue[0].next();
        if (next.done) {
          this.queue.shift();
        } else {
          this._swapRun(next.value);
        }
        if (performance.now() - t0 > SLICE) {
          this.drainTimer = setTimeout(() => this._drain(), 0);
          break;
        }
      }
      if (this.observer) {
        this.observer.takeRecords();
      }
      if (!this.queue.length) {
        this.waiting.splice(0).forEach((resolve) => resolve());
      }
    }

    restore() {
      for (const change of this.changes.reverse()) {
        if (change.value === null) {
          change.node.removeAttribute(change.attr);
        } else if (change.attr) {
          change.node.setAttribute(change.attr, change.value);
        } else {
          change.node.data = change.value;
        }
      }
      clearTimeout(this.drainTimer);
      this.queue = [];
      this.waiting.splice(0).forEach((resolve) => resolve());
      this.changes = [];
      this.answer = null;
      if (this.observer) {
        this.observer.takeRecords();
      }
    }

    _isCompanyAnswer() {
      const digits = digitsOf(this.answer.number);
      return this.companies.some((p) => p.cc + p.nsn === digits);
    }

    // later: swap the text in a next task (the whole page)
    _process(rootNode, later) {
      if (!rootNode || !this.answer || this._isCompanyAnswer()) {
        return;
      }
      const start = rootNode.nodeType === 1 ? rootNode : rootNode.parentElement;
      if (!start || start.closest(SKIP_SELECTOR)) {
        return;
      }
      const answer = this.answer;
      const companies = this.companies;
      const minDigits = this.options.minDigits;
      const all = (selector) => {
        const found =
          rootNode.nodeType === 1 && rootNode.matches(selector) ? [rootNode] : [];
        return rootNode.querySelectorAll
          ? found.concat(Array.from(rootNode.querySelectorAll(selector)))
          : found;
      };
      for (const el of all("a[href]")) {
        const link = parseLink(el.getAttribute("href"));
        const hit =
          link && !el.closest(SKIP_SELECTOR) && matchAny(link.number, companies);
        if (hit) {
          this._set(el, "href", linkHref(link, hit.match, answer));
          this._set(el, "data-call-tracking-number", answer.number);
        }
      }
      for (const el of all(ATTR_SELECTOR)) {
        if (el.closest(SKIP_SELECTOR)) {
          continue;
        }
        for (const attr of ATTRS) {
          const value = el.getAttribute(attr);
          if (
            value &&
            /\d/.test(value) &&
            (attr !== "content" || el.getAttribute("itemprop") === "telephone")
          ) {
            const replaced = replaceInText(value, companies, answer, minDigits);
            if (replaced !== null) {
              this._set(el, attr, replaced);
            }
          }
        }
      }
      // text, block by block, when it holds a company number at all
      const digits = digitsOf(rootNode.textContent);
      if (companies.some((p) => digits.includes(p.nsn))) {
        this.queue.push(blocksOf(rootNode));
        if (later) {
          this.drainTimer = setTimeout(() => this._drain(), 0);
        } else {
          this._drain();
        }
      }
      // marked elements without a number: fill them
      for (const el of all(MARK_SELECTOR)) {
        if (el.tagName === "A" && !parseLink(el.getAttribute("href"))) {
          this._set(el, "href", answer.href);
        }
        const text = el.textContent;
        if (
          el.children.length ||
          digitsOf(text) === digitsOf(answer.number) ||
          replaceInText(
            text,
            [splitE164(answer.number)].concat(companies),
            answer,
            minDigits
          ) !== null
        ) {
          continue;
        }
        const format = (el.getAttribute("data-call-tracking") || "").toLowerCase();
        let display = answer.display;
        if (format === "international") {
          display = internationalDisplay(answer);
        } else if (format === "national" && /^\s*\+/.test(answer.display)) {
          display = nationalDisplay(answer, "0");
        }
        if (el.firstChild && el.firstChild.nodeType === Node.TEXT_NODE) {
          this._set(el.firstChild, null, display);
        } else {
          const node = document.createTextNode("");
          el.appendChild(node);
          this.changes.push({node, attr: null, value: ""});
          node.data = display;
        }
        this._set(el, "data-call-tracking-number", answer.number);
      }
    }

    // a block's text nodes: whole numbers, then split ones
    _swapRun(nodes) {
      let digits = "";
      for (const node of nodes) {
        if (/\d/.test(node.data)) {
          digits += digitsOf(node.data);
        }
      }
      if (!this.companies.some((p) => digits.includes(p.nsn))) {
        return;
      }
      const run = nodes.filter(
        (node) => node.parentElement && !node.parentElement.closest(SKIP_SELECTOR)
      );
      let withDigits = 0;
      for (const node of run) {
        if (/\d/.test(node.data)) {
          withDigits++;
          const replaced = replaceInText(
            node.data,
            this.companies,
            this.answer,
            this.options.minDigits
          );
          if (replaced !== null) {
            this._set(node, null, replaced);
          }
        }
      }
      if (withDigits < 2) {
        return;
      }
      let text = "";
      const owner = [];
      run.forEach((node, n) => {
        text += node.data.replace(/\s+/g, " ");
        const count = digitsOf(node.data).length;
        for (let k = 0; k < count; k++) {
          owner.push([n, k]);
        }
      });
      const edits = [];
      let seen = 0;
      let last = 0;
      for (const m of text.matchAll(PHONE_RE)) {
        seen += digitsOf(text.slice(last, m.index)).length;
        last = m.index + m[0].length;
        const count = digitsOf(m[0]).length;
        const first = seen;
        seen += count;
        if (
          count < this.options.minDigits ||
          owner[first][0] === owner[first + count - 1][0]
        ) {
          continue; // short, or in one node
        }
        const hit = matchAny(m[0], this.companies);
        if (hit) {
          edits.push([
            first,
            count,
            digitsOf(formatLike(m[0], hit.match, hit.parts, this.answer)),
          ]);
        }
      }
      // from the last: digit indexes stay valid
      for (const [first, count, digits] of edits.reverse()) {
        const pieces = [];
        for (let k = first; k < first + count; k++) {
          const [n, i] = owner[k];
          const piece = pieces[pieces.length - 1];
          if (piece && piece[0] === n) {
            piece[2]++;
          } else {
            pieces.push([n, i, 1]);
          }
        }
        let pos = 0;
        pieces.forEach(([n, from, size], p) => {
          const take =
            p === pieces.length - 1 ? digits.slice(pos) : digits.slice(pos, pos + size);
          pos += take.length;
          this._set(run[n], null, layDigits(run[n].data, from, size, take));
        });
      }
    }

    _set(node, attr, value) {
      const old = attr ? node.getAttribute(attr) : node.data;
      const key = attr ? node : node.parentNode || node;
      const now = Date.now();
      let swaps = this.swaps.get(key);
      if (!swaps || now - swaps[1] > 10000) {
        swaps = [0, now];
        this.swaps.set(key, swaps);
      }
      if (old === value || swaps[0] >= this.options.maxSwaps) {
        return;
      }
      swaps[0]++;
      this.changes.push({node, attr, value: old});
      if (attr) {
        node.setAttribute(attr, value);
      } else {
        node.data = value;
      }
    }

    _listen() {
      for (const name of ACTIVITY) {
        root.addEventListener(name, this._onActivity, {capture: true, passive: true});
      }
      hookHistory();
      root.addEventListener(ROUTE_EVENT, this._onRoute);
      root.addEventListener("popstate", this._onRoute);
      document.addEventListener("visibilitychange", this._onVisibility);
      document.addEventListener("click", this._onClick, true);
      this.timer = setInterval(
        () => this._maybePing(),
        Math.min(this.options.pingInterval, 15000)
      );
      if (typeof MutationObserver === "function") {
        this.observer = new MutationObserver((records) => this._onMutations(records));
        this.observer.observe(document.body, {
          childList: true,
          subtree: true,
          characterData: true,
          attributes: true,
          attributeFilter: ["href"].concat(ATTRS),
        });
      }
    }

    // late or re-rendered content
    _onMutations(records) {
      const roots = new Set();
      for (const record of records) {
        if (record.type === "attributes") {
          roots.add(record.target);
        } else if (record.type === "characterData" || record.addedNodes.length) {
          roots.add(blockOf(record.target));
        }
      }
      const list = [...roots].filter((node) => node && node.isConnected);
      const targets = list.length > 50 ? [document.body] : list;
      for (const node of targets) {
        if (!targets.some((other) => other !== node && other.contains(node))) {
          this._process(node);
        }
      }
      // skip our own changes
      if (this.observer) {
        this.observer.takeRecords();
      }
    }

    // SPA route change: ask again only when the lease lapsed or new UTMs came
    _onRoute() {
      this.lastActivity = Date.now();
      const search = root.location.search;
      if (
        (this.expiresAt && Date.now() >= this.expiresAt) ||
        (search !== this.search && MARKETING_RE.test(search))
      ) {
        this.ping();
      }
    }

    _onActivity() {
      this.lastActivity = Date.now();
    }

    _onVisibility() {
      if (document.visibilityState === "visible") {
        this.lastActivity = Date.now();
        this._maybePing();
      }
    }

    _maybePing() {
      const now = Date.now();
      if (
        this.stopped ||
        document.visibilityState === "hidden" ||
        now - this.lastActivity > this.options.activityWindow ||
        now - this.lastPing < this.options.pingInterval
      ) {
        return;
      }
      this.ping();
    }

    ping() {
      return this.request().then((answer) => {
        if (answer && !this.stopped) {
          this.apply(answer);
        }
        return answer;
      });
    }

    _onClick(ev) {
      if (!this.answer || !ev.target || !ev.target.closest) {
        return;
      }
      const el = ev.target.closest(
        "a[href], " + MARK_SELECTOR + ", [data-call-tracking-number]"
      );
      if (!el) {
        return;
      }
      const link = el.tagName === "A" ? parseLink(el.getAttribute("href")) : null;
      const tracked =
        el.dataset.callTrackingNumber === this.answer.number ||
        (link !== null && digitsOf(link.number) === digitsOf(this.answer.number));
      if (!tracked) {
        return;
      }
      root.dataLayer = root.dataLayer || [];
      root.dataLayer.push({
        event: CLICK_EVENT,
        call_tracking_number: this.answer.number,
        call_tracking_mode: this.answer.mode,
        call_tracking_channel: this.answer.channel || "",
      });
    }
  }

  function showPage() {
    document.documentElement.classList.remove(HIDE_CLASS);
  }

  let current = null;

  function init(options) {
    if (current) {
      current.stop();
    }
    current = new Tracker(options || {});
    return current.start();
  }

  function stop() {
    if (current) {
      current.stop();
      current = null;
    }
  }

  root.CallTracking = {
    init,
    stop,
    get current() {
      return current;
    },
    utils: {
      splitE164,
      matchNumber,
      formatLike,
      replaceInText,
      parseLink,
      linkHref,
      layDigits,
      gaClientId,
      visitIds,
      isValidAnswer,
    },
  };

  const script = document.currentScript;
  if (script && script.dataset && script.dataset.number) {
    let endpoint = script.dataset.endpoint;
    if (!endpoint && script.src) {
      endpoint = new URL("/call_tracking/number", script.src).href;
    }
    init({
      endpoint,
      number: script.dataset.number,
      numbers: script.dataset.numbers,
      websiteId: script.dataset.websiteId,
    });
  }
})(window);
