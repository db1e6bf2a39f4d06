from dataclasses import FrozenInstanceError

from odoo.tests.common import BaseCase

from ..tools.recognition import (
    Channel,
    PreviousTouch,
    Rule,
    TrackingSetup,
    choose_channel,
    host_matches,
    host_of,
    match_channel,
    parse_touch,
    recognise,
)

SITE = "https://shop.example.com/"
GOOGLE_ADS = "https://shop.example.com/?utm_source=Google&utm_medium=cpc&gclid=abc"
FACEBOOK = "https://shop.example.com/offers?fbclid=IwAR0"
NO_FACTS = (False,) * 8


def make_setup():
    """Google Ads and Facebook Ads (dynamic), SEO (static), an offline
    billboard and a direct traffic channel, by priority."""
    return TrackingSetup.build(
        [
            Channel(
                id=5,
                name="Billboard",
                mode="static",
                is_offline=True,
                rules=(Rule.from_config(utm_source="billboard"),),
            ),
            Channel(
                id=10,
                name="Google Ads",
                mode="dynamic",
                pool_id=1,
                hold_minutes=30,
                rules=(
                    Rule.from_config(utm_source="google, AdWords", utm_medium="cpc"),
                    Rule.from_config(landing_param=" GCLID "),
                ),
            ),
            Channel(
                id=20,
                name="Facebook Ads",
                mode="dynamic",
                pool_id=1,
                rules=(
                    Rule.from_config(utm_source="facebook"),
                    Rule.from_config(landing_param="fbclid"),
                ),
            ),
            Channel(
                id=30,
                name="SEO",
                mode="static",
                rules=(Rule.from_config(referrer_type="search"),),
            ),
            Channel(id=40, name="Partner", mode="static", rules=(Rule(),)),
            Channel(id=100, name="Direct", mode="static", is_default=True),
        ],
        company_default="+12125550100",
        displays={"+12125550121": "(212) 555-0121"},
    )


