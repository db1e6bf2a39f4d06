// @odoo-module ignore
/**
 * Call tracking number substitution, dependency-free.
 *
 * The same file runs inside Odoo's frontend bundle (started by the
 * `callTracking` publicWidget) and on any other website, loaded with:
 *
 *   <script async src="https://odoo.example.com/call_tracking/static/src/js/call_tracking_core.js"
 *           data-number="+380441234567" data-website-id="1"></script>
 *
 * It asks POST /call_tracking/number for this visitor's number and replaces
 * the company number on the page (marked elements, tel: links and text in
 * common formats), keeping each occurrence's own format. Whatever fails, the
 * page keeps the company number.
 */
(function (root) {
    "use strict";

    if (root.CallTracking) {
        // Loaded twice (e.g. the Odoo bundle and an embed snippet): keep the first.
        return;
    }

    const STORAGE_KEY = "call_tracking_visitor";
    const CLICK_EVENT = "call_tracking_number_click";
    const MARK_SELECTOR = "[data-call-tracking], .o_call_tracking_number";
    const SKIP_SELECTOR =
        "script, style, noscript, template, textarea, input, select, code, pre, " +
        "[contenteditable=''], [contenteditable='true'], [data-call-tracking-ignore], " +
        ".o_call_tracking_ignore";
    const DEFAULTS = {
        timeout: 5000, // ms, per request
        pingInterval: 60000, // ms between pings while the page is visible and active
        activityWindow: 60000, // ms: "recently active"
        minDigits: 7,
    };
    // Country calling codes of one and two digits; all others have three.
    // (ITU-T E.164 assignments, as in libphonenumber's metadata.)
    const CC_1 = ["1", "7"];
    const CC_2 = (
        "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
        "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"
    ).split(" ");
    // Digits a national format may put before the national significant number
    // (trunk prefixes: 0 almost everywhere, 8 in the former USSR, 1 in NANP, 06 in
    // Hungary...).
    const TRUNK_PREFIXES = ["", "0", "8", "1", "06"];
    // A phone-like run of text: optional +, then digits and (groups) joined by at
    // most two separators each.
    const PHONE_RE =
        /(?:\+\s?)?(?:\(\s?\d+\s?\)|\d)(?:[\s\u00a0.\-/]{0,2}(?:\(\s?\d+\s?\)|\d))*/g;

    // ------------------------------------------------------------------
    // Pure helpers (exposed as CallTracking.utils for tests)
    // ------------------------------------------------------------------

    function digitsOf(text) {
        return String(text || "").replace(/\D/g, "");
    }

    /**
     * Split an E.164 number into country code and national significant number.
     * @returns {{cc: string, nsn: string}|null}
     */
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

    /**
     * Does `text` (one phone-like run) write the number `parts`?
     * @returns {{international: boolean, prefix: string}|null} prefix: the digits
     *      written before the national significant number.
     */
    function matchNumber(text, parts) {
        if (!parts) {
            return null;
        }
        const digits = digitsOf(text);
        if (!digits.endsWith(parts.nsn)) {
            return null;
        }
        const prefix = digits.slice(0, digits.length - parts.nsn.length);
        const plus = /^\s*\+/.test(text);
        if (plus) {
            return prefix === parts.cc ? {international: true, prefix} : null;
        }
        if (prefix === parts.cc || prefix === "00" + parts.cc || prefix === "011" + parts.cc) {
            return {international: true, prefix};
        }
        if (TRUNK_PREFIXES.includes(prefix)) {
            return {international: false, prefix};
        }
        return null;
    }

    /**
     * The answer's display without its country code or trunk prefix:
     * "+380 44 123 4567" and "044 123 4567" both give "44 123 4567". The
     * endpoint writes numbers in the company's national or international
     * format; either works.
     */
    function displayRest(answer) {
        const parts = splitE164(answer.number);
        const display = String(answer.display || "").trim();
        if (!parts) {
            return display;
        }
        const skip = digitsOf(display).length - parts.nsn.length; // digits before the NSN
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
        // drop the separators after the prefix, but keep an opening "(" of the NSN
        return display.slice(i).replace(/^[\s\u00a0.\-)/+]+/, "");
    }

    /** "+380 44 123 4567" */
    function internationalDisplay(answer) {
        const parts = splitE164(answer.number);
        return parts ? `+${parts.cc} ${displayRest(answer)}` : String(answer.display || "");
    }

    /** The national display with the page's own trunk prefix: "0" -> "044 123 4567". */
    function nationalDisplay(answer, prefix) {
        return (prefix || "") + displayRest(answer);
    }

    /**
     * The tracking number written like `original` (which writes the company
     * number): same digits before the national number, same separators.
     * @param {string} original the matched text, e.g. "(044) 123-45-67"
     * @param {{international: boolean, prefix: string}} match
     * @param {{cc: string, nsn: string}} companyParts
     * @param {Object} answer the endpoint's answer (number, display)
     */
    function formatLike(original, match, companyParts, answer) {
        const parts = splitE164(answer.number);
        if (!parts) {
            return original;
        }
        if (parts.cc !== companyParts.cc) {
            // Another country: its national format means nothing here.
            return internationalDisplay(answer);
        }
        const newDigits = match.prefix + parts.nsn;
        if (newDigits.length === digitsOf(original).length) {
            // Same length: lay the new digits into the page's own template.
            let i = 0;
            return original.replace(/\d/g, () => newDigits[i++]);
        }
        if (match.international) {
            const plus = /^\s*\+/.test(original);
            const international = internationalDisplay(answer);
            return plus ? international : international.replace(/^\+/, match.prefix.slice(0, -parts.cc.length));
        }
        return nationalDisplay(answer, match.prefix);
    }

    /**
     * Replace every occurrence of the company number in a piece of text.
     * @returns {string|null} the new text, or null when nothing matched
     */
    function replaceInText(text, companyParts, answer, minDigits) {
        let changed = false;
        const result = text.replace(PHONE_RE, (found) => {
            // The regexp may take a trailing separator-free group glued to the
            // number; only whole runs are compared.
            if (digitsOf(found).length < (minDigits || DEFAULTS.minDigits)) {
                return found;
            }
            const match = matchNumber(found, companyParts);
            if (!match) {
                return found;
            }
            changed = true;
            return formatLike(found, match, companyParts, answer);
        });
        return changed ? result : null;
    }

    /** The number a tel: href dials, or null. */
    function telNumber(href) {
        const m = /^\s*tel:([^?;]*)/i.exec(href || "");
        if (!m) {
            return null;
        }
        try {
            return decodeURIComponent(m[1]);
        } catch {
            return m[1];
        }
    }

    /** "GA1.1.1234567890.1700000000" -> "1234567890.1700000000" */
    function gaClientId(cookieString) {
        const m = /(?:^|;\s*)_ga=([^;]*)/.exec(cookieString || "");
        if (!m) {
            return "";
        }
        const fields = decodeURIComponent(m[1]).split(".");
        return fields.length >= 4 ? fields.slice(-2).join(".") : "";
    }

    function domReady() {
        if (document.readyState !== "loading") {
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            document.addEventListener("DOMContentLoaded", () => resolve(), {once: true});
        });
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

    // ------------------------------------------------------------------
    // Visitor key storage: localStorage, cookie as fallback
    // ------------------------------------------------------------------

    function readKey() {
        try {
            const value = root.localStorage.getItem(STORAGE_KEY);
            if (value) {
                return value;
            }
        } catch {
            // storage disabled (private mode, sandboxed iframe): use the cookie
        }
        const m = new RegExp("(?:^|;\\s*)" + STORAGE_KEY + "=([^;]*)").exec(document.cookie);
        return m ? decodeURIComponent(m[1]) : "";
    }

    function writeKey(value) {
        if (!value || value === readKey()) {
            return;
        }
        let stored = false;
        try {
            root.localStorage.setItem(STORAGE_KEY, value);
            stored = root.localStorage.getItem(STORAGE_KEY) === value;
        } catch {
            stored = false;
        }
        if (!stored) {
            const secure = root.location.protocol === "https:" ? "; Secure" : "";
            document.cookie =
                STORAGE_KEY +
                "=" +
                encodeURIComponent(value) +
                "; path=/; max-age=31536000; SameSite=Lax" +
                secure;
        }
    }

    // ------------------------------------------------------------------
    // The tracker
    // ------------------------------------------------------------------

    class Tracker {
        constructor(options) {
            this.options = Object.assign({}, DEFAULTS, options);
            this.endpoint = this.options.endpoint;
            this.companyParts = splitE164(this.options.number);
            this.answer = null;
            this.changes = []; // [{node, attr, value}] to restore
            this.lastActivity = Date.now();
            this.lastPing = 0;
            this.timer = null;
            this.observer = null;
            this.stopped = false;
            this._onActivity = this._onActivity.bind(this);
            this._onVisibility = this._onVisibility.bind(this);
            this._onClick = this._onClick.bind(this);
            this.ready = Promise.resolve(null);
        }

        start() {
            if (!this.endpoint || !this.companyParts) {
                return this;
            }
            // Ask at once; touch the page only once it is parsed.
            const answered = this.request();
            this.ready = Promise.all([answered, domReady()]).then(([answer]) => {
                if (answer && !this.stopped) {
                    this.apply(answer);
                    this._listen();
                }
                return this.stopped ? null : answer;
            });
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
            for (const name of ["mousemove", "keydown", "scroll", "touchstart", "click"]) {
                root.removeEventListener(name, this._onActivity, true);
            }
            document.removeEventListener("visibilitychange", this._onVisibility);
            document.removeEventListener("click", this._onClick, true);
            this.restore();
        }

        /** Ask the endpoint; resolve with a valid answer or null, never reject. */
        async request() {
            const payload = {
                url: root.location.href,
                referrer: document.referrer || "",
                ga_client_id: gaClientId(document.cookie),
            };
            const visitor = readKey();
            if (visitor) {
                payload.visitor = visitor;
            }
            const websiteId = parseInt(this.options.websiteId, 10);
            if (websiteId > 0) {
                payload.website_id = websiteId;
            }
            const controller = typeof AbortController === "function" ? new AbortController() : null;
            const timeout = setTimeout(() => controller && controller.abort(), this.options.timeout);
            this.lastPing = Date.now();
            try {
                const response = await root.fetch(this.endpoint, {
                    method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify(payload),
                    // cookies only on the Odoo website itself (links the website.visitor)
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
                writeKey(answer.visitor);
                return answer;
            } catch {
                // network error, CORS refusal, timeout, bad JSON: keep the page as it is
                return null;
            } finally {
                clearTimeout(timeout);
            }
        }

        /** Show `answer` on the page (restoring an earlier answer first). */
        apply(answer) {
            if (this.answer && this.answer.number === answer.number) {
                this.answer = answer;
                return;
            }
            this.restore();
            this.answer = answer;
            this._process(document.body);
        }

        restore() {
            for (const change of this.changes.reverse()) {
                if (change.attr) {
                    change.node.setAttribute(change.attr, change.value);
                } else {
                    change.node.data = change.value;
                }
            }
            this.changes = [];
            this.answer = null;
        }

        _isCompanyAnswer() {
            return digitsOf(this.answer.number) === this.companyParts.cc + this.companyParts.nsn;
        }

        _process(rootNode) {
            if (!rootNode || !this.answer || this._isCompanyAnswer()) {
                return;
            }
            const answer = this.answer;
            const minDigits = this.options.minDigits;
            // tel: links
            const links = [];
            if (rootNode.matches && rootNode.matches("a[href]")) {
                links.push(rootNode);
            }
            if (rootNode.querySelectorAll) {
                links.push(...rootNode.querySelectorAll("a[href]"));
            }
            for (const link of links) {
                const dialed = telNumber(link.getAttribute("href"));
                if (dialed !== null && !link.closest(SKIP_SELECTOR) && matchNumber(dialed, this.companyParts)) {
                    this._set(link, "href", answer.href);
                    link.dataset.callTrackingNumber = answer.number;
                }
            }
            // visible text
            const walker = document.createTreeWalker(rootNode, NodeFilter.SHOW_TEXT, {
                acceptNode: (node) =>
                    node.parentElement && !node.parentElement.closest(SKIP_SELECTOR) && /\d/.test(node.data)
                        ? NodeFilter.FILTER_ACCEPT
                        : NodeFilter.FILTER_REJECT,
            });
            const textNodes = [];
            if (rootNode.nodeType === Node.TEXT_NODE) {
                textNodes.push(rootNode);
            }
            while (walker.nextNode()) {
                textNodes.push(walker.currentNode);
            }
            for (const node of textNodes) {
                const replaced = replaceInText(node.data, this.companyParts, answer, minDigits);
                if (replaced !== null) {
                    this._set(node, null, replaced);
                }
            }
            // marked elements without the number in their text: fill them
            const marked = [];
            if (rootNode.matches && rootNode.matches(MARK_SELECTOR)) {
                marked.push(rootNode);
            }
            if (rootNode.querySelectorAll) {
                marked.push(...rootNode.querySelectorAll(MARK_SELECTOR));
            }
            for (const el of marked) {
                if (el.tagName === "A" && telNumber(el.getAttribute("href")) === null) {
                    this._set(el, "href", answer.href);
                }
                const text = el.textContent;
                if (el.children.length || digitsOf(text) === digitsOf(answer.number) || replaceInText(text, splitE164(answer.number), answer, minDigits) !== null) {
                    continue; // holds markup, or already shows the tracking number
                }
                // data-call-tracking="international" or "national"; else as the endpoint writes it
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
                el.dataset.callTrackingNumber = answer.number;
            }
        }

        _set(node, attr, value) {
            if (attr) {
                if (node.getAttribute(attr) === value) {
                    return;
                }
                this.changes.push({node, attr, value: node.getAttribute(attr)});
                node.setAttribute(attr, value);
            } else if (node.data !== value) {
                this.changes.push({node, attr: null, value: node.data});
                node.data = value;
            }
        }

        _listen() {
            for (const name of ["mousemove", "keydown", "scroll", "touchstart", "click"]) {
                root.addEventListener(name, this._onActivity, {capture: true, passive: true});
            }
            document.addEventListener("visibilitychange", this._onVisibility);
            document.addEventListener("click", this._onClick, true);
            this.timer = setInterval(() => this._maybePing(), Math.min(this.options.pingInterval, 15000));
            if (typeof MutationObserver === "function") {
                this.observer = new MutationObserver((records) => {
                    for (const record of records) {
                        for (const node of record.addedNodes) {
                            this._process(node);
                        }
                    }
                });
                this.observer.observe(document.body, {childList: true, subtree: true});
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

        /** Ping when visible, recently active and the last request is old enough. */
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
            const el = ev.target.closest("a[href], " + MARK_SELECTOR + ", [data-call-tracking-number]");
            if (!el) {
                return;
            }
            const dialed = el.tagName === "A" ? telNumber(el.getAttribute("href")) : null;
            const tracked =
                el.dataset.callTrackingNumber === this.answer.number ||
                (dialed !== null && digitsOf(dialed) === digitsOf(this.answer.number));
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

    // ------------------------------------------------------------------
    // Public API
    // ------------------------------------------------------------------

    let current = null;

    /**
     * Start substitution. Options: endpoint (URL of /call_tracking/number),
     * number (the company number in E.164, as written on the page),
     * websiteId; timeout, pingInterval, activityWindow (ms) for tuning.
     * Returns the tracker: `tracker.ready` resolves with the answer (or null
     * when the page was left unchanged), `tracker.stop()` restores the page.
     */
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
        utils: {digitsOf, splitE164, matchNumber, formatLike, displayRest, internationalDisplay, nationalDisplay, replaceInText, telNumber, gaClientId, isValidAnswer},
    };

    // Standalone: start from the attributes of our own <script> tag.
    const script = document.currentScript;
    if (script && script.dataset && script.dataset.number) {
        let endpoint = script.dataset.endpoint;
        if (!endpoint && script.src) {
            endpoint = new URL("/call_tracking/number", script.src).href;
        }
        init({endpoint, number: script.dataset.number, websiteId: script.dataset.websiteId});
    }
})(window);
