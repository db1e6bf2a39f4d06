/** @odoo-module **/

import {registry} from "@web/core/registry";

// Records created by call_tracking/tests/test_recording_access.py
// (TestRecordingTour): the opportunity "Recorded call lead" of the
// salesperson, with one call whose recording (a short WAV tone) is stored.
const LEAD = "Recorded call lead";
const PLAYER = ".o_field_widget[name=call_ids] .o_call_tracking_audio";

/** A salesperson on the lead (the test opens it) plays the call from the Calls tab at a
 * faster speed, then opens the call and finds the player on its form. */
registry.category("web_tour.tours").add("call_tracking_recording_tour", {
  steps: () => [
    {
      content: "The chatter's call note points to the recording",
      trigger:
        ".o-mail-Message-body a[href*='call_tracking.call_tracking_call_action']",
    },
    {
      content: "Open the Calls tab",
      trigger: ".o_notebook .nav-link:contains(Calls)",
      run: "click",
    },
    {
      content: "Choose a faster playback speed",
      trigger: `${PLAYER} select.o_call_tracking_audio_speed`,
      run: "select 1.5",
    },
    {
      content: "Play the recording",
      trigger: `${PLAYER} audio`,
      async run() {
        const audio = document.querySelector(`${PLAYER} audio`);
        audio.muted = true;
        await audio.play();
      },
    },
    {
      content: "The recording plays at the chosen speed",
      trigger: `${PLAYER} audio`,
      async run() {
        const audio = document.querySelector(`${PLAYER} audio`);
        const start = audio.currentTime;
        for (let i = 0; i < 50 && audio.currentTime <= start; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        if (audio.paused || audio.currentTime <= start) {
          throw new Error(
            `the recording does not play (paused: ${audio.paused}, time: ${audio.currentTime})`
          );
        }
        if (audio.playbackRate !== 1.5) {
          throw new Error(`playback rate ${audio.playbackRate}, expected 1.5`);
        }
        audio.pause();
      },
    },
    {
      content: "Keyboard: '>' speeds the player up to 2x",
      trigger: `${PLAYER} audio`,
      run() {
        const audio = document.querySelector(`${PLAYER} audio`);
        audio.dispatchEvent(new KeyboardEvent("keydown", {key: ">", bubbles: true}));
        if (audio.playbackRate !== 2) {
          throw new Error(`playback rate ${audio.playbackRate} after '>', expected 2`);
        }
      },
    },
    {
      content: "Open the call",
      trigger:
        ".o_field_widget[name=call_ids] .o_data_row td.o_data_cell[name=channel_id]",
      run: "click",
    },
    {
      content: "The call form has the player too",
      trigger:
        ".o_field_widget[name=recording_attachment_id] .o_call_tracking_audio audio[src^='/web/content/']",
    },
  ],
});