class TestRecognitionFunctions(BaseCase):
    """The pure recognition functions of tools/recognition.py: no database."""

    def setUp(self):
        super().setUp()
        self.setup = make_setup()

    def channel_of(self, url, referrer=None):
        channel = recognise(self.setup, parse_touch(url, referrer))
        return channel and channel.name

    def test_hosts(self):
        self.assertEqual(host_of("https://WWW.Google.com./search?q=x"), "www.google.com")
        self.assertEqual(host_of("google.com"), "google.com")
        self.assertEqual(host_of("http://[bad"), "")
        self.assertEqual(host_of(None), "")
        self.assertTrue(host_matches("www.google.co.uk", "google."))
        self.assertTrue(host_matches("m.facebook.com", "facebook.com"))
        self.assertFalse(host_matches("notgoogle.com", "google.com"))
        self.assertFalse(host_matches("mygoogle.example", "google."))

    def test_parse_touch(self):
        touch = parse_touch(GOOGLE_ADS + "&UTM_TERM=boiler&utm_term=", "https://www.google.com/")
        self.assertEqual(touch.utm_source, "Google", "values are kept as sent")
        self.assertEqual(touch.utm_term, "boiler", "the first non-empty value, any case")
        self.assertEqual(touch.gclid, "abc")
        self.assertEqual(touch.referrer_host, "www.google.com")
        self.assertTrue(touch.is_arrival)
        self.assertEqual(touch.facts()["utm_medium"], "cpc")
        # internal navigation: same-site referrer, no marketing parameter
        internal = parse_touch("https://shop.example.com/contactus", SITE)
        self.assertFalse(internal.is_arrival)
        self.assertEqual(internal.referrer_host, "")
        self.assertEqual(internal.facts(), dict.fromkeys(internal.facts(), False))
        # a subdomain of the site is not an outside referrer either
        self.assertFalse(parse_touch(SITE, "https://blog.shop.example.com/").is_arrival)
        self.assertTrue(parse_touch(SITE, "https://partner.example.org/").is_arrival)
        self.assertFalse(parse_touch(None, None).is_arrival)

    def test_rules_and_priority(self):
        self.assertEqual(self.channel_of(GOOGLE_ADS), "Google Ads")
        self.assertEqual(
            self.channel_of("https://x.test/?utm_source=adwords&utm_medium=CPC"), "Google Ads"
        )
        # every filled condition of a rule must hold
        self.assertEqual(self.channel_of("https://x.test/?utm_source=google"), "Direct")
        self.assertEqual(self.channel_of(FACEBOOK), "Facebook Ads")
        self.assertEqual(self.channel_of("https://x.test/?gclid="), "Direct", "empty click id")
        # priority: Google Ads comes before Facebook Ads and SEO
        both = "https://x.test/?utm_source=facebook&gclid=1"
        self.assertEqual(self.channel_of(both), "Google Ads")
        self.assertEqual(self.channel_of(GOOGLE_ADS, "https://www.google.com/"), "Google Ads")
        self.assertEqual(self.channel_of(SITE, "https://duckduckgo.com/"), "SEO")
        # offline channels and empty rules never match
        self.assertEqual(self.channel_of("https://x.test/?utm_source=billboard"), "Direct")
        self.assertIsNone(match_channel(self.setup, parse_touch(SITE, "https://partner.example/")))

    def test_without_direct_channel(self):
        setup = TrackingSetup.build([c for c in self.setup.by_id.values() if not c.is_default])
        self.assertIsNone(recognise(setup, parse_touch(SITE, None)))
        self.assertEqual(setup.channel(5).name, "Billboard", "offline channels are known by id")
        self.assertEqual([c.id for c in setup.channels], [10, 20, 30, 40])

    def test_choose_channel(self):
        google = parse_touch(GOOGLE_ADS, "https://www.google.com/")
        first = choose_channel(self.setup, google)
        self.assertEqual((first.channel.id, first.same_touch, first.new_touch), (10, False, True))
        previous = PreviousTouch(10, tuple(google.facts().values()), "https://www.google.com/x")
        again = choose_channel(self.setup, google, previous)
        self.assertEqual((again.channel.id, again.same_touch, again.new_touch), (10, True, False))
        # a new click id is a new touch on the same channel
        other = parse_touch(GOOGLE_ADS.replace("abc", "def"), "https://www.google.com/")
        moved = choose_channel(self.setup, other, previous)
        self.assertEqual((moved.channel.id, moved.same_touch, moved.new_touch), (10, False, True))
        # internal navigation and direct returns keep the last touch's channel
        for touch in (parse_touch(SITE, SITE), parse_touch(SITE, None)):
            kept = choose_channel(self.setup, touch, previous)
            self.assertEqual((kept.channel.id, kept.same_touch, kept.new_touch), (10, True, False))
        # an unrecognised referral keeps it too
        kept = choose_channel(self.setup, parse_touch(SITE, "https://partner.example/"), previous)
        self.assertEqual(kept.channel.id, 10)
        # an offline or unknown previous channel is not kept: direct traffic
        home = parse_touch(SITE, None)
        for channel_id in (5, 999, False):
            direct = choose_channel(self.setup, home, PreviousTouch(channel_id, NO_FACTS))
            self.assertEqual((direct.channel.id, direct.same_touch), (100, False))
        direct = choose_channel(self.setup, home, PreviousTouch(100, NO_FACTS))
        self.assertEqual(
            (direct.channel.id, direct.same_touch, direct.new_touch), (100, True, False)
        )

    def test_setup_is_immutable(self):
        with self.assertRaises(FrozenInstanceError):
            self.setup.default_channel_id = 10
        with self.assertRaises(FrozenInstanceError):
            self.setup.channels[0].mode = "static"
        with self.assertRaises(TypeError):
            self.setup.by_id[1] = None
        with self.assertRaises(TypeError):
            parse_touch(GOOGLE_ADS, None).params["gclid"] = "x"
        self.assertEqual(self.setup.default_channel.name, "Direct")
        self.assertEqual(self.setup.display_of("+12125550121"), "(212) 555-0121")
        self.assertEqual(self.setup.display_of("+12125550122"), "+12125550122")
        self.assertEqual(self.setup.display_of(False), "")
