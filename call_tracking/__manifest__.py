{
    "name": "Call Tracking",
    "version": "18.0.1.1.0",
    "summary": "Static and dynamic call tracking: substitute numbers per channel "
    "or visitor, provider webhooks, attributed call leads, marketing reports",
    "category": "Sales/CRM",
    "author": "call_tracking developers",
    "website": "https://github.com/call-tracking/call_tracking",
    "license": "LGPL-3",
    "maintainers": ["call-tracking"],
    "development_status": "Beta",
    # website_crm brings crm, website, utm, phone_validation and mail
    "depends": ["website_crm"],
    "external_dependencies": {
        "python": [
            "phonenumbers",
            "requests",
            "crawler-user-agents",
            "ua-parser",
            # recordings: the audio type read from the bytes
            "filetype",
            # transcription: audio decoding (FFmpeg's libraries) and the English engine;
            # faster-whisper is optional (imported lazily, see requirements.txt)
            "av",
            "pocketsphinx",
        ]
    },
    "data": [
        "security/call_tracking_groups.xml",
        "security/ir.model.access.csv",
        "security/call_tracking_security.xml",
        "data/call_tracking_data.xml",
        "data/call_tracking_quality_reason_data.xml",
        "views/call_tracking_channel_views.xml",
        "views/call_tracking_number_views.xml",
        "views/call_tracking_pool_views.xml",
        "views/call_tracking_session_views.xml",
        "views/call_tracking_provider_views.xml",
        "views/call_tracking_provider_telnyx_views.xml",
        "views/call_tracking_call_views.xml",
        "views/call_tracking_blocked_number_views.xml",
        "views/call_tracking_webhook_event_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "views/call_tracking_setup_views.xml",
        "views/call_tracking_menus.xml",
        "views/call_tracking_templates.xml",
        "views/call_tracking_quality_reason_views.xml",
        "views/call_tracking_cost_views.xml",
        "report/call_tracking_call_report_views.xml",
        "report/call_tracking_cost_report_views.xml",
        "report/call_tracking_pool_report_views.xml",
        "views/call_tracking_conversion_views.xml",
        "data/call_tracking_reconcile_data.xml",
        "views/call_tracking_provider_reconcile_views.xml",
        "views/call_tracking_staffing_views.xml",
        "views/crm_lead_journey_views.xml",
        "views/call_tracking_audience_views.xml",
        "data/call_tracking_recording_data.xml",
        "views/call_tracking_recording_views.xml",
        "data/call_tracking_transcription_data.xml",
        "data/call_tracking_scorecard_data.xml",
        "data/call_tracking_rollup_data.xml",
        "views/call_tracking_tag_views.xml",
        "views/call_tracking_scorecard_views.xml",
        "views/res_config_settings_transcription_views.xml",
        "report/call_tracking_quality_report_views.xml",
    ],
    "demo": [
        "demo/call_tracking_demo.xml",
        # the call centre's salespeople and team, before the providers
        "demo/call_tracking_sales_demo.xml",
        # after demo/call_tracking_demo.xml (its numbers get the demo provider)
        "demo/call_tracking_provider_demo.xml",
        "demo/call_tracking_cost_demo.xml",
        # the company phone in the website's header and contact page
        "demo/call_tracking_website_demo.xml",
        # last: six months of visits and calls replayed through the real code
        "demo/call_tracking_traffic_demo.xml",
        "demo/call_tracking_destination_demo.xml",
        # after the traffic: the advice of its calls
        "demo/call_tracking_staffing_demo.xml",
        # example audiences of the demo callers
        "demo/call_tracking_audience_demo.xml",
        # after the traffic: heard calls with recordings, transcripts, tags, scores
        "demo/call_tracking_quality_demo.xml",
    ],
    # read by demo/call_tracking_traffic_demo.xml (the replay), not loaded
    # as data: listed for the OCA "file-not-used" check
    "oca_data_manual": ["demo/call_tracking_traffic_demo.csv"],
    "assets": {
        "web.assets_frontend": [
            # plain script (no Odoo module): also served to external sites
            "call_tracking/static/src/js/call_tracking_core.js",
            "call_tracking/static/src/js/call_tracking.js",
        ],
        "web.assets_backend": [
            "call_tracking/static/src/recording/audio_field.js",
            "call_tracking/static/src/recording/audio_field.xml",
            "call_tracking/static/src/recording/audio_field.scss",
        ],
        # pivot and graph views are loaded on demand (as crm's forecast views)
        "web.assets_backend_lazy": [
            "call_tracking/static/src/report/rollup_note.js",
            "call_tracking/static/src/report/rollup_note.xml",
        ],
        "web.assets_tests": [
            "call_tracking/static/tests/tours/call_tracking_tour.js",
            "call_tracking/static/tests/tours/call_tracking_backend_tour.js",
            "call_tracking/static/tests/tours/call_tracking_i18n_tour.js",
            "call_tracking/static/tests/tours/call_tracking_recording_tour.js",
            "call_tracking/static/tests/tours/call_tracking_quality_tour.js",
        ],
    },
    "application": True,
    "installable": True,
}
