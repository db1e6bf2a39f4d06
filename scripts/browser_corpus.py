"""Build call_tracking/tests/data/browser_user_agents.txt.gz: real browsers'
user agents from uap-core's labelled test data, to measure how many real
visitors the number endpoint would refuse as automated clients
(call_tracking/tests/test_visitor_trust.py, TestBrowserCorpus).

Usage: python scripts/browser_corpus.py UAP_CORE_CHECKOUT [COMMIT]

uap-core (https://github.com/ua-parser/uap-core, Apache License 2.0) is the
maintained rule set behind the ua-parser package the addon already uses; its
test files label each user agent with its browser family (tests/test_ua.yaml,
test_resources/*.yaml) or its device family (tests/test_device.yaml, where
"Spider" marks bots). Kept: user agents whose browser family is one of
BROWSERS below (web browsers and in-app browsers; no HTTP library, no
headless browser, no feed reader, no preview fetcher), and whose device
family is not "Spider". A user agent without a label in one of the files
gets the label ua-parser gives it (the same uap-core rules).
"""

import gzip
import sys
from pathlib import Path

import yaml
from ua_parser import parse

UA_FILES = (
    "tests/test_ua.yaml",
    "test_resources/firefox_user_agent_strings.yaml",
    "test_resources/opera_mini_user_agent_strings.yaml",
    "test_resources/pgts_browser_list.yaml",
)
DEVICE_FILE = "tests/test_device.yaml"
OUTPUT = Path(__file__).parent.parent / "call_tracking/tests/data/browser_user_agents.txt.gz"
BROWSERS = frozenset(
    """
Android|Chrome Mobile|Chrome|UC Browser|UP.Browser|IE Mobile|Opera Mobile|NetFront|NetFront NX
Opera|Obigo|Nokia Services (WAP) Browser|Chrome Mobile WebView|QQ Browser Mini|QQ Browser
QQ Browser Mobile|Opera Mini|Safari|Dolfin|Nokia OSS Browser|Ovi Browser|IE|Teleca Browser
BlackBerry|ONE Browser|Nokia Browser|Nokia|Yandex Browser|SEMC-Browser|Facebook|Instagram
BlackBerry WebKit|Mobile Safari UI/WKWebView|Baidu Explorer|Baidu Browser|Jasmine|Polaris|Puffin
Firefox|Amazon Silk|Mobile Safari|Brave|Firefox Mobile|Firefox iOS|Firefox Beta|Firefox Alpha
Firefox (Minefield)|Firefox (Shiretoko)|Firefox (Namoroka)|Firefox (GranParadiso)
Firefox (BonEcho)|Firefox Focus|WeChat Browser|Dolphin|MiuiBrowser|Edge Mobile|Edge
Samsung Internet|Whale|Honor Browser|Oculus Browser|Vivaldi|Avast Secure Browser|Pale Moon
Seznam prohlížeč|Aloha Browser|Iron|Midori|Coc Coc|Opera Touch|HeyTap Browser|DuckDuckGo Mobile
Maxthon|Chrome Mobile iOS|HTC|webOS Browser|Phantom Browser|Silk|Epiphany|Konqueror|SeaMonkey
Iceweasel|IceCat|Camino|Chromium|Opera Neon|Opera Coast|Huawei Browser|Sogou Explorer|Quark
Mint Browser|Vivo Browser|Kindle|Maemo Browser|Sleipnir|Sputnik|Amigo|Kiwi|Waterfox
Yandex Browser Lite|Arora|Galeon|K-Meleon|Flock|Fennec|Iceape|Swiftfox|Lunascape|Avant
Crazy Browser|Skyfire|Bolt|Tizen Browser|LG Browser|Qt Web Engine
""".replace("\n", "|")
    .strip("|")
    .split("|")
)


def labels(checkout):
    found = {}
    for name, key in [(f, "ua") for f in UA_FILES] + [(DEVICE_FILE, "device")]:
        with open(Path(checkout) / name, encoding="utf-8") as file:
            for case in yaml.safe_load(file)["test_cases"]:
                text = case["user_agent_string"]
                if isinstance(text, str) and text.strip() and "\n" not in text:
                    found.setdefault(text, {}).setdefault(key, case["family"])
    return found


def main(checkout, commit="unknown"):
    kept = []
    for text, label in labels(checkout).items():
        parsed = parse(text)
        family = label.get("ua") or (parsed.user_agent.family if parsed.user_agent else "Other")
        device = label.get("device") or (parsed.device.family if parsed.device else "Other")
        if family in BROWSERS and device != "Spider":
            kept.append(text)
    kept.sort()
    header = [
        "# Real browsers' user agents: uap-core's labelled test data",
        "# https://github.com/ua-parser/uap-core (Apache License 2.0), commit " + commit,
        "# built by scripts/browser_corpus.py (its docstring: which labels are kept)",
        f"# {len(kept)} user agents, one per line",
    ]
    with gzip.open(OUTPUT, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write("\n".join(header + kept) + "\n")
    print(f"{len(kept)} user agents -> {OUTPUT}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
